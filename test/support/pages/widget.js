// Renders the widget named by the query (`?layout=floating&open`), and reports to the parent frame.
const params = new URLSearchParams(location.search);
const el = document.createElement('voice-agent');
el.setAttribute('layout', params.get('layout') ?? 'inline');
el.setAttribute('agent-name', 'Ada');
el.setAttribute('agent-id', 'a1');
el.setAttribute('token-endpoint', '/api/voice-token');
el.setAttribute('show-transcript', 'always');
if (params.has('open')) el.setAttribute('open', '');
if (params.has('chat')) el.setAttribute('mode', 'chat');
document.getElementById('host').append(el);

let getUserMediaCalls = 0;
const realGetUserMedia = navigator.mediaDevices?.getUserMedia.bind(navigator.mediaDevices);
if (realGetUserMedia) {
  navigator.mediaDevices.getUserMedia = (constraints) => {
    getUserMediaCalls++;
    return realGetUserMedia(constraints);
  };
}
const report = (type, detail) => parent.postMessage({ type, detail, getUserMediaCalls, isSecureContext }, '*');
for (const name of ['va-error', 'va-connect']) el.addEventListener(name, (event) => report(name, event.detail));
if (params.has('start')) {
  customElements.whenDefined('voice-agent').then(async () => {
    await el.start();
    await el.updateComplete;
    report('settled', {
      status: el.status,
      sentence: el.shadowRoot.querySelector('[part~="error"]')?.textContent ?? null,
    });
    await el.stop();
  });
}
