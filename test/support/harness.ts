/**
 * Helpers for browser tests that drive the built `<voice-agent>` against the real servers.
 * `installSpies()` wraps the real AudioContext, WebSocket and getUserMedia to record what the
 * element opened, so a test can prove that everything was closed again.
 */
import { executeServerCommand } from '@web/test-runner-commands';
import { waitUntil as waitUntilBase } from '@open-wc/testing';
import type { VoiceAgentElement } from '../../src/element/voice-agent-element.js';
import { PUBLIC_EVENT_NAMES } from '../../src/events.js';
import type { SessionStats } from '../../src/local-agent/call-types.js';
import './guards.js';

export type { VoiceAgentElement };

export { ENGINE, type Engine } from './engine.js';

/**
 * Polls until `predicate` holds, for effects that no event announces (the audio thread, the
 * server's view). Ten seconds by default: a busy two-core machine with three engines is slow, and a
 * condition that never comes true fails all the same.
 */
export function waitUntil(predicate: () => unknown | Promise<unknown>, message?: string, options: { interval?: number; timeout?: number } = {}): Promise<void> {
  return waitUntilBase(predicate, message, { interval: 20, timeout: 10_000, ...options });
}

/** Loads a built bundle (registers <voice-agent>); `path` is a URL on the test server. */
export async function loadBundle(path = '/dist/cdn/voice-agent.js'): Promise<void> {
  await import(/* @vite-ignore */ path);
}

export interface Spies {
  contexts: AudioContext[];
  sockets: WebSocket[];
  streams: MediaStream[];
  /** Every AudioWorkletNode made, with its processor's name. */
  workletNodes: { name: string; node: AudioWorkletNode }[];
  /** For each `interruption` frame received: the newest context's clock (in frames) when it arrived. */
  interruptionFrames: number[];
  /** For each interruption: when the agent's next audio arrived after it (its next reply), if it has. */
  nextAudioFrames: number[];
  getUserMediaCalls: number;
}

export function installSpies(): Spies {
  const spies: Spies = { contexts: [], sockets: [], streams: [], workletNodes: [], interruptionFrames: [], nextAudioFrames: [], getUserMediaCalls: 0 };
  const RealWorkletNode = window.AudioWorkletNode;
  window.AudioWorkletNode = class extends RealWorkletNode {
    constructor(context: BaseAudioContext, name: string, options?: AudioWorkletNodeOptions) {
      super(context, name, options);
      spies.workletNodes.push({ name, node: this });
    }
  };
  const RealAudioContext = window.AudioContext;
  window.AudioContext = class extends RealAudioContext {
    constructor(options?: AudioContextOptions) {
      super(options);
      spies.contexts.push(this);
    }
  };
  const RealWebSocket = window.WebSocket;
  window.WebSocket = class extends RealWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      spies.sockets.push(this);
      // Added before the element's own listener, so it runs first, in the same task.
      this.addEventListener('message', ({ data }) => {
        const context = spies.contexts.at(-1);
        if (!context || typeof data !== 'string') return;
        const now = Math.round(context.currentTime * context.sampleRate);
        if (data.includes('"type":"interruption"')) {
          spies.interruptionFrames.push(now);
          return;
        }
        const last = spies.interruptionFrames.length - 1;
        if (last >= 0 && spies.nextAudioFrames[last] === undefined && data.includes('"type":"output_audio.delta"')) {
          spies.nextAudioFrames[last] = now;
        }
      });
    }
  };
  const realGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    spies.getUserMediaCalls++;
    const stream = await realGetUserMedia(constraints);
    spies.streams.push(stream);
    return stream;
  };
  return spies;
}

/** Everything the element opened is closed: tracks ended, contexts closed, sockets closed. */
export async function expectAllReleased(spies: Spies): Promise<void> {
  await waitUntilBase(
    () =>
      spies.streams.every((s) => s.getTracks().every((t) => t.readyState === 'ended')) &&
      spies.contexts.every((c) => c.state === 'closed') &&
      spies.sockets.every((s) => s.readyState === WebSocket.CLOSED),
    'every track, AudioContext and WebSocket is closed',
    { timeout: 5000 },
  );
}

/** The next `name` event on `target` for which `accept` holds. */
export function nextEvent<E extends Event = CustomEvent>(target: EventTarget, name: string, accept: (event: E) => boolean = () => true): Promise<E> {
  return new Promise((resolve) => {
    const listener = (event: Event) => {
      if (!accept(event as E)) return;
      target.removeEventListener(name, listener);
      resolve(event as E);
    };
    target.addEventListener(name, listener);
  });
}

/** Collects every `va-*` event the element fires, in order. */
export function recordEvents(el: HTMLElement): CustomEvent[] {
  const events: CustomEvent[] = [];
  for (const name of PUBLIC_EVENT_NAMES) {
    el.addEventListener(name, (event) => events.push(event as CustomEvent));
  }
  return events;
}

export function part(el: HTMLElement, name: string): HTMLElement | null {
  return el.shadowRoot!.querySelector(`[part~="${name}"]`);
}

export function parts(el: HTMLElement, name: string): HTMLElement[] {
  return [...el.shadowRoot!.querySelectorAll<HTMLElement>(`[part~="${name}"]`)];
}

export function agentSession(sessionId: string): Promise<SessionStats | null> {
  return executeServerCommand('agent-session', { sessionId }) as Promise<SessionStats | null>;
}

export function serverCommand<T>(command: string, payload?: unknown): Promise<T> {
  return executeServerCommand(command, payload) as Promise<T>;
}

/** Resolves after `count` animation frames: the page has rendered what was just changed. */
/**
 * The page's next turn: a task of its own (a posted message), after the posted messages before it, such
 * as the socket transport's own turn between two slices.
 */
export function pageTurn(): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

export async function frames(count = 2): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => requestAnimationFrame(resolve));
}

export interface TapState {
  /** [start, end) context frames where the output was louder than −60 dBFS, oldest first. */
  runs: [number, number][];
  /** The frame the tap has processed up to. */
  reached: number;
}

export interface OutputTap {
  read(): Promise<TapState>;
  /** Resolves once the tap has processed audio up to `frame`. */
  reach(frame: number): Promise<TapState>;
}

/** The last loud frame in [from, to), or `from - 1` when the output was silent all along. */
export function lastLoudFrame({ runs }: TapState, from: number, to: number): number {
  let last = from - 1;
  for (const [start, end] of runs) if (start < to && end > from) last = Math.max(last, Math.min(end, to) - 1);
  return last;
}

/** The player's confirmations of each clear: the audio thread's frame, and when it reached the page. */
export function watchClears(player: AudioWorkletNode): { frame: number; at: number }[] {
  const clears: { frame: number; at: number }[] = [];
  player.port.addEventListener('message', ({ data }) => {
    if (data?.type === 'cleared') clears.push({ frame: data.frame, at: performance.now() });
  });
  return clears;
}

/** Taps `node`'s output on the audio thread (test/support/output-tap.js). */
export async function tapOutput(node: AudioNode): Promise<OutputTap> {
  const context = node.context as AudioContext;
  await context.audioWorklet.addModule('/test/support/output-tap.js');
  const tap = new AudioWorkletNode(context, 'test-output-tap', { numberOfInputs: 1, numberOfOutputs: 0 });
  node.connect(tap);
  const read = () =>
    new Promise<TapState>((resolve) => {
      tap.port.onmessage = (event) => resolve(event.data);
      tap.port.postMessage('read');
    });
  return {
    read,
    async reach(frame) {
      let state = await read();
      await waitUntilBase(async () => (state = await read()).reached >= frame, `the audio thread reaches frame ${frame}`, { interval: 20, timeout: 10_000 });
      return state;
    },
  };
}

export interface OutputRecording {
  /** The context frame of the first recorded sample. */
  start: number;
  samples: Float32Array;
}

/**
 * Records `length` samples of `node`'s output on the audio thread (test/support/output-recorder.js),
 * starting `skip` frames after its first sample louder than `threshold`: steady output, measured
 * without depending on how long the player buffers before it starts. Resolves once the recorder
 * listens; its `recording` resolves once it has the samples.
 */
export async function recordOutput(
  node: AudioNode,
  { length, skip, threshold = 0.01 }: { length: number; skip: number; threshold?: number },
): Promise<{ recording: Promise<OutputRecording> }> {
  const context = node.context as AudioContext;
  await context.audioWorklet.addModule('/test/support/output-recorder.js');
  const recorder = new AudioWorkletNode(context, 'test-output-recorder', {
    numberOfInputs: 1,
    numberOfOutputs: 0,
    processorOptions: { length, skip, threshold },
  });
  const recording = new Promise<OutputRecording>((resolve) => {
    recorder.port.onmessage = ({ data }: MessageEvent<OutputRecording>) => {
      try {
        node.disconnect(recorder);
      } catch {
        // Disconnected already: its engine closed first (a test that failed before it waited for this).
      }
      resolve(data);
    };
  });
  node.connect(recorder);
  return { recording };
}

/** Every sample a node fed a {@link recordStream} recorder, as it arrived. */
export interface StreamRecording {
  /** Connect what is to be recorded to this node. */
  readonly node: AudioWorkletNode;
  /** The context frame of the first recorded sample (-1 before any). */
  readonly start: number;
  /** Samples recorded so far, per channel. */
  readonly length: number;
  /** Channel `index` (0 or 1), zeros where the input had fewer channels. */
  channel(index: number): Float32Array;
  /** The mono downmix a one-channel input of the node makes of it: (L + R) / 2 for stereo, zeros where it had no channels. */
  mono(): Float32Array;
}

/**
 * Records what is connected to the returned node, every quantum and each channel (mono or stereo) as
 * it came, from the first quantum it processes, for as long as the context runs
 * (test/support/stream-recorder.js). The page has it in batches of about 20 ms.
 */
export async function recordStream(context: BaseAudioContext): Promise<StreamRecording> {
  await context.audioWorklet.addModule('/test/support/stream-recorder.js');
  const batch = Math.ceil((context.sampleRate * 0.02) / 128);
  const node = new AudioWorkletNode(context, 'test-stream-recorder', { numberOfInputs: 1, numberOfOutputs: 0, channelCountMode: 'max', processorOptions: { batch } });
  let buffers = [new Float32Array(1 << 16), new Float32Array(1 << 16), new Float32Array(1 << 16)];
  let length = 0;
  let start = -1;
  node.port.onmessage = ({ data: { frame, quanta } }: MessageEvent<{ frame: number; quanta: Float32Array[][] }>) => {
    if (start < 0) start = frame;
    for (const channels of quanta) {
      const n = channels[0]?.length ?? 128;
      if (length + n > buffers[0].length) {
        buffers = buffers.map((old) => {
          const grown = new Float32Array(2 * old.length);
          grown.set(old);
          return grown;
        });
      }
      const [left, right, mono] = buffers;
      if (channels.length > 0) {
        left.set(channels[0], length);
        right.set(channels[1] ?? channels[0], length);
        for (let i = 0; i < n; i++) mono[length + i] = channels.length === 1 ? channels[0][i] : (channels[0][i] + channels[1][i]) / 2;
      }
      length += n;
    }
  };
  return {
    node,
    get start() {
      return start;
    },
    get length() {
      return length;
    },
    channel: (index) => buffers[index].subarray(0, length),
    mono: () => buffers[2].subarray(0, length),
  };
}
