import { VoiceAgentError } from '../errors.js';

export type WorkletName = 'capture-processor' | 'playback-processor';
export const WORKLET_NAMES: readonly WorkletName[] = ['capture-processor', 'playback-processor'];

/**
 * Where worklet code comes from. `baseUrl` (files beside the bundle, CSP-friendly) is tried first;
 * `inline` sources (compiled into the single-file bundle) are the fallback, as a Blob URL and then a
 * `data:` URL (Safari treats `blob:` in some iframes as cross-origin).
 */
export interface WorkletSources {
  /** Folder holding `capture-processor.js` and `playback-processor.js`; relative to the page if relative. */
  baseUrl?: string;
  inline?: Readonly<Partial<Record<WorkletName, string>>>;
}

let defaultSources: WorkletSources = {};

/** Sets where worklets load from when an engine is given no sources (the bundle entry calls this). */
export function setDefaultWorkletSources(sources: WorkletSources): void {
  defaultSources = sources;
}

export function getDefaultWorkletSources(): WorkletSources {
  return defaultSources;
}

/** Which route a worklet was loaded from. */
export type WorkletRoute = 'url' | 'blob' | 'data';

const loaded = new WeakMap<BaseAudioContext, Map<WorkletName, Promise<WorkletRoute>>>();

/**
 * Adds a worklet module to `context` once. Successful loads are cached per context; failures are
 * not, so a later attempt may succeed.
 */
export function loadWorklet(context: BaseAudioContext, name: WorkletName, sources: WorkletSources): Promise<WorkletRoute> {
  let perContext = loaded.get(context);
  if (!perContext) loaded.set(context, (perContext = new Map()));
  let pending = perContext.get(name);
  if (!pending) {
    pending = addFirstWorking(context, name, sources);
    pending.catch(() => perContext!.delete(name));
    perContext.set(name, pending);
  }
  return pending;
}

async function addFirstWorking(context: BaseAudioContext, name: WorkletName, sources: WorkletSources): Promise<WorkletRoute> {
  if (!context.audioWorklet) {
    throw new VoiceAgentError('audio-failed', 'This browser has no AudioWorklet support (it needs a secure, https page).');
  }
  const attempts: [WorkletRoute, () => string, (url: string) => void][] = [];
  const { baseUrl } = sources;
  if (baseUrl) attempts.push(['url', () => new URL(`${name}.js`, new URL(baseUrl, document.baseURI)).href, () => {}]);
  const code = sources.inline?.[name];
  if (code) {
    attempts.push(['blob', () => URL.createObjectURL(new Blob([code], { type: 'text/javascript' })), (url) => URL.revokeObjectURL(url)]);
    attempts.push(['data', () => `data:text/javascript;base64,${btoa(code)}`, () => {}]);
  }
  let lastError: unknown = new Error('no worklet source is configured');
  for (const [route, makeUrl, release] of attempts) {
    let url: string | undefined;
    try {
      url = makeUrl();
      await context.audioWorklet.addModule(url);
      return route;
    } catch (error) {
      lastError = error;
    } finally {
      if (url !== undefined) release(url);
    }
  }
  throw new VoiceAgentError('audio-failed', `The audio worklet "${name}" could not be loaded.`, { cause: lastError });
}
