/**
 * A tiny React 19 app for the browser tests, bundled with React's development build (where
 * StrictMode runs every effect, its cleanup and the effect again on mount). It renders one
 * `<voice-agent>` inside `<StrictMode>`, starts a call from an effect and stops it in the effect's
 * cleanup, as an app would. A new `generation` remounts the widget (a new `key`).
 *
 * Served as one ES module by test/support/react-bundle.mjs at REACT_APP_PATH.
 */
import { StrictMode, createElement as h, useEffect, useRef } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';

/** `props` go on `<voice-agent>` as React sets them: attributes, properties and `on…` listeners. */
function Widget({ props }) {
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    void el.start();
    return () => void el.stop();
  }, []);
  return h('voice-agent', { ...props, ref });
}

/**
 * Renders the app into `container`; `render` renders it again (synchronously) with other props or a
 * new generation, `unmount` takes it down.
 */
export function mountApp(container, { generation, props }) {
  const root = createRoot(container);
  const render = (next) => flushSync(() => root.render(h(StrictMode, null, h(Widget, { key: next.generation, props: next.props }))));
  render({ generation, props });
  return { render, unmount: () => flushSync(() => root.unmount()) };
}

/** The React version the app runs on. */
export { version } from 'react';
