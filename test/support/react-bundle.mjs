/**
 * Serves test/support/react-app.mjs bundled with React's development build (StrictMode double-runs
 * effects only there) as one ES module, built with esbuild on the first request.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Where the browser tests import the app from. */
export const REACT_APP_PATH = '/test/.generated/react-app.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export function reactBundlePlugin() {
  /** @type {Promise<string> | undefined} */
  let bundle;
  return {
    name: 'voice-agent-react-app',
    serve(context) {
      if (context.path !== REACT_APP_PATH) return undefined;
      bundle ??= build({
        absWorkingDir: root,
        entryPoints: ['test/support/react-app.mjs'],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        define: { 'process.env.NODE_ENV': '"development"' },
        write: false,
        logLevel: 'silent',
      }).then(
        (result) => result.outputFiles[0].text,
        (error) => {
          bundle = undefined; // the next request tries again
          throw error;
        },
      );
      return bundle.then((body) => ({ body, type: 'js' }));
    },
  };
}
