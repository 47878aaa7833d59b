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
  private readonly options: AudioEngineOptions;
  private readonly modules: Promise<WorkletRoute[]>;
  private stream?: MediaStream;
  private source?: MediaStreamAudioSourceNode;
  private capture?: AudioWorkletNode;
  private playback?: AudioWorkletNode;
  private inputMeter?: AnalyserNode;
  private outputMeter?: AnalyserNode;
  private meterBuffer?: Float32Array<ArrayBuffer>;
  private pendingAudio: Int16Array[] = [];
  private readonly frameListeners = new Set<FrameListener>();
  private readonly microphoneLostListeners = new Set<() => void>();
  private muted: boolean;
  private closed = false;
  private readonly stats: PlaybackStats = { playing: false, underruns: 0, clearedSamples: 0, lastClearFrame: -1, overflowSamples: 0 };

  private constructor(context: AudioContext, options: AudioEngineOptions) {
    this.context = context;
    this.options = options;
    this.muted = options.muted ?? false;
    // Inside the gesture: iOS and Safari only let a context start from one.
    void context.resume().catch(() => {});
    // Outside one (a programmatic start), the next click or key press resumes it instead.
    if (navigator.userActivation && !navigator.userActivation.isActive) this.resumeOnNextGesture();
    // Start fetching the worklets now; they are needed only once the session starts.
    const sources = options.worklets ?? getDefaultWorkletSources();
    this.modules = Promise.all(WORKLET_NAMES.map((name) => loadWorklet(context, name, sources)));
    this.modules.catch(() => {}); // observed in start(); avoid an unhandled rejection meanwhile
  }

  /** Routes the worklet modules were loaded from (files beside the bundle, or the inline fallback). */
  get workletRoutes(): Promise<WorkletRoute[]> {
    return this.modules;
  }

  /**
   * Asks for the microphone. What makes asking pointless is found out first, without asking: a page
   * that is not a secure context, or a frame whose Permissions Policy withholds the microphone.
   */
  async openMicrophone(signal?: AbortSignal): Promise<void> {
    const blocked = microphoneBlocked();
    if (blocked) throw blocked;
    const getUserMedia =
      this.options.getUserMedia ?? (navigator.mediaDevices ? (c: MediaStreamConstraints) => navigator.mediaDevices.getUserMedia(c) : undefined);
    if (!getUserMedia) {
      throw new VoiceAgentError('mic-unavailable', 'This browser offers no microphone API (navigator.mediaDevices is missing).');
    }
    let stream: MediaStream;
    try {
      stream = await getUserMedia({ audio: MIC_CONSTRAINTS, video: false });
    } catch (error) {
      throw microphoneError(error);
    }
    if (this.closed || signal?.aborted) {
      stopTracks(stream);
      signal?.throwIfAborted();
      throw new VoiceAgentError('audio-failed', 'The audio engine was closed while the microphone opened.');
    }
    this.stream = stream;
    for (const track of stream.getAudioTracks()) {
      track.enabled = !this.muted;
      // Fired when the device goes away or access is withdrawn (never for our own stop()). Firefox
      // hands some `ended` events only to `onended`, so both routes lead to the one handler.
      track.addEventListener('ended', this.handleTrackEnded);
      track.onended = this.handleTrackEnded;
    }
  }

  /** Builds the audio graph for a session at `sampleRate` (the rate on the wire, both ways). */
  async start(sampleRate: number, signal?: AbortSignal): Promise<void> {
    await this.whenReady(signal);
    signal?.throwIfAborted();
    if (this.closed) throw new VoiceAgentError('audio-failed', 'The audio engine is closed.');
    const { context } = this;
    const frameMs = this.options.frameMs ?? 20;
    try {
      const playbackOptions: PlaybackOptions = {
        sourceRate: sampleRate,
        prebufferMs: this.options.prebufferMs ?? 60,
        capacitySeconds: this.options.playbackCapacitySeconds ?? 30,
      };
      this.playback = new AudioWorkletNode(context, PLAYBACK_PROCESSOR, {
        numberOfInputs: 0,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        processorOptions: playbackOptions,
      });
      this.playback.port.onmessage = (event: MessageEvent<PlaybackOutput>) => this.handlePlayback(event.data);
      this.outputMeter = new AnalyserNode(context, { fftSize: 1024 });
      this.playback.connect(this.outputMeter);
      this.playback.connect(context.destination);

      if (this.stream) {
        const captureOptions: CaptureOptions = {
          targetRate: sampleRate,
          frameSamples: Math.round((sampleRate * frameMs) / 1000),
          muted: this.muted,
        };
        this.source = new MediaStreamAudioSourceNode(context, { mediaStream: this.stream });
        this.capture = new AudioWorkletNode(context, CAPTURE_PROCESSOR, {
          numberOfInputs: 1,
          numberOfOutputs: 0,
          channelCount: 1,
          channelCountMode: 'explicit',
          processorOptions: captureOptions,
        });
        this.capture.port.onmessage = (event: MessageEvent<CaptureOutput>) => this.handleFrame(event.data);
        this.inputMeter = new AnalyserNode(context, { fftSize: 1024 });
        this.source.connect(this.capture);
        this.source.connect(this.inputMeter);
      }
    } catch (cause) {
      throw new VoiceAgentError('audio-failed', 'The audio graph could not be built.', { cause });
    }
    const queued = this.pendingAudio;
    this.pendingAudio = [];
    for (const pcm of queued) this.enqueue(pcm);
  }

  /** The worklets are loaded and the context runs, within `startTimeoutMs`; else `audio-failed`. */
  private async whenReady(signal?: AbortSignal): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 4000;
    const { context } = this;
    let onStateChange: (() => void) | undefined;
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
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    try {
      await Promise.race([Promise.all([this.modules, running]), failed]);
    } catch (error) {
      throw isAbortError(error) ? error : toVoiceAgentError(error, 'audio-failed');
    } finally {
      clearTimeout(timer);
      context.removeEventListener('statechange', onStateChange!);
    }
  }

  /** Called once if the microphone stops during the call: unplugged, or access withdrawn. */
  onMicrophoneLost(listener: () => void): () => void {
    this.microphoneLostListeners.add(listener);
    return () => this.microphoneLostListeners.delete(listener);
  }

  /** Subscribes to captured frames: mono PCM16 at the session rate, `frameMs` each. */
  onFrame(listener: FrameListener): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  /** Queues agent audio (mono PCM16 at the session rate) for gapless playback. */
  enqueue(pcm: Int16Array): void {
    if (this.closed || pcm.length === 0) return;
    if (!this.playback) {
      this.pendingAudio.push(pcm);
      return;
    }
    // Copy only when the array is a view on a larger buffer; otherwise transfer the buffer itself.
    const buffer = pcm.byteOffset === 0 && pcm.byteLength === pcm.buffer.byteLength ? pcm.buffer : pcm.slice().buffer;
    this.postPlayback({ type: 'enqueue', pcm: buffer as ArrayBuffer }, [buffer as ArrayBuffer]);
  }

  /** Barge-in: drops every queued sample of agent audio; silence from the next render quantum. */
  interrupt(): void {
    this.pendingAudio = [];
    this.postPlayback({ type: 'clear' });
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    for (const track of this.stream?.getAudioTracks() ?? []) track.enabled = !muted;
    const command: CaptureCommand = { type: 'mute', muted };
    this.capture?.port.postMessage(command);
  }

  get sampleRate(): number {
    return this.context.sampleRate;
  }

  /** Microphone level, RMS in 0..1 over the last ~20 ms. */
  get inputLevel(): number {
    return this.muted ? 0 : this.level(this.inputMeter);
  }

  /** Agent playback level, RMS in 0..1 over the last ~20 ms. */
  get outputLevel(): number {
    return this.level(this.outputMeter);
  }

  get playbackStats(): Readonly<PlaybackStats> {
    return this.stats;
  }

  /** Stops every track, disconnects every node and closes the context. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.frameListeners.clear();
    this.microphoneLostListeners.clear();
    this.pendingAudio = [];
    this.removeGestureListeners();
    if (this.stream) {
      for (const track of this.stream.getAudioTracks()) {
        track.removeEventListener('ended', this.handleTrackEnded);
        track.onended = null;
      }
      stopTracks(this.stream);
    }
    for (const node of [this.source, this.capture, this.playback, this.inputMeter, this.outputMeter]) node?.disconnect();
    if (this.capture) this.capture.port.onmessage = null;
    if (this.playback) this.playback.port.onmessage = null;
    this.stream = this.source = this.capture = this.playback = this.inputMeter = this.outputMeter = undefined;
    if (this.context.state !== 'closed') await this.context.close().catch(() => {});
  }

  private level(meter: AnalyserNode | undefined): number {
    if (!meter) return 0;
    const buffer = (this.meterBuffer ??= new Float32Array(meter.fftSize));
    meter.getFloatTimeDomainData(buffer);
    return rms(buffer);
  }

  private readonly handleTrackEnded = (): void => {
    if (this.closed) return;
    const listeners = [...this.microphoneLostListeners];
    this.microphoneLostListeners.clear();
    for (const listener of listeners) listener();
  };

  private handleFrame(message: CaptureOutput): void {
    const pcm = new Int16Array(message.pcm);
    for (const listener of this.frameListeners) listener(pcm);
  }

  private handlePlayback(message: PlaybackOutput): void {
    switch (message.type) {
      case 'state':
        this.stats.playing = message.playing;
        this.stats.underruns = message.underruns;
        break;
      case 'cleared':
        this.stats.clearedSamples += message.droppedSamples;
        this.stats.lastClearFrame = message.frame;
        break;
      case 'overflow':
        this.stats.overflowSamples += message.droppedSamples;
        break;
    }
  }

  private postPlayback(command: PlaybackCommand, transfer: Transferable[] = []): void {
    this.playback?.port.postMessage(command, transfer);
  }

  /** A context created outside a gesture stays suspended; the next click or key press resumes it. */
  private resumeOnNextGesture(): void {
    for (const type of GESTURE_EVENTS) document.addEventListener(type, this.handleGesture, { capture: true, passive: true });
  }

  private removeGestureListeners(): void {
    for (const type of GESTURE_EVENTS) document.removeEventListener(type, this.handleGesture, { capture: true });
  }

  private readonly handleGesture = (): void => {
    this.removeGestureListeners();
    if (!this.closed) void this.context.resume().catch(() => {});
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

/** Chromium tells through `document.permissionsPolicy` (or the older `featurePolicy`); others cannot tell. */
function frameWithholdsMicrophone(): boolean {
  const { permissionsPolicy, featurePolicy } = document as PolicyDocument;
  const policy = permissionsPolicy ?? featurePolicy;
  return policy ? !policy.allowsFeature('microphone') : false;
}

function microphoneError(error: unknown): VoiceAgentError {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return new VoiceAgentError('mic-denied', 'Microphone access was denied.', { cause: error });
  }
  // WebKit answers OverconstrainedError when it has no audio input at all.
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return new VoiceAgentError('mic-unavailable', `No microphone was found (${name}).`, { cause: error, reason: 'no-device' });
  }
  return new VoiceAgentError('mic-unavailable', `The microphone could not be opened (${name || 'unknown error'}).`, { cause: error });
}
