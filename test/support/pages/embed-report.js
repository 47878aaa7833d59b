// Test scaffolding around a pasted embed (test/browser/embed.test.ts): tells the test's top window
// what the widget does and shows, starts or stops its call when asked, and passes requests on to nested frames.
const post = (data) => window.top.postMessage({ from: location.href, ...data }, '*');
for (const type of ['va-status-change', 'va-connect', 'va-error']) {
  document.addEventListener(type, (event) => {
    const { detail } = event;
    post({ type, status: detail.status, sessionId: detail.sessionId, code: detail.code, message: detail.message });
  });
}
window.addEventListener('message', (event) => {
  if (event.data !== 'start' && event.data !== 'stop' && event.data !== 'shown') return;
  const el = document.querySelector('voice-agent');
  // `shown`: the sentence the widget shows the visitor for its last error.
  if (el && event.data === 'shown') post({ type: 'shown', text: el.shadowRoot.querySelector('[part~="error"]')?.textContent.trim() });
  else if (el) void el[event.data]();
  for (const frame of document.querySelectorAll('iframe')) frame.contentWindow.postMessage(event.data, '*');
});
if (document.querySelector('voice-agent')) {
  customElements.whenDefined('voice-agent').then(() => {
    const el = document.querySelector('voice-agent');
    post({ type: 'ready', text: el.shadowRoot ? el.shadowRoot.textContent : '' });
  });
}
