/**
 * How a call whose connection drops comes back: how long to wait before each try, which failures
 * are worth another try, and the wait itself (which also waits for the browser to be online). Pure
 * policy; `VoiceSession` runs the tries.
 */
import type { VoiceAgentError } from '../errors.js';

/** The reconnect settings: `reconnect="auto"` uses the defaults. */
export interface ReconnectPolicy {
  /** Tries before the call ends with `connection-lost`. Default 4. */
  readonly tries: number;
  /** Wait before the first try, in ms; it doubles with each try. Default 500. */
  readonly minDelayMs: number;
  /** The longest wait before a try, in ms. Default 8000. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = Object.freeze({ tries: 4, minDelayMs: 500, maxDelayMs: 8000 });

/** The policy from partial settings: each missing or unusable value is the default. */
export function reconnectPolicy(settings: Partial<ReconnectPolicy> = {}): ReconnectPolicy {
  const pick = (value: unknown, fallback: number, min: number): number =>
    typeof value === 'number' && Number.isFinite(value) && value >= min ? value : fallback;
  const tries = Math.floor(pick(settings.tries, DEFAULT_RECONNECT.tries, 1));
  const minDelayMs = pick(settings.minDelayMs, DEFAULT_RECONNECT.minDelayMs, 0);
  const maxDelayMs = Math.max(minDelayMs, pick(settings.maxDelayMs, DEFAULT_RECONNECT.maxDelayMs, 0));
  return Object.freeze({ tries, minDelayMs, maxDelayMs });
}

/**
 * The wait before try `attempt` (1-based): `minDelayMs` doubled for each earlier try, at most
 * `maxDelayMs`, then a random point in its upper half, so that many widgets dropped by the same
 * outage do not all come back at the same instant.
 */
export function reconnectDelay(policy: ReconnectPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + (ceiling / 2) * random();
}

/**
 * Whether a try that failed this way may be followed by another: the network or the agent's server
 * failing for now (a socket that would not open or closed before the session, no `session.created`,
 * a token endpoint that timed out, could not be reached or answered 5xx). Never after an answer that
 * will not change: a token endpoint's 4xx, a setting that is wrong, the agent's error frame, or the
 * microphone and audio failing.
 */
export function mayRetry(error: VoiceAgentError): boolean {
  switch (error.code) {
    case 'socket-failed':
    case 'session-timeout':
    case 'connection-lost':
      return true;
    case 'token-failed':
      return error.status === undefined || error.status >= 500;
    default:
      return false;
  }
}

/**
 * Resolves after `ms`, and then only once the browser is online: while `navigator.onLine` is false
 * it waits for the `online` event (calling `offline(true)`, then `offline(false)` when it comes).
 * Rejects with the signal's reason when `signal` aborts.
 */
export function waitToRetry(ms: number, signal: AbortSignal, offline: (offline: boolean) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waitingForNetwork = false;
    const cleanup = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      globalThis.removeEventListener?.('online', onOnline);
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal.reason);
    };
    const onOnline = (): void => {
      cleanup();
      if (waitingForNetwork) offline(false);
      resolve();
    };
    const afterDelay = (): void => {
      if (globalThis.navigator?.onLine !== false) return onOnline();
      waitingForNetwork = true;
      offline(true);
      globalThis.addEventListener('online', onOnline);
    };
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(afterDelay, ms);
  });
}
