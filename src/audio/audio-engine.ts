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
} from '../../worklets/messages.js';
import { rms } from '../../worklets/lib/pcm16.js';
import { WORKLET_NAMES, getDefaultWorkletSources, loadWorklet, type WorkletRoute, type WorkletSources } from './worklet-loader.js';

export interface AudioEngineOptions {
  /** Where the worklet code comes from; defaults to what the bundle entry configured. */
  worklets?: WorkletSources;
  /** Forces the AudioContext rate; by default the device's rate is used and the worklets resample. */
  contextSampleRate?: number;
  /** Capture frame length (default 20 ms). */
  frameMs?: number;
  /** Agent audio held back before playback starts (default 60 ms). */
  prebufferMs?: number;
  /** Ring size of the player (default 30 s: servers may send a whole reply faster than realtime). */
  playbackCapacitySeconds?: number;
  muted?: boolean;
  /**
   * How long `start()` waits for the AudioContext to run (default 4 s). A context that never starts
   * (autoplay blocked, no output device) fails the start with `audio-failed` instead of a silent call.
   */
  startTimeoutMs?: number;
  /** Injected for hosts without `navigator.mediaDevices` and for tests. */
  getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
}

/** What the player reports, for diagnostics and benchmarks. */
export interface PlaybackStats {
  playing: boolean;
  underruns: number;
  /** Samples dropped by barge-ins so far. */
  clearedSamples: number;
  /** Context frame at which the last barge-in took effect on the audio thread (-1 before any). */
  lastClearFrame: number;
  /** Samples dropped because the ring was full. */
  overflowSamples: number;
}

type FrameListener = (pcm: Int16Array) => void;

const MIC_CONSTRAINTS: MediaTrackConstraints = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
  channelCount: { ideal: 1 },
};
const GESTURE_EVENTS = ['pointerdown', 'keydown', 'touchend'] as const;

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
      const init: AudioContextOptions = { latencyHint: 'interactive' };
      if (options.contextSampleRate) init.sampleRate = options.contextSampleRate;
      context = new AudioContext(init);
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
  private _inputMeter?: AnalyserNode;
  private _outputMeter?: AnalyserNode;
  private _meterBuffer?: Float32Array<ArrayBuffer>;
  private _pendingAudio: Int16Array[] = [];
  private readonly _frameListeners = new Set<FrameListener>();
  private readonly _microphoneLostListeners = new Set<() => void>();
  private _muted: boolean;
  private _closed = false;
  private readonly _stats: PlaybackStats = { playing: false, underruns: 0, clearedSamples: 0, lastClearFrame: -1, overflowSamples: 0 };

  private constructor(context: AudioContext, options: AudioEngineOptions) {
    this.context = context;
    this._options = options;
    this._muted = options.muted ?? false;
    // Inside the gesture: iOS and Safari only let a context start from one.
    void context.resume().catch(() => {});
    // Outside one (a programmatic start), the next click or key press resumes it instead.
    if (navigator.userActivation && !navigator.userActivation.isActive) this._resumeOnNextGesture();
    // Start fetching the worklets now; they are needed only once the session starts.
    const sources = options.worklets ?? getDefaultWorkletSources();
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
    const getUserMedia =
      this._options.getUserMedia ?? (navigator.mediaDevices ? (c: MediaStreamConstraints) => navigator.mediaDevices.getUserMedia(c) : undefined);
    if (!getUserMedia) {
      throw new VoiceAgentError('mic-unavailable', 'This browser offers no microphone API (navigator.mediaDevices is missing).');
    }
    let stream: MediaStream;
    try {
      stream = await getUserMedia({ audio: MIC_CONSTRAINTS, video: false });
    } catch (error) {
      throw microphoneError(error);
    }
    if (this._closed || signal?.aborted) {
      stopTracks(stream);
      signal?.throwIfAborted();
      throw new VoiceAgentError('audio-failed', 'The audio engine was closed while the microphone opened.');
    }
    this._stream = stream;
    for (const track of stream.getAudioTracks()) {
      track.enabled = !this._muted;
      // Fired when the device goes away or access is withdrawn (never for our own stop()). Firefox
      // hands some `ended` events only to `onended`, so both routes lead to the one handler.
      track.addEventListener('ended', this._handleTrackEnded);
      track.onended = this._handleTrackEnded;
    }
  }

  /** Builds the audio graph for a session at `sampleRate` (the rate on the wire, both ways). */
  async start(sampleRate: number, signal?: AbortSignal): Promise<void> {
    await this._whenReady(signal);
    signal?.throwIfAborted();
    if (this._closed) throw new VoiceAgentError('audio-failed', 'The audio engine is closed.');
    const { context } = this;
    const frameMs = this._options.frameMs ?? 20;
    try {
      const playbackOptions: PlaybackOptions = {
        sourceRate: sampleRate,
        prebufferMs: this._options.prebufferMs ?? 60,
        capacitySeconds: this._options.playbackCapacitySeconds ?? 30,
      };
      this._playback = new AudioWorkletNode(context, PLAYBACK_PROCESSOR, {
        numberOfInputs: 0,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        processorOptions: playbackOptions,
      });
      this._playback.port.onmessage = (event: MessageEvent<PlaybackOutput>) => this._handlePlayback(event.data);
      this._outputMeter = new AnalyserNode(context, { fftSize: 1024 });
      this._playback.connect(this._outputMeter);
      this._playback.connect(context.destination);

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
        this._capture.port.onmessage = (event: MessageEvent<CaptureOutput>) => this._handleFrame(event.data);
        this._inputMeter = new AnalyserNode(context, { fftSize: 1024 });
        this._source.connect(this._capture);
        this._source.connect(this._inputMeter);
      }
    } catch (cause) {
      throw new VoiceAgentError('audio-failed', 'The audio graph could not be built.', { cause });
    }
    const queued = this._pendingAudio;
    this._pendingAudio = [];
    for (const pcm of queued) this.enqueue(pcm);
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

  /** Queues agent audio (mono PCM16 at the session rate) for gapless playback. */
  enqueue(pcm: Int16Array): void {
    if (this._closed || pcm.length === 0) return;
    if (!this._playback) {
      this._pendingAudio.push(pcm);
      return;
    }
    // Copy only when the array is a view on a larger buffer; otherwise transfer the buffer itself.
    const buffer = pcm.byteOffset === 0 && pcm.byteLength === pcm.buffer.byteLength ? pcm.buffer : pcm.slice().buffer;
    this._postPlayback({ type: 'enqueue', pcm: buffer as ArrayBuffer }, [buffer as ArrayBuffer]);
  }

  /** Barge-in: drops every queued sample of agent audio; silence from the next render quantum. */
  interrupt(): void {
    this._pendingAudio = [];
    this._postPlayback({ type: 'clear' });
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

  /** Microphone level, RMS in 0..1 over the last ~20 ms. */
  get inputLevel(): number {
    return this._muted ? 0 : this._level(this._inputMeter);
  }

  /** Agent playback level, RMS in 0..1 over the last ~20 ms. */
  get outputLevel(): number {
    return this._level(this._outputMeter);
  }

  get playbackStats(): Readonly<PlaybackStats> {
    return this._stats;
  }

  /** Stops every track, disconnects every node and closes the context. Idempotent. */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    this._frameListeners.clear();
    this._microphoneLostListeners.clear();
    this._pendingAudio = [];
    this._removeGestureListeners();
    if (this._stream) {
      for (const track of this._stream.getAudioTracks()) {
        track.removeEventListener('ended', this._handleTrackEnded);
        track.onended = null;
      }
      stopTracks(this._stream);
    }
    for (const node of [this._source, this._capture, this._playback, this._inputMeter, this._outputMeter]) node?.disconnect();
    if (this._capture) this._capture.port.onmessage = null;
    if (this._playback) this._playback.port.onmessage = null;
    this._stream = this._source = this._capture = this._playback = this._inputMeter = this._outputMeter = undefined;
    if (this.context.state !== 'closed') await this.context.close().catch(() => {});
  }

  private _level(meter: AnalyserNode | undefined): number {
    if (!meter) return 0;
    const buffer = (this._meterBuffer ??= new Float32Array(meter.fftSize));
    meter.getFloatTimeDomainData(buffer);
    return rms(buffer);
  }

  private readonly _handleTrackEnded = (): void => {
    if (this._closed) return;
    const listeners = [...this._microphoneLostListeners];
    this._microphoneLostListeners.clear();
    for (const listener of listeners) listener();
  };

  private _handleFrame(message: CaptureOutput): void {
    const pcm = new Int16Array(message.pcm);
    for (const listener of this._frameListeners) listener(pcm);
  }

  private _handlePlayback(message: PlaybackOutput): void {
    switch (message.type) {
      case 'state':
        this._stats.playing = message.playing;
        this._stats.underruns = message.underruns;
        break;
      case 'cleared':
        this._stats.clearedSamples += message.droppedSamples;
        this._stats.lastClearFrame = message.frame;
        break;
      case 'overflow':
        this._stats.overflowSamples += message.droppedSamples;
        break;
    }
  }

  private _postPlayback(command: PlaybackCommand, transfer: Transferable[] = []): void {
    this._playback?.port.postMessage(command, transfer);
  }

  /** A context created outside a gesture stays suspended; the next click or key press resumes it. */
  private _resumeOnNextGesture(): void {
    for (const type of GESTURE_EVENTS) document.addEventListener(type, this._handleGesture, { capture: true, passive: true });
  }

  private _removeGestureListeners(): void {
    for (const type of GESTURE_EVENTS) document.removeEventListener(type, this._handleGesture, { capture: true });
  }

  private readonly _handleGesture = (): void => {
    this._removeGestureListeners();
    if (!this._closed) void this.context.resume().catch(() => {});
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
    const framed = window.top !== window ? ' In an embedded frame, the iframe may need allow="microphone".' : '';
    return new VoiceAgentError('mic-denied', `Microphone access was denied.${framed}`, { cause: error });
  }
  // WebKit answers OverconstrainedError when it has no audio input at all.
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return new VoiceAgentError('mic-unavailable', `No microphone was found (${name}).`, { cause: error, reason: 'no-device' });
  }
  return new VoiceAgentError('mic-unavailable', `The microphone could not be opened (${name || 'unknown error'}).`, { cause: error });
}
