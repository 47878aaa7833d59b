import { VoiceAgentError } from '../errors.js';
import { WORKLET_URLS } from '../worklet-urls.js';

export type WorkletName = 'capture-processor' | 'playback-processor';
export const WORKLET_NAMES: readonly WorkletName[] = ['capture-processor', 'playback-processor'];

/**
 * Where worklet code comes from, tried in this order: a folder (`baseUrl`, the `worklet-base-url`
 * attribute), the files' own URLs (`urls`: by default the files beside the module, which bundlers
 * copy), then `inline` source (compiled into the single-file builds) as a Blob URL and then a `data:`
 * URL (Safari treats `blob:` in some iframes as cross-origin). Files are what a strict
 * Content-Security-Policy allows.
 */
export interface WorkletSources {
  /** Folder holding `capture-processor.js` and `playback-processor.js`; relative to the page if relative. */
  baseUrl?: string;
  /** Each worklet file's URL. */
  urls?: Partial<Record<WorkletName, string>>;
  /** One module that registers both processors (and tolerates either being registered already). */
  inline?: string;
}

let defaultSources: WorkletSources = { urls: WORKLET_URLS };

/** Sets where worklets load from when an engine is given no sources (the bundle entry calls this). */
export function setDefaultWorkletSources(sources: WorkletSources): void {
  defaultSources = sources;
}

export function getDefaultWorkletSources(): WorkletSources {
  return defaultSources;
}

/** Which route a worklet was loaded from. */
export type WorkletRoute = 'url' | 'blob' | 'data';

/** Loads per context: one per worklet file, and the inline module (both processors) at most once. */
const loaded = new WeakMap<BaseAudioContext, Map<WorkletName | 'inline', Promise<WorkletRoute>>>();

function once(context: BaseAudioContext, key: WorkletName | 'inline', load: () => Promise<WorkletRoute>): Promise<WorkletRoute> {
  let perContext = loaded.get(context);
  if (!perContext) loaded.set(context, (perContext = new Map()));
  let pending = perContext.get(key);
  if (!pending) {
    pending = load();
    // Failures are not cached: a later attempt may succeed.
    pending.catch(() => perContext!.delete(key));
    perContext.set(key, pending);
  }
  return pending;
}

/** Makes the processor `name` available in `context`, from the first source that works. */
export function loadWorklet(context: BaseAudioContext, name: WorkletName, sources: WorkletSources): Promise<WorkletRoute> {
  return once(context, name, async () => {
    if (!context.audioWorklet) {
      throw new VoiceAgentError('audio-failed', 'This browser has no AudioWorklet support (it needs a secure, https page).');
    }
    const { baseUrl, urls, inline } = sources;
    const url = baseUrl ? new URL(`${name}.js`, new URL(baseUrl, document.baseURI)).href : urls?.[name];
    let lastError: unknown = new Error('no worklet source is configured');
    if (url) {
      try {
        await context.audioWorklet.addModule(new URL(url, document.baseURI).href);
        return 'url';
      } catch (error) {
        lastError = error;
      }
    }
    if (inline) {
      try {
        return await once(context, 'inline', () => addInline(context, inline));
      } catch (error) {
        lastError = error;
      }
    }
    const where = url ? ` from ${new URL(url, document.baseURI).href}` : '';
    const fix = inline
      ? 'serve the worklets/ folder beside the script (a Content-Security-Policy that allows neither blob: nor data: needs the files), or point worklet-base-url at them'
      : 'serve the worklets/ folder beside voice-agent.js or point worklet-base-url at it, or use voice-agent.standalone.js';
    throw new VoiceAgentError(
      'audio-failed',
      `The audio worklet "${name}" could not be loaded${where}: ${fix}.`,
      { cause: lastError, reason: 'worklets' },
    );
  });
}

async function addInline(context: BaseAudioContext, code: string): Promise<WorkletRoute> {
  let lastError: unknown;
  for (const route of ['blob', 'data'] as const) {
    const url = route === 'blob' ? URL.createObjectURL(new Blob([code], { type: 'text/javascript' })) : `data:text/javascript;base64,${btoa(code)}`;
    try {
      await context.audioWorklet.addModule(url);
      return route;
    } catch (error) {
      lastError = error;
    } finally {
      if (route === 'blob') URL.revokeObjectURL(url);
    }
  }
  throw lastError;
}
