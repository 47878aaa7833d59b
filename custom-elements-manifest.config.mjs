/**
 * `npm run analyze` writes custom-elements.json from the element's JSDoc and the entry that defines
 * `<voice-agent>`. The manifest describes the published package: its paths name the built modules
 * (`dist/…js`), not the TypeScript sources. test/node/manifest.test.mjs regenerates it with these
 * settings and fails on drift.
 */
export const globs = ['src/element/voice-agent-element.ts', 'src/voice-agent.ts'];

/** `src/x/y.ts` (or `.js`) → `dist/x/y.js`, in every `path` and `module` reference of the manifest. */
export function publishedPaths() {
  const rewrite = (path) => (typeof path === 'string' ? path.replace(/^\/?src\/(.*)\.[jt]s$/, 'dist/$1.js') : path);
  const visit = (node) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    for (const key of Object.keys(node)) {
      if ((key === 'path' || key === 'module') && typeof node[key] === 'string') node[key] = rewrite(node[key]);
      else visit(node[key]);
    }
  };
  return { name: 'published-paths', packageLinkPhase: ({ customElementsManifest }) => visit(customElementsManifest.modules) };
}

export default {
  globs,
  outdir: '.',
  litelement: true,
  plugins: [publishedPaths()],
};
