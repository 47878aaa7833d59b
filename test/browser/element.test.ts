/** The element's own contract: rendering, accessibility, attributes, events, configuration errors, chat. */
import { expect, fixture, html } from '@open-wc/testing';
import { PUBLIC_EVENT_NAMES } from '../../src/events.js';
import { expectAllReleased, installSpies, loadBundle, nextEvent, part, parts, recordEvents, serverCommand, type VoiceAgentElement, waitUntil } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

const states = (el: HTMLElement) =>
  ['connecting', 'connected', 'speaking', 'muted', 'error'].filter((s) => el.matches(`:state(${s})`));

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

describe('<voice-agent>', () => {
  it('renders an idle, accessible widget', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent token-endpoint="/api/voice-token"></voice-agent>`);
    expect(part(el, 'call-button')!.textContent!.trim()).to.equal('Start call');
    expect(part(el, 'status')!.getAttribute('role')).to.equal('status');
    expect(part(el, 'status')!.textContent).to.equal('Ready to talk');
    expect(part(el, 'transcript') === null, 'no transcript before the first turn').to.equal(true);
    expect(part(el, 'mute-button') === null, 'no mute button before a call').to.equal(true);
    expect(el.status).to.equal('disconnected');
    expect(el.speaking).to.equal(false);
    expect(el.transcript).to.deep.equal([]);
    await expect(el).to.be.accessible();
  });

  it('maps attributes to properties', async () => {
    const el = await fixture<VoiceAgentElement>(html`
      <voice-agent agent-id="abc" token-endpoint="/t" server-url="wss://x.test/c" mode="chat" variables='{"name":"Ada","vip":true}' muted></voice-agent>
    `);
    expect(el.agentId).to.equal('abc');
    expect(el.tokenEndpoint).to.equal('/t');
    expect(el.serverUrl).to.equal('wss://x.test/c');
    expect(el.mode).to.equal('chat');
    expect(el.variables).to.deep.equal({ name: 'Ada', vip: true });
    expect(el.muted).to.equal(true);
    const plain = await fixture<VoiceAgentElement>(html`<voice-agent></voice-agent>`);
    expect(plain.serverUrl).to.equal('wss://api.smallest.ai/atoms/v1/agent/connect');
    expect(plain.mode).to.equal('webcall');
    plain.muted = true;
    await plain.updateComplete;
    expect(plain.getAttribute('muted')).to.equal('');
  });

  for (const [name, template, message] of [
    ['no token endpoint', html`<voice-agent></voice-agent>`, /token-endpoint/],
    ['variables that are not a JSON object', html`<voice-agent token-endpoint="/api/voice-token?probe=config" variables="{oops"></voice-agent>`, /JSON object/],
    ['a variable that is not a string, number or boolean', html`<voice-agent token-endpoint="/api/voice-token?probe=config" variables='{"a":{"b":1}}'></voice-agent>`, /"a"/],
    ['an unknown mode', html`<voice-agent token-endpoint="/api/voice-token?probe=config" mode="video"></voice-agent>`, /mode must be "webcall" or "chat" \(got "video"\)/],
    ['a server-url that is not wss: on another host', html`<voice-agent token-endpoint="/api/voice-token?probe=config" server-url="ws://agent.example/connect"></voice-agent>`, /server-url must be a wss: URL/],
    ['a secret key in an attribute', html`<voice-agent token-endpoint="/api/voice-token?probe=config" agent-id="sk_live_abcdefgh12"></voice-agent>`, /^A secret API key \(sk_…\) was found in agent-id: /],
  ] as const) {
    it(`reports config-invalid for ${name}, touching neither microphone nor network`, async () => {
      const el = await fixture<VoiceAgentElement>(template);
      const gum = spies.getUserMediaCalls;
      const error = nextEvent<CustomEvent>(el, 'va-error');
      part(el, 'call-button')!.click();
      const { detail } = await error;
      expect(detail.code).to.equal('config-invalid');
      expect(detail.fatal).to.equal(true);
      expect(detail.message).to.match(message);
      expect(el.status).to.equal('disconnected');
      expect(spies.getUserMediaCalls).to.equal(gum);
      expect(await serverCommand<number>('token-requests', { probe: 'config' })).to.equal(0);
      await el.updateComplete;
      expect(part(el, 'error')!.textContent).to.contain('not set up correctly');
      expect(states(el)).to.deep.equal(['error']);
      // start() is documented never to reject: a configuration error is reported, not thrown.
      const again = nextEvent<CustomEvent>(el, 'va-error');
      let rejected: unknown;
      await el.start().catch((error: unknown) => (rejected = error ?? 'rejected'));
      expect(rejected, 'start() rejected').to.equal(undefined);
      expect((await again).detail.code).to.equal('config-invalid');
    });
  }

  it('does not connect when va-before-connect is cancelled', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" mode="chat" token-endpoint="/api/voice-token?probe=cancelled"></voice-agent>`);
    el.addEventListener('va-before-connect', (e) => e.preventDefault());
    await el.start();
    expect(el.status).to.equal('disconnected');
    expect(await serverCommand<number>('token-requests', { probe: 'cancelled' })).to.equal(0);
  });

  it('lets va-before-connect listeners edit the call settings', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" mode="chat" token-endpoint="/api/voice-token"></voice-agent>`);
    el.addEventListener('va-before-connect', (e) => {
      e.detail.config.variables = { ...e.detail.config.variables, customer: 'Ada' };
      e.detail.config.agentId = 'a2';
    });
    const connected = nextEvent<CustomEvent>(el, 'va-connect');
    await el.start();
    const stats = await serverCommand<{ agentId: string; variables: object }>('agent-session', { sessionId: (await connected).detail.sessionId });
    expect(stats.agentId).to.equal('a2');
    expect(stats.variables).to.deep.equal({ customer: 'Ada' });
  });

  it('fires every public event bubbling and composed, without a token in any detail', async () => {
    // "hello" makes the local agent call the page's tool before it answers.
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" mode="chat" token-endpoint="/api/voice-token" variables='{"tool_trigger":"hello"}'></voice-agent>`);
    el.tools = { ping: { description: 'Ping', handler: () => 'pong' } };
    const seen: Event[] = [];
    for (const name of PUBLIC_EVENT_NAMES) document.addEventListener(name, (e) => seen.push(e));
    await el.start();
    const reply = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'assistant' && e.detail.final);
    el.sendText('hello');
    await reply;
    await el.stop();
    el.hide();
    el.inputDeviceId = 'a-microphone';
    await el.updateComplete;
    const names = new Set(seen.map((e) => e.type));
    // A reconnect's events come with a dropped connection: e2e-reconnect.test.ts hears them on the document.
    const elsewhere = ['va-error', 'va-reconnecting', 'va-reconnected'];
    expect([...names].sort()).to.deep.equal([...PUBLIC_EVENT_NAMES].sort().filter((n) => !elsewhere.includes(n)));
    expect(seen.every((e) => e.bubbles && e.composed)).to.equal(true);
    expect(seen.filter((e) => e.cancelable).map((e) => e.type)).to.deep.equal(['va-before-connect', 'va-tool-call']);
    expect(JSON.stringify(seen.map((e) => (e as CustomEvent).detail))).not.to.match(/wct_|sk_/);
  });

  it('starts only one session however often it is clicked', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="only-once" mode="chat" token-endpoint="/api/voice-token?probe=once"></voice-agent>`);
    await Promise.all([el.start(), el.start(), el.start()]);
    expect(el.status).to.equal('connected');
    expect(await serverCommand<number>('token-requests', { probe: 'once' })).to.equal(1);
    expect(await serverCommand<number>('agent-session-count', { agentId: 'only-once' })).to.equal(1);
    expect(states(el)).to.deep.equal(['connected']);
  });

  describe('chat mode', () => {
    it('needs no microphone; typing starts the chat and the reply streams into one entry', async () => {
      const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" mode="chat" token-endpoint="/api/voice-token"></voice-agent>`);
      const events = recordEvents(el);
      const gum = spies.getUserMediaCalls;
      const input = part(el, 'text-input') as HTMLTextAreaElement;
      input.value = 'tell me a story about a lighthouse';
      input.dispatchEvent(new Event('input', { bubbles: true }));
      await el.updateComplete;
      const reply = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'assistant' && e.detail.final);
      part(el, 'send-button')!.click();
      const { detail } = await reply;
      await el.updateComplete;
      expect(spies.getUserMediaCalls).to.equal(gum);
      expect(input.value).to.equal('');
      expect(detail.text).to.contain('tell me a story about a lighthouse');
      const deltas = events.filter((e) => e.type === 'va-transcript' && e.detail.role === 'assistant' && !e.detail.final);
      expect(deltas.length).to.be.at.least(3);
      expect(parts(el, 'message').map((m) => m.getAttribute('part'))).to.deep.equal(['message message-user', 'message message-assistant']);
      expect(part(el, 'message-assistant')!.textContent!.replace(/\s+/g, ' ').trim()).to.equal(`Voice assistant: ${detail.text}`);
      await expect(el).to.be.accessible();
    });

    it('renders transcript text as text, never as markup', async () => {
      const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" mode="chat" token-endpoint="/api/voice-token"></voice-agent>`);
      await el.start();
      const payload = '<img src=x onerror="window.__pwned=1">';
      const reply = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'assistant' && e.detail.final);
      el.sendText(payload);
      await reply;
      await el.updateComplete;
      // Counts, not elements: a failing assertion must not make the runner serialise a DOM node.
      expect(el.shadowRoot!.querySelectorAll('img').length, '<img> elements rendered from text').to.equal(0);
      expect(part(el, 'message-user')!.textContent).to.contain(payload);
      expect((window as { __pwned?: number }).__pwned).to.equal(undefined);
    });

    it('ends when the agent says goodbye', async () => {
      const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" mode="chat" token-endpoint="/api/voice-token"></voice-agent>`);
      await el.start();
      const disconnected = nextEvent<CustomEvent>(el, 'va-disconnect');
      el.sendText('Goodbye!');
      expect((await disconnected).detail).to.deep.equal({ reason: 'ended' });
      await waitUntil(() => el.status === 'disconnected');
    });
  });
});
