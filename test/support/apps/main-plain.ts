// An app that already uses Lit for its own components imports the widget from npm: one Lit in the
// bundle (the widget's `lit` is the app's), and the worklet files emitted beside it.
import { LitElement, html } from 'lit';
import 'voice-agent-widget';

class AppShell extends LitElement {
  override render() {
    return html`<voice-agent agent-id="local-echo" token-endpoint="/api/voice-token" layout="inline"></voice-agent>`;
  }
}
customElements.define('app-shell', AppShell);
document.getElementById('root')!.append(document.createElement('app-shell'));
