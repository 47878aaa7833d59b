/**
 * Secret keys and hostile settings, end to end with the built bundle, the real token endpoints and the
 * local agent. Wherever a page puts what looks like a secret API key (`sk_` and 8 or more key
 * characters) — an attribute, a property set in JS, a variable's value or key, a `va-before-connect`
 * edit, the token endpoint's answer at any depth, a custom token provider's answer — the start stops
 * with `config-invalid` before the key can go anywhere: no token request carries it, no socket opens,
 * no microphone is asked for (for an answer, the microphone asked for first is released). The key
 * appears in no event, error message, rendered text or console line, and nothing stays open. Also: a
 * `server-url` that is not `wss:` on another host, and a token endpoint on another origin without CORS.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { PUBLIC_EVENT_NAMES } from '../../src/events.js';
import { holdsSecretKey, isAgentSocketUrl, TOKEN_ENDPOINT_DOCS } from '../../src/session/call-config.js';
import type { TokenProvider } from '../../src/session/token.js';
import { expectAllReleased, installSpies, loadBundle, nextEvent, part, serverCommand, type VoiceAgentElement, waitUntil } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

/** A key as a page might paste it by mistake. What follows `sk_` must never show anywhere. */
const KEY = 'sk_live_7Hq2xV9pL4mN8rT3';
/** What the test server's token endpoints leak (test/support/agent-test-server.mjs). */
const SERVER_KEYS: Record<string, string> = {
  'secret-key': 'sk_live_0123456789abcdef',
  'secret-key-nested': 'sk_live_leaked',
  'secret-key-deep': 'sk_live_deep0123456789',
};
const CONFIG_SENTENCE = 'This widget is not set up correctly';

/** Every console line written during the test (besides the harness's own check for keys). */
const consoleLines: string[] = [];
const METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;
const realConsole = Object.fromEntries(METHODS.map((m) => [m, console[m]])) as Record<(typeof METHODS)[number], (...args: unknown[]) => void>;

beforeEach(() => {
  consoleLines.length = 0;
  for (const method of METHODS) {
    console[method] = (...args: unknown[]) => {
      consoleLines.push(args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? `${a.name}: ${a.message}` : safeJson(a))).join(' '));
      realConsole[method].apply(console, args);
    };
  }
});

afterEach(async () => {
  for (const method of METHODS) console[method] = realConsole[method];
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

let probes = 0;
const newProbe = (name: string) => `secrets-${name}-${++probes}-${Math.random().toString(36).slice(2)}`;
const tokenRequests = (probe: string) => serverCommand<number>('token-requests', { probe });

interface Widget {
  el: VoiceAgentElement;
  /** Every public event, its detail as JSON at the moment it was fired (before any page listener ran). */
  events: { type: string; detail: string }[];
  errors: () => { code: string; message: string; fatal: boolean }[];
}

/**
 * A `<voice-agent>` made as a page would: attributes, then `configure` (properties, listeners), then
 * in the document. Its events are recorded first, so what the page's listeners change is not mistaken
 * for what the element sent.
 */
async function widget(attributes: Record<string, string>, configure?: (el: VoiceAgentElement) => void): Promise<Widget> {
  const holder = await fixture<HTMLDivElement>(html`<div></div>`);
  const el = document.createElement('voice-agent') as VoiceAgentElement;
  el.setAttribute('layout', 'inline');
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  const events: Widget['events'] = [];
  for (const name of PUBLIC_EVENT_NAMES) el.addEventListener(name, (e) => events.push({ type: e.type, detail: safeJson((e as CustomEvent).detail) }));
  configure?.(el);
  holder.append(el);
  await el.updateComplete;
  const errors = () => events.filter((e) => e.type === 'va-error').map((e) => JSON.parse(e.detail) as { code: string; message: string; fatal: boolean });
  return { el, events, errors };
}

/** What the page and the visitor can see of the attempt: events, console, the rendered widget, the message. */
function expectKeyNowhere({ el, events }: Widget, key: string): void {
  const body = key.slice('sk_'.length);
  const seen = [...events.map((e) => `${e.type} ${e.detail}`), ...consoleLines, el.shadowRoot!.innerHTML, el.shadowRoot!.textContent ?? ''];
  for (const text of seen) {
    expect(text, 'the key appears nowhere').not.to.contain(body);
    // Not even its start: the messages write `sk_…` and nothing of the key after it.
    expect(text).not.to.match(/sk_[A-Za-z0-9]/);
  }
}

/** One fatal config-invalid naming `where` and the docs, the configuration sentence shown. */
async function expectSecretRefused(w: Widget, where: string): Promise<void> {
  const errors = w.errors();
  expect(errors.map((e) => [e.code, e.fatal])).to.deep.equal([['config-invalid', true]]);
  expect(errors[0].message).to.equal(
    `A secret API key (sk_…) was found in ${where}: it must stay on your server. See the token endpoint docs: ${TOKEN_ENDPOINT_DOCS}`,
  );
  expect(w.el.status).to.equal('disconnected');
  expect(w.events.some((e) => e.type === 'va-connect')).to.equal(false);
  await w.el.updateComplete;
  expect(part(w.el, 'error')!.textContent).to.contain(CONFIG_SENTENCE);
}

describe('the secret-key detector', () => {
  it('finds sk_ and 8 or more key characters, alone or inside a longer text', () => {
    for (const text of [KEY, 'sk_abcdefgh', 'sk_12345678', 'sk_a-b_c-d_e', `Bearer ${KEY}`, `key=${KEY}&x=1`, `"${KEY}"`, `/api?k=${KEY}`, `x_${KEY}`, `line one\n${KEY}`]) {
      expect(holdsSecretKey(text), text).to.equal(true);
    }
  });

  it('leaves words and short fragments alone', () => {
    for (const text of ['', 'sk_', 'sk_abcdefg', 'sk_ abcdefgh', 'task_description', 'desk_location_notes', 'risk_level_high', 'ask_questions_politely', 'wct_0123456789abcdef', 'SK_abcdefghij', 'sk-abcdefghijkl']) {
      expect(holdsSecretKey(text), text).to.equal(false);
    }
    expect(holdsSecretKey({ task_description: 'desk_location', n: 1, ok: true, none: null })).to.equal(false);
  });

  it('looks into keys and values at any depth, arrays too, once through a cycle, never into functions', () => {
    let deep: unknown = { note: `rotate ${KEY} soon` };
    for (let i = 0; i < 2000; i++) deep = i % 2 ? { inner: deep } : [deep];
    expect(holdsSecretKey(deep), '2000 levels down').to.equal(true);
    expect(holdsSecretKey({ [KEY]: 1 }), 'an object key').to.equal(true);
    expect(holdsSecretKey([1, [2, [`${KEY}`]]])).to.equal(true);
    const cyclic: Record<string, unknown> = { a: 'fine' };
    cyclic.self = cyclic;
    expect(holdsSecretKey(cyclic)).to.equal(false);
    cyclic.b = { c: KEY };
    expect(holdsSecretKey(cyclic)).to.equal(true);
    expect(holdsSecretKey({ handler: () => KEY })).to.equal(false);
  });
});

describe('a secret key in the settings stops the start before anything is sent', () => {
  const cases: [name: string, where: string, attributes: (probe: string) => Record<string, string>, configure?: (el: VoiceAgentElement) => void][] = [
    ['the agent-id attribute', 'agent-id', () => ({ 'agent-id': KEY })],
    ['the token-endpoint attribute', 'token-endpoint', (probe) => ({ 'token-endpoint': `/api/voice-token?probe=${probe}&key=${KEY}` })],
    ['the server-url attribute', 'server-url', () => ({ 'server-url': `wss://api.smallest.ai/atoms/v1/agent/connect?token=${KEY}&agent_id=a1` })],
    ['the mode attribute', 'mode', () => ({ mode: KEY })],
    ['a variable value, inside a longer text', 'variables', () => ({ variables: JSON.stringify({ customer: 'Ada', note: `Our API key is ${KEY}, keep it safe.` }) })],
    ['a variable key', 'variables', () => ({ variables: JSON.stringify({ [KEY]: 'x' }) })],
    ['variables that are not JSON but hold a key', 'variables', () => ({ variables: `{"api_key": "${KEY}"` })],
    ['the worklet-base-url attribute', 'worklet-base-url', () => ({ 'worklet-base-url': `/static/${KEY}/worklets/` })],
    ['the agentId property, set in JS', 'agent-id', () => ({}), (el) => (el.agentId = KEY)],
    ['the tokenEndpoint property, set in JS', 'token-endpoint', () => ({}), (el) => (el.tokenEndpoint = `https://tokens.example/api?key=${KEY}`)],
    ['the variables property, set in JS', 'variables', () => ({}), (el) => (el.variables = { greeting: 'Hi', auth: `Bearer ${KEY}` })],
    ['a client tool definition (tools property)', 'tools', () => ({}), (el) => (el.tools = { lookup: { description: `Looks orders up with ${KEY}`, handler: () => 'ok' } })],
  ];

  for (const [name, where, attributes, configure] of cases) {
    it(`${name}: config-invalid, no token request, no microphone, no audio, no socket, the key shown nowhere`, async () => {
      const probe = newProbe('settings');
      const before = { sockets: spies.sockets.length, gum: spies.getUserMediaCalls, contexts: spies.contexts.length };
      const w = await widget({ 'agent-id': 'a1', 'token-endpoint': `/api/voice-token?probe=${probe}`, ...attributes(probe) }, configure);
      let beforeConnect = 0;
      w.el.addEventListener('va-before-connect', () => beforeConnect++);
      await w.el.start();
      await expectSecretRefused(w, where);
      expect(beforeConnect, 'no listener is shown the settings').to.equal(0);
      expect(await tokenRequests(probe), 'token requests').to.equal(0);
      expect(spies.getUserMediaCalls, 'getUserMedia calls').to.equal(before.gum);
      expect(spies.contexts.length, 'AudioContexts').to.equal(before.contexts);
      expect(spies.sockets.length, 'sockets').to.equal(before.sockets);
      expectKeyNowhere(w, KEY);
      // Clicking again (the retry button) refuses again, the same way.
      const again = nextEvent<CustomEvent>(w.el, 'va-error');
      (part(w.el, 'retry-button') ?? part(w.el, 'call-button'))!.click();
      expect((await again).detail.code).to.equal('config-invalid');
      expect(await tokenRequests(probe)).to.equal(0);
      expectKeyNowhere(w, KEY);
    });
  }

  for (const [name, edit] of [
    ['variables', (config: Record<string, unknown>) => (config.variables = { ...(config.variables as object), crm_key: KEY })],
    ['tokenEndpoint', (config: Record<string, unknown>) => (config.tokenEndpoint = `${String(config.tokenEndpoint)}&key=${KEY}`)],
  ] as const) {
    it(`a va-before-connect listener that puts a key in ${name}: config-invalid, and nothing is sent`, async () => {
      const probe = newProbe('edit');
      const before = { sockets: spies.sockets.length, gum: spies.getUserMediaCalls, contexts: spies.contexts.length };
      const w = await widget({ 'agent-id': 'a1', 'token-endpoint': `/api/voice-token?probe=${probe}` }, (el) =>
        el.addEventListener('va-before-connect', (event) => edit(event.detail.config as unknown as Record<string, unknown>)),
      );
      await w.el.start();
      const where = name === 'variables' ? 'variables' : 'token-endpoint';
      await expectSecretRefused(w, `${where} (set by va-before-connect)`);
      expect(w.events.map((e) => e.type)).to.include('va-before-connect');
      expect(await tokenRequests(probe)).to.equal(0);
      expect(spies.getUserMediaCalls).to.equal(before.gum);
      expect(spies.contexts.length).to.equal(before.contexts);
      expect(spies.sockets.length).to.equal(before.sockets);
      // The recorded va-before-connect detail is what the element offered, before the page's listener edited it.
      expectKeyNowhere(w, KEY);
      expect(w.el.tokenEndpoint, "the element's own property is unchanged").to.equal(`/api/voice-token?probe=${probe}`);
    });
  }

  it('lookalikes that are no key do not stop the call (and the token request is counted)', async () => {
    const probe = newProbe('lookalike');
    const w = await widget({
      'agent-id': 'a1',
      mode: 'chat',
      'token-endpoint': `/api/voice-token?probe=${probe}`,
      variables: JSON.stringify({ task_description: 'desk_location_notes', short: 'sk_abc', prefix: 'sk_' }),
    });
    await w.el.start();
    expect(w.errors()).to.deep.equal([]);
    expect(w.el.status).to.equal('connected');
    expect(await tokenRequests(probe)).to.equal(1);
  });
});

describe('a secret key in the token answer stops the start before the socket', () => {
  for (const kind of ['secret-key', 'secret-key-nested', 'secret-key-deep']) {
    it(`the token endpoint answers with ${kind}: config-invalid, no socket, the microphone released`, async () => {
      const probe = newProbe(kind);
      const before = { sockets: spies.sockets.length, gum: spies.getUserMediaCalls };
      const w = await widget({ 'agent-id': 'a1', 'token-endpoint': `/api/token/${kind}?probe=${probe}` });
      await w.el.start();
      await expectSecretRefused(w, "the token endpoint's answer");
      expect(await tokenRequests(probe), 'one token request').to.equal(1);
      expect(spies.sockets.length, 'sockets').to.equal(before.sockets);
      // A voice call asks for the microphone before the token (a token lives 30 s; a permission prompt can take longer).
      expect(spies.getUserMediaCalls - before.gum).to.equal(1);
      await expectAllReleased(spies);
      expectKeyNowhere(w, SERVER_KEYS[kind]);
    });
  }

  for (const [name, answer] of [
    ['a key as the token', { token: KEY }],
    ['a usable token with a key nested in the answer', { token: 'wct_00000000-0000-0000-0000-000000000000', extra: { debug: [{ note: `minted with ${KEY}` }] } }],
    ['a key only, no token', { apiKey: KEY }],
  ] as const) {
    it(`a custom tokenProvider returns ${name}: config-invalid, no socket`, async () => {
      const before = { sockets: spies.sockets.length };
      let asked = 0;
      const provider: TokenProvider = async () => {
        asked++;
        return answer as never;
      };
      const w = await widget({ 'agent-id': 'a1', mode: 'chat' }, (el) => (el.tokenProvider = provider));
      await w.el.start();
      await expectSecretRefused(w, "the token provider's answer");
      expect(asked).to.equal(1);
      expect(spies.sockets.length).to.equal(before.sockets);
      expectKeyNowhere(w, KEY);
    });
  }
});

describe('a key in tools set during a call never reaches the socket', () => {
  it('the tool holding it is left out (non-fatal config-invalid, not naming it), the others are declared', async () => {
    const probe = newProbe('tools');
    const w = await widget({ 'agent-id': 'secrets-tools', mode: 'chat', 'token-endpoint': `/api/voice-token?probe=${probe}` });
    await w.el.start();
    expect(w.el.status).to.equal('connected');
    const socket = spies.sockets.at(-1)!;
    const sent: string[] = [];
    const realSend = socket.send.bind(socket);
    socket.send = (data) => {
      sent.push(typeof data === 'string' ? data : '[binary]');
      realSend(data);
    };
    const warned = nextEvent<CustomEvent>(w.el, 'va-error');
    w.el.tools = {
      [`${KEY}_lookup`]: { description: 'Named after the key', handler: () => 'no' },
      lookup_order: { description: `Looks orders up; auth ${KEY}`, handler: () => 'no' },
      ping: { description: 'Checks the page is there', handler: () => 'pong' },
    };
    const { detail } = await warned;
    expect([detail.code, detail.fatal]).to.deep.equal(['config-invalid', false]);
    expect(detail.message).to.equal(
      'Client tools left out: a tool holds a secret API key (sk_…), which must stay on your server; a tool holds a secret API key (sk_…), which must stay on your server.',
    );
    await waitUntil(() => w.el.acceptedTools.includes('ping'), 'the agent accepted the other tool');
    expect(w.el.acceptedTools).to.deep.equal(['ping']);
    expect(sent.some((frame) => frame.includes('"ping"')), 'the tools were declared on this socket').to.equal(true);
    for (const frame of sent) expect(frame).not.to.contain(KEY.slice(3));
    expect(w.el.status).to.equal('connected');
    expectKeyNowhere(w, KEY);
  });
});

describe('other settings a call cannot use: clear errors', () => {
  it('accepts wss: anywhere and ws: only on this machine', () => {
    for (const url of ['wss://api.smallest.ai/atoms/v1/agent/connect', 'wss://10.0.0.5:8443/x', 'ws://localhost:8080/x', 'ws://127.0.0.1/x', 'ws://[::1]:9/x']) {
      expect(isAgentSocketUrl(url), url).to.equal(true);
    }
    for (const url of ['ws://api.smallest.ai/atoms/v1/agent/connect', 'ws://10.0.0.5/x', 'ws://localhost.example.com/x', 'ws://127.0.0.2/x', 'https://api.smallest.ai/x', '/relative', '', 'javascript:alert(1)']) {
      expect(isAgentSocketUrl(url), url).to.equal(false);
    }
  });

  it('a server-url that is ws: on another host: config-invalid saying so, nothing sent', async () => {
    const probe = newProbe('ws');
    const before = { sockets: spies.sockets.length, gum: spies.getUserMediaCalls };
    const w = await widget({ 'agent-id': 'a1', 'token-endpoint': `/api/voice-token?probe=${probe}`, 'server-url': 'ws://agent.example.com/connect' });
    await w.el.start();
    expect(w.errors()).to.deep.equal([
      { code: 'config-invalid', message: 'server-url must be a wss: URL, or ws: on localhost (got "ws://agent.example.com/connect").', fatal: true },
    ]);
    expect(await tokenRequests(probe)).to.equal(0);
    expect(spies.getUserMediaCalls).to.equal(before.gum);
    expect(spies.sockets.length).to.equal(before.sockets);
  });

  it('a ws: server-url on localhost is accepted', async () => {
    const probe = newProbe('ws-local');
    const w = await widget({ 'agent-id': 'a1', mode: 'chat', 'token-endpoint': `/api/voice-token?probe=${probe}`, 'server-url': 'ws://localhost:1/unused' });
    await w.el.start();
    // The token endpoint's answer names the agent's own URL, which the call uses.
    expect(w.errors()).to.deep.equal([]);
    expect(w.el.status).to.equal('connected');
  });

  it('a token endpoint on another origin that sends no CORS headers: token-failed saying it may not allow this origin', async () => {
    const other = `http://localhost:${location.port}`;
    const probe = newProbe('cors');
    const before = { sockets: spies.sockets.length };
    // This route answers without CORS headers; from this page (127.0.0.1) localhost is another origin.
    const w = await widget({ 'agent-id': 'a1', mode: 'chat', 'token-endpoint': `${other}/api/token/fault/late-session?probe=${probe}` });
    await w.el.start();
    expect(w.errors()).to.deep.equal([
      {
        code: 'token-failed',
        message: `The token endpoint could not be reached: it is on another origin (${other}), which may not allow this page's origin (${location.origin}) by CORS, or it is down.`,
        fatal: true,
      },
    ]);
    expect(spies.sockets.length).to.equal(before.sockets);
    await w.el.updateComplete;
    expect(part(w.el, 'error')!.textContent).to.contain('could not be set up right now');
  });

  it('a token endpoint on another origin that allows this one (the token handler): the call connects', async () => {
    const probe = newProbe('cors-ok');
    const w = await widget({ 'agent-id': 'a1', mode: 'chat', 'token-endpoint': `http://localhost:${location.port}/api/voice-token?probe=${probe}` });
    await w.el.start();
    expect(w.errors()).to.deep.equal([]);
    expect(w.el.status).to.equal('connected');
  });

  it('a same-origin endpoint that cannot be reached is not blamed on CORS', async () => {
    const realFetch = window.fetch;
    // The network fails for this page's own endpoint (as when the server is down).
    window.fetch = async () => {
      throw new TypeError('Failed to fetch');
    };
    try {
      const w = await widget({ 'agent-id': 'a1', mode: 'chat', 'token-endpoint': '/api/voice-token' });
      await w.el.start();
      expect(w.errors()).to.deep.equal([{ code: 'token-failed', message: 'The token endpoint could not be reached.', fatal: true }]);
    } finally {
      window.fetch = realFetch;
    }
  });
});
