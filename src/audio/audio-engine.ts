import { VoiceAgentError, isAbortError, toVoiceAgentError } from '../errors.js';
import {
  CAPTURE_PROCESSOR,
  PLAYBACK_PROCESSOR,
  type CaptureCommand,
  type CaptureOptions,
  type CaptureOutput,
  type PlaybackCommand,
  type PlaybackOptions,
  type PlaybackOutput,
  type WorkletLoad,
} from './worklet-messages.js';
import { isMissing, openInput, outputSelectable, setSink, watchDevices } from './devices.js';
import { createAudioContext } from './audio-context.js';
import { playbackRoute, type PlaybackMode, type PlaybackRoute } from './playback-route.js';
import { WORKLET_NAMES, getDefaultWorkletSources, loadWorklet, type WorkletRoute, type WorkletSources } from './worklet-loader.js';

export interface AudioEngineOptions {
  /** Where the worklet code comes from, over the defaults (the files beside the module; the single-file builds' inline copies). */
  worklets?: WorkletSources;
  /** Forces the AudioContext rate; by default the device's rate is used and the worklets resample. */
  contextSampleRate?: number;
  /**
   * A context made already, inside the user's gesture (see `createAudioContext`); the engine owns it
   * from then on and closes it. Without one, the engine makes its own: call `prepare` in the gesture then.
   */
  context?: AudioContext;
  /** Capture frame length (default 20 ms). */
  frameMs?: number;
  /** The jitter buffer's floor: agent audio held back before a reply starts (default 40 ms). */
  prebufferMs?: number;
  /** The most the adaptive jitter buffer grows to after late audio (default 400 ms). */
  maxBufferMs?: number;
  /** False: always hold back exactly `prebufferMs` (a fixed prebuffer) instead of adapting. */
  adaptiveBuffer?: boolean;
  /**
   * Ring size of the player (default {@link DEFAULT_PLAYBACK_CAPACITY_SECONDS}: servers may send a whole
   * reply faster than realtime). Agent audio beyond it is dropped and counted (`overflowSamples`).
   */
  playbackCapacitySeconds?: number;
  /** Without `endReply()`, a reply is over once the player has been dry for this long (default 1 s). */
  replyGapMs?: number;
  muted?: boolean;
  /**
   * How long `start()` waits for the AudioContext to run (default 4 s). A context that never starts
   * (autoplay blocked, no output device) fails the start with `audio-failed` instead of a silent call.
   */
  startTimeoutMs?: number;
  /** Injected for hosts without `navigator.mediaDevices` and for tests. */
  getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
  /** The microphone's `deviceId`; empty for the system default. If it cannot be used, the default is, and `onDeviceLost` says so. */
  inputDeviceId?: string;
  /** The speaker's `deviceId`, where the context can choose its output (`setSinkId`); likewise. */
  outputDeviceId?: string;
  /** Where agent audio plays: `auto` (the default), `direct` or `echo-safe` (see {@link PlaybackMode}). */
  playback?: PlaybackMode;
}

/** What the player reports, for diagnostics and benchmarks. */
export interface PlaybackStats {
  playing: boolean;
  /** Times the queue ran dry inside a reply and more of it came later. */
  underruns: number;
  /** What the jitter buffer waits for before it starts a reply, in ms, as of the last playing edge. */
  targetMs: number;
  /** Samples dropped by barge-ins so far. */
  clearedSamples: number;
  /** Context frame at which the last barge-in took effect on the audio thread (-1 before any). */
  lastClearFrame: number;
  /**
   * Samples of agent audio dropped because the player was full: its ring, or before the player existed,
   * the queue the engine kept for it (as many samples as the ring holds). At the context's rate.
   */
  overflowSamples: number;
}

/** Edges of what is audible, and what each agent reply actually played. */
export type PlaybackEvent =
  | { type: 'playing'; playing: boolean }
  /** A reply ended: played out, or cut short by `interrupt()` after `playedMs` of it was heard. */
  | { type: 'reply'; playedMs: number; interrupted: boolean };

/** Figures from the worklets' own clocks and the player's buffer, since the last read. */
export interface AudioLoad {
  capture?: WorkletLoad;
  playback?: WorkletLoad & { underruns: number; targetMs: number; meanBufferedMs: number };
  /** One render quantum, in ms, at this context's rate. */
  quantumMs: number;
}

type FrameListener = (pcm: Int16Array) => void;

const MIC_CONSTRAINTS: MediaTrackConstraints = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
  channelCount: { ideal: 1 },
};
const GESTURE_EVENTS = ['pointerdown', 'keydown', 'touchend'] as const;
/** How long after a sink change settles a `suspended` context is still taken for that change's own pause. */
const SINK_CHANGE_GRACE_MS = 250;

/** The player's ring, by default: the most agent audio queued to play, in seconds. */
export const DEFAULT_PLAYBACK_CAPACITY_SECONDS = 30;

/**
 * Owns every audio resource of one call: the AudioContext, the microphone stream, the capture and
 * playback worklet nodes and the level meters. Knows nothing of sockets or tokens.
 *
 * Lifecycle: `prepare()` (synchronously, inside the user's click: creates and resumes the context),
 * `openMicrophone()`, `start(sampleRate)` once the session rate is known, `close()`. Agent audio
 * enqueued before `start()` is kept and played once the player exists.
 */
export class AudioEngine {
  static prepare(options: AudioEngineOptions): AudioEngine {
    let context: AudioContext;
    try {
      context = options.context ?? createAudioContext(options.contextSampleRate);
    } catch (cause) {
      throw new VoiceAgentError('audio-failed', 'The browser could not create an AudioContext.', { cause });
    }
    return new AudioEngine(context, options);
  }

  readonly context: AudioContext;
  private readonly _options: AudioEngineOptions;
  private readonly _modules: Promise<WorkletRoute[]>;
  private _stream?: MediaStream;
  private _source?: MediaStreamAudioSourceNode;
  private _capture?: AudioWorkletNode;
  private _playback?: AudioWorkletNode;
  private _route?: Promise<PlaybackRoute>;
  /** Player commands sent before the player exists (audio that came with `session.created`). */
  private _pending: PlaybackCommand[] = [];
  /** Agent audio in `_pending`, and what did not fit in it, in samples at the wire's rate. */
  private _pendingSamples = 0;
  private _pendingDropped = 0;
  private readonly _frameListeners = new Set<FrameListener>();
  private readonly _microphoneLostListeners = new Set<() => void>();
  private readonly _playbackListeners = new Set<(event: PlaybackEvent) => void>();
  private readonly _suspendListeners = new Set<(suspended: boolean) => void>();
  private readonly _marks = new Map<number, () => void>();
  private _nextMark = 0;
  private _loadReplies: ((load: AudioLoad) => void)[] = [];
  private _load?: AudioLoad;
  private _inputLevel = 0;
  private _outputLevel = 0;
  private _muted: boolean;
  /** The chosen microphone and speaker (`''`: the default). */
  private _inputId: string;
  private _outputId = '';
  /** Counts microphone requests: only the latest one's stream is used. */
  private _inputTurn = 0;
  /** The first microphone request, while it is under way. */
  private _opening?: Promise<unknown>;
  private readonly _deviceLostListeners = new Set<(error: VoiceAgentError) => void>();
  private readonly _unwatchDevices: () => void;
  private _started = false;
  private _suspended = false;
  /**
   * Sink changes under way (and a short grace after each). A running context's `setSinkId` passes through
   * `suspended` and back by itself (Web Audio, setSinkId steps); that is no interruption to show or resume.
   */
  private _sinkChanges = 0;
  private _closed = false;
  private readonly _stats: PlaybackStats = { playing: false, underruns: 0, targetMs: 0, clearedSamples: 0, lastClearFrame: -1, overflowSamples: 0 };

  private constructor(context: AudioContext, options: AudioEngineOptions) {
    this.context = context;
    this._options = options;
    this._muted = options.muted ?? false;
    this._inputId = options.inputDeviceId ?? '';
    void this.setOutputDevice(options.outputDeviceId ?? '');
    this._unwatchDevices = watchDevices(this._handleDeviceChange);
    // Outside one (a programmatic start), the next click or key press resumes it instead.
    if (navigator.userActivation && !navigator.userActivation.isActive) this._watchForResume(true);
    context.addEventListener('statechange', this._handleStateChange);
    // Start fetching the worklets now; they are needed only once the session starts.
    const sources = { ...getDefaultWorkletSources(), ...options.worklets };
    this._modules = Promise.all(WORKLET_NAMES.map((name) => loadWorklet(context, name, sources)));
    this._modules.catch(() => {}); // observed in start(); avoid an unhandled rejection meanwhile
  }

  /** Routes the worklet modules were loaded from (files beside the bundle, or the inline fallback). */
  get workletRoutes(): Promise<WorkletRoute[]> {
    return this._modules;
  }

  /**
   * Asks for the microphone. What makes asking pointless is found out first, without asking: a page
   * that is not a secure context, or a frame whose Permissions Policy withholds the microphone.
   */
  async openMicrophone(signal?: AbortSignal): Promise<void> {
    const blocked = microphoneBlocked();
    if (blocked) throw blocked;
    const opening = this._openInput();
    this._opening = opening.catch(() => {});
    const stream = await opening;
    if (this._closed || signal?.aborted) {
      stopTracks(stream);
      signal?.throwIfAborted();
      throw new VoiceAgentError('audio-failed', 'The audio engine was closed while the microphone opened.');
    }
    this._useStream(stream);
  }

  /**
   * Switches the microphone (`''`: the default), during a call too: the new device's stream feeds the
   * same capture node and the previous one stops. If it cannot be used, the default is, and
   * `onDeviceLost` says so; rejects (keeping the current microphone) only if no microphone opens.
   */
  async setInputDevice(id: string): Promise<void> {
    if (id === this._inputId) return;
    this._inputId = id;
    const turn = ++this._inputTurn;
    await this._opening;
    if (this._stream && turn === this._inputTurn) this._adopt(await this._openInput(), turn);
  }

  /**
   * Plays on the output device `id` (`''`: the default) where the context can choose one (Chromium);
   * elsewhere it does nothing. If the device cannot be used, the default is, and `onDeviceLost` says so.
   */
  async setOutputDevice(id: string): Promise<void> {
    if (id === this._outputId || !outputSelectable()) return;
    this._outputId = id;
    await this._sink();
  }

  /** Points the context, and the playback route once there is one (its `<audio>` element), at the chosen speaker. */
  private async _sink(): Promise<void> {
    const id = this._outputId;
    this._sinkChanges++;
    try {
      await setSink([this.context, await this._route], id).catch(() => {
        if (id && id === this._outputId && !this._closed) this._outputGone();
      });
    } finally {
      // The context's own `running` again is queued as a task of its own, which may come after the promise.
      setTimeout(() => {
        this._sinkChanges--;
        this._handleStateChange();
      }, SINK_CHANGE_GRACE_MS);
    }
  }

  /** Told (with a non-fatal `device-lost`) when the chosen microphone or speaker is replaced by the default. */
  onDeviceLost(listener: (error: VoiceAgentError) => void): () => void {
    this._deviceLostListeners.add(listener);
    return () => this._deviceLostListeners.delete(listener);
  }

  /** Builds the audio graph for a session at `sampleRate` (the rate on the wire, both ways). */
  async start(sampleRate: number, signal?: AbortSignal): Promise<void> {
    const { context } = this;
    const route = (this._route ??= playbackRoute(context, this._options.playback));
    await this._whenReady(signal);
    const { input } = await route;
    if (this._outputId) void this._sink();
    signal?.throwIfAborted();
    if (this._closed) throw new VoiceAgentError('audio-failed', 'The audio engine is closed.');
    const frameMs = this._options.frameMs ?? 20;
    try {
      const { prebufferMs = 40, maxBufferMs = 400, adaptiveBuffer = true, playbackCapacitySeconds = DEFAULT_PLAYBACK_CAPACITY_SECONDS, replyGapMs = 1000 } = this._options;
      const playbackOptions: PlaybackOptions = {
        sourceRate: sampleRate,
        prebufferMs,
        maxBufferMs,
        adaptive: adaptiveBuffer,
        capacitySeconds: playbackCapacitySeconds,
        replyGapMs,
      };
      this._playback = new AudioWorkletNode(context, PLAYBACK_PROCESSOR, {
        numberOfInputs: 0,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        processorOptions: playbackOptions,
      });
      this._playback.port.onmessage = (event: MessageEvent<PlaybackOutput>) => this._handlePlayback(event.data);
      this._playback.connect(input);

      if (this._stream) {
        const captureOptions: CaptureOptions = {
          targetRate: sampleRate,
          frameSamples: Math.round((sampleRate * frameMs) / 1000),
          muted: this._muted,
        };
        this._source = new MediaStreamAudioSourceNode(context, { mediaStream: this._stream });
        this._capture = new AudioWorkletNode(context, CAPTURE_PROCESSOR, {
          numberOfInputs: 1,
          numberOfOutputs: 0,
          channelCount: 1,
          channelCountMode: 'explicit',
          processorOptions: captureOptions,
        });
        this._capture.port.onmessage = (event: MessageEvent<CaptureOutput>) => this._handleCapture(event.data);
        this._source.connect(this._capture);
      }
    } catch (cause) {
      throw new VoiceAgentError('audio-failed', 'The audio graph could not be built.', { cause });
    }
    this._started = true;
    const queued = this._pending;
    this._pending = [];
    if (this._pendingDropped > 0) this._stats.overflowSamples += Math.round((this._pendingDropped * context.sampleRate) / sampleRate);
    this._pendingSamples = this._pendingDropped = 0;
    for (const command of queued) this._postPlayback(command);
  }

  /** The worklets are loaded and the context runs, within `startTimeoutMs`; else `audio-failed`. */
  private async _whenReady(signal?: AbortSignal): Promise<void> {
    const timeoutMs = this._options.startTimeoutMs ?? 4000;
    const { context } = this;
    let onStateChange: (() => void) | undefined;
    let onAbort: (() => void) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const running = new Promise<void>((resolve) => {
      onStateChange = () => {
        if (context.state === 'running') resolve();
      };
      context.addEventListener('statechange', onStateChange);
      onStateChange();
    });
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const stuck = context.state === 'running' ? 'its worklets did not load' : `the AudioContext stayed "${context.state}"`;
        reject(
          new VoiceAgentError(
            'audio-failed',
            `Audio did not start within ${timeoutMs} ms (${stuck}): the browser blocked it (start calls from a click) or has no audio output device.`,
          ),
        );
      }, timeoutMs);
      onAbort = () => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([Promise.all([this._modules, running]), failed]);
    } catch (error) {
      throw isAbortError(error) ? error : toVoiceAgentError(error, 'audio-failed');
    } finally {
      clearTimeout(timer);
      context.removeEventListener('statechange', onStateChange!);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Called once if the microphone stops during the call: unplugged, or access withdrawn. */
  onMicrophoneLost(listener: () => void): () => void {
    this._microphoneLostListeners.add(listener);
    return () => this._microphoneLostListeners.delete(listener);
  }

  /** Subscribes to captured frames: mono PCM16 at the session rate, `frameMs` each. */
  onFrame(listener: FrameListener): () => void {
    this._frameListeners.add(listener);
    return () => this._frameListeners.delete(listener);
  }

  /**
   * Queues agent audio (mono PCM16 at the session rate) for gapless playback. What does not fit in the
   * player is dropped and counted (`playbackStats.overflowSamples`): before the player exists, the
   * engine keeps as many samples as the player's ring holds.
   */
  enqueue(pcm: Int16Array): void {
    if (pcm.length === 0 || this._closed) return;
    if (!this._playback) {
      const room = Math.ceil((this._options.playbackCapacitySeconds ?? DEFAULT_PLAYBACK_CAPACITY_SECONDS) * this.context.sampleRate) - this._pendingSamples;
      if (pcm.length > room) {
        this._pendingDropped += pcm.length - Math.max(0, room);
        if (room <= 0) return;
        pcm = pcm.subarray(0, room);
      }
      this._pendingSamples += pcm.length;
    }
    // Copy only when the array is a view on a larger buffer; otherwise transfer the buffer itself.
    const buffer = pcm.byteOffset === 0 && pcm.byteLength === pcm.buffer.byteLength ? pcm.buffer : pcm.slice().buffer;
    this._postPlayback({ type: 'enqueue', pcm: buffer as ArrayBuffer });
  }

  /** The current reply's audio is complete: the player plays out what it holds without waiting for more. */
  endReply(): void {
    this._postPlayback({ type: 'end' });
  }

  /** Calls `reached` once everything enqueued so far has been heard. Dropped by `interrupt()` and `close()`. */
  mark(reached: () => void): void {
    const id = ++this._nextMark;
    this._marks.set(id, reached);
    this._postPlayback({ type: 'mark', id });
  }

  /** Barge-in: drops every queued sample of agent audio; silence from the next render quantum. */
  interrupt(): void {
    this._pending = [];
    this._pendingSamples = 0;
    this._marks.clear();
    this._postPlayback({ type: 'clear' });
  }

  /** Edges of audible agent audio and each reply's played length. */
  onPlayback(listener: (event: PlaybackEvent) => void): () => void {
    this._playbackListeners.add(listener);
    return () => this._playbackListeners.delete(listener);
  }

  /**
   * Told when the browser suspends the running context (a phone call, a backgrounded tab) and when it
   * runs again. Meanwhile the engine resumes it when the page is shown again or on the next tap.
   */
  onSuspend(listener: (suspended: boolean) => void): () => void {
    this._suspendListeners.add(listener);
    return () => this._suspendListeners.delete(listener);
  }

  /** Resumes a context the browser suspended; call it from a user gesture. */
  resume(): void {
    void this.context.resume().catch(() => {});
  }

  get suspended(): boolean {
    return this._suspended;
  }

  /** Worklet time per quantum and the player's buffer figures since the last read (for benchmarks). */
  readLoad(): Promise<AudioLoad> {
    const done = new Promise<AudioLoad>((resolve) => this._loadReplies.push(resolve));
    this._load = { quantumMs: (128 / this.context.sampleRate) * 1000 };
    const command = { type: 'stats' } as const;
    this._capture?.port.postMessage(command);
    this._playback?.port.postMessage(command);
    if (!this._capture && !this._playback) this._settleLoad();
    return done;
  }

  setMuted(muted: boolean): void {
    this._muted = muted;
    for (const track of this._stream?.getAudioTracks() ?? []) track.enabled = !muted;
    const command: CaptureCommand = { type: 'mute', muted };
    this._capture?.port.postMessage(command);
  }

  get sampleRate(): number {
    return this.context.sampleRate;
  }

  /** Microphone level, RMS in 0..1 of the last 20 ms frame (from the capture worklet). */
  get inputLevel(): number {
    return this._muted ? 0 : this._inputLevel;
  }

  /** Agent playback level, RMS in 0..1 of the last ~20 ms rendered (from the player). */
  get outputLevel(): number {
    return this._outputLevel;
  }

  get playbackStats(): Readonly<PlaybackStats> {
    return this._stats;
  }

  /** Stops every track, disconnects every node and closes the context. Idempotent. */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    for (const listeners of [this._frameListeners, this._microphoneLostListeners, this._deviceLostListeners, this._playbackListeners, this._suspendListeners, this._marks]) {
      listeners.clear();
    }
    this._unwatchDevices();
    this._pending = [];
    this._pendingSamples = 0;
    this._watchForResume(false);
    this.context.removeEventListener('statechange', this._handleStateChange);
    if (this._stream) this._release(this._stream);
    void this._route?.then((route) => route.close());
    for (const node of [this._source, this._capture, this._playback]) node?.disconnect();
    if (this._capture) this._capture.port.onmessage = null;
    if (this._playback) this._playback.port.onmessage = null;
    this._stream = this._source = this._capture = this._playback = undefined;
    this._inputLevel = this._outputLevel = 0;
    if (this.context.state !== 'closed') await this.context.close().catch(() => {});
  }

  /** Opens the chosen microphone, or the default one when the chosen cannot be used (and says so). */
  private async _openInput(): Promise<MediaStream> {
    const getUserMedia =
      this._options.getUserMedia ?? (navigator.mediaDevices ? (c: MediaStreamConstraints) => navigator.mediaDevices.getUserMedia(c) : undefined);
    if (!getUserMedia) {
      throw new VoiceAgentError('mic-unavailable', 'This browser offers no microphone API (navigator.mediaDevices is missing).');
    }
    const id = this._inputId;
    let opened: [MediaStream, boolean];
    try {
      opened = await openInput(getUserMedia, MIC_CONSTRAINTS, id);
    } catch (error) {
      throw microphoneError(error);
    }
    if (opened[1]) {
      if (id === this._inputId) this._inputId = '';
      this._deviceLost('microphone');
    }
    return opened[0];
  }

  /** Uses a newly opened stream, unless a later request or `close()` overtook it. */
  private _adopt(stream: MediaStream, turn: number): boolean {
    const current = turn === this._inputTurn && !this._closed;
    if (current) this._useStream(stream);
    else stopTracks(stream);
    return current;
  }

  /** Makes `stream` the microphone: into the capture node if it exists; the previous stream stops. */
  private _useStream(stream: MediaStream): void {
    const previous = this._stream;
    this._stream = stream;
    for (const track of stream.getAudioTracks()) {
      track.enabled = !this._muted;
      // Fired when the device goes away or access is withdrawn (never for our own stop()). Firefox
      // hands some `ended` events only to `onended`, so both routes lead to the one handler.
      track.addEventListener('ended', this._handleTrackEnded);
      track.onended = this._handleTrackEnded;
    }
    if (previous) this._release(previous);
    if (this._capture) {
      this._source?.disconnect();
      this._source = new MediaStreamAudioSourceNode(this.context, { mediaStream: stream });
      this._source.connect(this._capture);
    }
  }

  private _release(stream: MediaStream): void {
    for (const track of stream.getAudioTracks()) {
      track.removeEventListener('ended', this._handleTrackEnded);
      track.onended = null;
    }
    stopTracks(stream);
  }

  /** The chosen microphone went away: the default one takes over, or the call has lost its microphone. */
  private _inputGone(): void {
    this._inputId = '';
    this._release(this._stream!);
    const turn = ++this._inputTurn;
    this._openInput().then(
      (stream) => this._adopt(stream, turn) && this._deviceLost('microphone'),
      this._handleTrackEnded,
    );
  }

  private _outputGone(): void {
    this._outputId = '';
    void this._sink();
    this._deviceLost('speaker');
  }

  private _deviceLost(device: 'microphone' | 'speaker'): void {
    const error = new VoiceAgentError('device-lost', `The chosen ${device} is not available; the default ${device} is used.`, {
      fatal: false,
      reason: device,
    });
    for (const listener of this._deviceLostListeners) listener(error);
  }

  /** A device was plugged in or out: is the chosen microphone or speaker still there? */
  private readonly _handleDeviceChange = async (): Promise<void> => {
    const input = this._inputId;
    const output = this._outputId;
    if (input && this._stream && (await isMissing('audioinput', input)) && input === this._inputId && !this._closed) this._inputGone();
    if (output && (await isMissing('audiooutput', output)) && output === this._outputId && !this._closed) this._outputGone();
  };

  private readonly _handleTrackEnded = (): void => {
    if (this._closed) return;
    if (this._inputId) return this._inputGone();
    const listeners = [...this._microphoneLostListeners];
    this._microphoneLostListeners.clear();
    for (const listener of listeners) listener();
  };

  private _handleCapture(message: CaptureOutput): void {
    if (message.type === 'stats') {
      this._load!.capture = message;
      return this._settleLoad();
    }
    this._inputLevel = message.rms;
    const pcm = new Int16Array(message.pcm);
    for (const listener of this._frameListeners) listener(pcm);
  }

  private _handlePlayback(message: PlaybackOutput): void {
    const stats = this._stats;
    const ms = (samples: number) => (samples / this.context.sampleRate) * 1000;
    switch (message.type) {
      case 'state':
        stats.playing = message.playing;
        stats.underruns = message.underruns;
        stats.targetMs = message.targetMs;
        this._emitPlayback({ type: 'playing', playing: message.playing });
        break;
      case 'level':
        this._outputLevel = message.rms;
        break;
      case 'mark': {
        const reached = this._marks.get(message.id);
        this._marks.delete(message.id);
        reached?.();
        break;
      }
      case 'reply':
        this._emitPlayback({ type: 'reply', playedMs: ms(message.playedSamples), interrupted: false });
        break;
      case 'cleared':
        stats.clearedSamples += message.droppedSamples;
        stats.lastClearFrame = message.frame;
        this._outputLevel = 0;
        if (message.playedSamples > 0) this._emitPlayback({ type: 'reply', playedMs: ms(message.playedSamples), interrupted: true });
        break;
      case 'overflow':
        stats.overflowSamples += message.droppedSamples;
        break;
      case 'stats':
        this._load!.playback = message;
        this._settleLoad();
        break;
    }
  }

  private _emitPlayback(event: PlaybackEvent): void {
    for (const listener of this._playbackListeners) listener(event);
  }

  /** Answers `readLoad()` once every worklet that exists has reported. */
  private _settleLoad(): void {
    const load = this._load;
    if (!load || (this._capture && !load.capture) || (this._playback && !load.playback)) return;
    this._load = undefined;
    for (const reply of this._loadReplies.splice(0)) reply(load);
  }

  private _postPlayback(command: PlaybackCommand): void {
    if (this._closed) return;
    if (!this._playback) {
      this._pending.push(command);
      return;
    }
    this._playback.port.postMessage(command, command.type === 'enqueue' ? [command.pcm] : []);
  }

  /**
   * While the context waits for the user (created outside a gesture, or suspended by the browser):
   * the next tap or key press resumes it, and so does the page becoming visible again.
   */
  private _watchForResume(on: boolean): void {
    const method = on ? 'addEventListener' : 'removeEventListener';
    for (const type of GESTURE_EVENTS) document[method](type, this._handleGesture, { capture: true, passive: true });
    document[method]('visibilitychange', this._handleGesture);
  }

  private readonly _handleGesture = (): void => {
    if (!this._closed && document.visibilityState === 'visible') this.resume();
  };

  private readonly _handleStateChange = (): void => {
    const running = this.context.state === 'running';
    if (this._closed || (this._sinkChanges > 0 && this.context.state === 'suspended')) return;
    this._watchForResume(!running);
    // Only a live call's context counts as suspended: before start(), start()'s own wait applies.
    const suspended = this._started && !running;
    if (suspended === this._suspended) return;
    this._suspended = suspended;
    for (const listener of this._suspendListeners) listener(suspended);
  };
}

function stopTracks(stream: MediaStream): void {
  for (const track of stream.getTracks()) track.stop();
}

interface PolicyDocument extends Document {
  permissionsPolicy?: { allowsFeature(feature: string): boolean };
  featurePolicy?: { allowsFeature(feature: string): boolean };
}

/** Why asking for the microphone cannot succeed here, found without asking; undefined if it may. */
function microphoneBlocked(): VoiceAgentError | undefined {
  if (!globalThis.isSecureContext) {
    return new VoiceAgentError(
      'mic-unavailable',
      'This page is not a secure context: browsers offer the microphone only to https pages (and localhost).',
      { reason: 'insecure-context' },
    );
  }
  if (frameWithholdsMicrophone()) {
    return new VoiceAgentError(
      'mic-denied',
      'The microphone is blocked for this frame by its Permissions Policy: the embedding iframe needs allow="microphone".',
      { reason: 'frame-policy' },
    );
  }
  return undefined;
}

/** Chromium tells through `document.featurePolicy` (`permissionsPolicy` is its future name); the others cannot tell. */
function frameWithholdsMicrophone(): boolean {
  const { permissionsPolicy, featurePolicy } = document as PolicyDocument;
  const policy = permissionsPolicy ?? featurePolicy;
  return policy ? !policy.allowsFeature('microphone') : false;
}

function microphoneError(error: unknown): VoiceAgentError {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    // Where the frame's policy could not be read before asking (Firefox, Safari), say what it may be.
    if (window.top !== window) {
      return new VoiceAgentError('mic-denied', 'Microphone access was denied. In an embedded frame, the iframe may need allow="microphone".', { cause: error, reason: 'framed' });
    }
    return new VoiceAgentError('mic-denied', 'Microphone access was denied.', { cause: error });
  }
  // WebKit answers OverconstrainedError when it has no audio input at all.
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return new VoiceAgentError('mic-unavailable', `No microphone was found (${name}).`, { cause: error, reason: 'no-device' });
  }
  return new VoiceAgentError('mic-unavailable', `The microphone could not be opened (${name || 'unknown error'}).`, { cause: error });
}
