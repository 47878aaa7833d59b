/**
 * Client tools end to end: the built bundle, the real token endpoint and the local agent, which
 * takes the tools the element declares and calls one when a user turn holds the call's trigger (see
 * src/local-agent/tool-calls.ts), then says what it read. What crossed the wire is logged in the page,
 * in order; what the agent received is in its session stats. A few edges the agent cannot produce
 * (a refusal of tools the element already checked, a call while the session is ending) are driven
 * through VoiceSession with a scripted socket at the end.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { VoiceAgentError } from '../../src/errors.js';
import { MAX_TOOL_OUTPUT_BYTES, NO_VALUE_OUTPUT, limitOutput, utf8Length, type ClientTools, type ToolCallContext, type ToolResult } from '../../src/session/client-tools.js';
import type { SessionEvent } from '../../src/session/ports.js';
import { VoiceSession } from '../../src/session/voice-session.js';
import type { SessionStats } from '../../src/local-agent/call-types.js';
import { FakeAudio, fakeDeps, settle } from '../support/fakes.js';
import { agentSession, expectAllReleased, installSpies, loadBundle, nextEvent, part, recordEvents, type VoiceAgentElement } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

type Frame = Record<string, unknown> & { type: string };
/** Every JSON frame on the element's sockets, in the order the page saw them (audio left out). */
const wire: { dir: 'in' | 'out'; frame: Frame }[] = [];
const AUDIO = /"type":"(input_audio_buffer\.append|output_audio\.delta)"/;
{
  const Spied = window.WebSocket;
  window.WebSocket = class extends Spied {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      // Before the element's own listener: a frame is logged before the element acts on it.
      this.addEventListener('message', ({ data }) => {
        if (typeof data === 'string' && !AUDIO.test(data)) wire.push({ dir: 'in', frame: JSON.parse(data) });
      });
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (typeof data === 'string' && !AUDIO.test(data)) wire.push({ dir: 'out', frame: JSON.parse(data) });
      super.send(data);
    }
  };
}
const sent = (type: string) => wire.filter((w) => w.dir === 'out' && w.frame.type === type).map((w) => w.frame);
const indexOf = (dir: 'in' | 'out', type: string) => wire.findIndex((w) => w.dir === dir && w.frame.type === type);

beforeEach(() => {
  wire.length = 0;
});

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

const isAssistantFinal = (e: CustomEvent) => e.detail.role === 'assistant' && e.detail.final;

/** A text chat with the local agent, connected; `tools` set before the call starts. */
async function chat(variables: Record<string, string | number | boolean>, tools?: ClientTools) {
  const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="tools" mode="chat" token-endpoint="/api/voice-token"></voice-agent>`);
  el.variables = variables;
  if (tools) el.tools = tools;
  const events = recordEvents(el);
  const connected = nextEvent<CustomEvent>(el, 'va-connect');
  await el.start();
  const sessionId: string = (await connected).detail.sessionId;
  return { el, events, sessionId, stats: async () => (await agentSession(sessionId)) as SessionStats };
}

/** Sends `text` and resolves with the agent's final answer to it. */
async function say(el: VoiceAgentElement, text: string): Promise<string> {
  const reply = nextEvent<CustomEvent>(el, 'va-transcript', isAssistantFinal);
  expect(el.sendText(text)).to.equal(true);
  return (await reply).detail.text;
}

/** What the local agent says once it read a result. */
const readBack = (name: string, output: string) =>
  `The tool ${name} answered (${new TextEncoder().encode(output).length} bytes): ${output.length > 100 ? `${output.slice(0, 100)}…` : output}`;

const weather = (log: string[] = []): ClientTools => ({
  get_weather: {
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    timeoutMs: 5000,
    handler: async (args) => {
      log.push('handler');
      return `Sunny in ${String(args.city)}`;
    },
  },
});

describe('client tools (element + token endpoint + local agent)', () => {
  it('declares the tools once session.created has arrived, in the Atoms shape, and keeps what the agent accepted', async () => {
    const tools: ClientTools = {
      ...weather(),
      ping: { description: 'Checks the page is there', handler: () => 'pong' },
      notify: { description: 'Shows a note', parameters: { type: 'object', properties: { text: { type: 'string' } } }, handler: () => {}, expectsResponse: false, timeoutMs: 60000 },
    };
    const { el, stats } = await chat({}, tools);
    // The agent answers in order: by its reply to this text, its confirmation has arrived.
    expect(await say(el, 'hello')).to.equal('You wrote: hello');
    expect(indexOf('in', 'session.created')).to.be.at.least(0);
    expect(indexOf('out', 'session.update'), 'session.update after session.created').to.be.above(indexOf('in', 'session.created'));
    expect(indexOf('in', 'session.updated')).to.be.above(indexOf('out', 'session.update'));
    expect(sent('session.update')).to.deep.equal([
      {
        type: 'session.update',
        tools: [
          {
            type: 'function',
            name: 'get_weather',
            description: 'The weather in a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            timeout_ms: 5000,
            expectsResponse: true,
          },
          { type: 'function', name: 'ping', description: 'Checks the page is there', parameters: { type: 'object', properties: {} }, timeout_ms: 15000, expectsResponse: true },
          { type: 'function', name: 'notify', description: 'Shows a note', parameters: { type: 'object', properties: { text: { type: 'string' } } }, timeout_ms: 60000, expectsResponse: false },
        ],
      },
    ]);
    expect(el.acceptedTools).to.deep.equal(['get_weather', 'ping', 'notify']);
    const agent = await stats();
    expect(agent.toolUpdates).to.equal(1);
    expect(agent.tools.map((t) => [t.name, t.timeoutMs, t.expectsResponse])).to.deep.equal([
      ['get_weather', 5000, true],
      ['ping', 15000, true],
      ['notify', 60000, false],
    ]);
  });

  it('sends no session.update when the page has no tools', async () => {
    const { el, stats } = await chat({});
    expect(await say(el, 'hello')).to.equal('You wrote: hello');
    expect(sent('session.update')).to.deep.equal([]);
    expect((await stats()).toolUpdates).to.equal(0);
    expect(el.acceptedTools).to.deep.equal([]);
  });

  it('sends the whole set again when tools change during a call; an empty object clears them', async () => {
    const { el, stats } = await chat({}, weather());
    expect(await say(el, 'one')).to.equal('You wrote: one');
    el.tools = { ...weather(), ping: { description: 'Ping', handler: () => 'pong' } };
    await el.updateComplete;
    expect(await say(el, 'two')).to.equal('You wrote: two');
    expect(sent('session.update').map((f) => (f.tools as { name: string }[]).map((t) => t.name))).to.deep.equal([['get_weather'], ['get_weather', 'ping']]);
    expect(el.acceptedTools).to.deep.equal(['get_weather', 'ping']);
    el.tools = {};
    await el.updateComplete;
    expect(await say(el, 'three')).to.equal('You wrote: three');
    expect(sent('session.update').at(-1)).to.deep.equal({ type: 'session.update', tools: [] });
    expect(el.acceptedTools).to.deep.equal([]);
    expect((await stats()).toolUpdates).to.equal(3);
  });

  for (const [variables, code] of [
    [{ dashboard_tools: 'lookup_order,get_weather' }, 'tool_name_conflict'],
    [{ tools_managed_by_config: true }, 'client_tools_managed_by_config'],
  ] as const) {
    it(`reports the agent's ${code} as a non-fatal tools-rejected, and the call goes on`, async () => {
      const rejected = new Promise<CustomEvent>((resolve) => document.addEventListener('va-error', (e) => resolve(e as CustomEvent), { once: true }));
      const { el, events } = await chat(variables, weather());
      const { detail } = await rejected;
      expect(detail.code).to.equal('tools-rejected');
      expect(detail.fatal).to.equal(false);
      expect(detail.message).to.contain(code);
      expect(el.status).to.equal('connected');
      expect(await say(el, 'still here?')).to.equal('You wrote: still here?');
      expect(el.acceptedTools).to.deep.equal([]);
      await el.updateComplete;
      // A developer's problem, not the visitor's: the panel shows nothing.
      expect(part(el, 'error')).to.equal(null);
      expect(part(el, 'device-note')).to.equal(null);
      expect(events.filter((e) => e.type === 'va-error').map((e) => e.detail.code)).to.deep.equal(['tools-rejected']);
    });
  }

  it('leaves out invalid definitions with a non-fatal config-invalid, declares the rest, and the call goes on', async () => {
    const handler = () => 'ok';
    const invalid = {
      'bad name!': { description: 'x', handler },
      ['n'.repeat(65)]: { description: 'x', handler },
      no_handler: { description: 'x', handler: 'not a function' },
      no_description: { handler },
      hasty: { description: 'x', handler, timeoutMs: 999 },
      patient: { description: 'x', handler, timeoutMs: 60001 },
      list_schema: { description: 'x', handler, parameters: { type: 'array' } },
      unsure: { description: 'x', handler, expectsResponse: 'yes' },
    };
    const error = new Promise<CustomEvent>((resolve) => document.addEventListener('va-error', (e) => resolve(e as CustomEvent), { once: true }));
    const { el } = await chat({}, { ...(invalid as unknown as ClientTools), good: { description: 'Fine', handler, timeoutMs: 1000 } });
    const { detail } = await error;
    expect(detail.code).to.equal('config-invalid');
    expect(detail.fatal).to.equal(false);
    for (const name of ['bad name!', 'n'.repeat(65), 'no_handler', 'no_description', 'hasty', 'patient', 'list_schema', 'unsure']) {
      expect(detail.message, name).to.contain(`"${name}"`);
    }
    expect(await say(el, 'hello')).to.equal('You wrote: hello');
    expect((sent('session.update')[0].tools as { name: string }[]).map((t) => t.name)).to.deep.equal(['good']);
    expect(el.acceptedTools).to.deep.equal(['good']);
    expect(el.status).to.equal('connected');
  });

  it('answers a call with the handler\'s value: va-tool-call before the handler, va-tool-result after', async () => {
    const log: string[] = [];
    let context: ToolCallContext | undefined;
    const tools = weather(log);
    const handler = tools.get_weather.handler;
    tools.get_weather.handler = (args, call) => {
      context = call;
      return handler(args, call);
    };
    const { el, stats } = await chat({ tool_trigger: 'weather', tool_name: 'get_weather', tool_arguments: '{"city":"Paris"}' }, tools);
    el.addEventListener('va-tool-call', (e) => log.push(`va-tool-call ${JSON.stringify(e.detail)}`));
    el.addEventListener('va-tool-result', (e) => log.push(`va-tool-result ${JSON.stringify(e.detail)}`));
    const call = nextEvent<CustomEvent>(el, 'va-tool-call');
    const result = nextEvent<CustomEvent>(el, 'va-tool-result');
    const reply = say(el, "What's the weather?");
    const callEvent = await call;
    expect(callEvent.cancelable && callEvent.bubbles && callEvent.composed).to.equal(true);
    const callId = callEvent.detail.callId as string;
    expect(callId).to.match(/^call_[0-9a-f]{16}$/);
    expect(callEvent.detail).to.deep.equal({ callId, name: 'get_weather', arguments: { city: 'Paris' } });
    const resultEvent = await result;
    expect(resultEvent.cancelable).to.equal(false);
    expect(resultEvent.detail).to.deep.equal({ callId, name: 'get_weather', output: 'Sunny in Paris' });
    expect(log).to.deep.equal([
      `va-tool-call {"callId":"${callId}","name":"get_weather","arguments":{"city":"Paris"}}`,
      'handler',
      `va-tool-result {"callId":"${callId}","name":"get_weather","output":"Sunny in Paris"}`,
    ]);
    expect(context!.callId).to.equal(callId);
    expect(context!.name).to.equal('get_weather');
    expect(context!.signal.aborted).to.equal(false);
    expect(sent('function_call.result')).to.deep.equal([{ type: 'function_call.result', call_id: callId, output: 'Sunny in Paris' }]);
    // The agent read the output: it says it back.
    expect(await reply).to.equal(readBack('get_weather', 'Sunny in Paris'));
    const agent = await stats();
    expect(agent.toolCalls).to.deep.equal([{ callId, name: 'get_weather', arguments: { city: 'Paris' }, outcome: 'answered', output: 'Sunny in Paris' }]);
    expect(agent.toolErrors).to.deep.equal([]);
    await el.updateComplete;
    expect(part(el, 'message-assistant')!.textContent).to.contain('Sunny in Paris');
  });

  it('JSON-encodes an object, and reads arguments sent as a JSON string', async () => {
    const seen: unknown[] = [];
    const value = { temperature: 21, sky: 'clear', hours: [9, 12], alert: null, note: 'Wind "gusty" — 30 km/h' };
    const { el, stats } = await chat(
      { tool_trigger: 'forecast', tool_name: 'forecast', tool_arguments: '{"city":"Oslo","days":2}', tool_arguments_as: 'string' },
      { forecast: { description: 'A forecast', handler: (args) => (seen.push(args), value) } },
    );
    const result = nextEvent<CustomEvent>(el, 'va-tool-result');
    const reply = say(el, 'forecast please');
    expect((await result).detail.output).to.equal(JSON.stringify(value));
    expect(seen).to.deep.equal([{ city: 'Oslo', days: 2 }]);
    expect(wire.find((w) => w.frame.type === 'function_call')!.frame.arguments, 'the agent sent a JSON string').to.equal('{"city":"Oslo","days":2}');
    expect(await reply).to.equal(readBack('forecast', JSON.stringify(value)));
    expect((await stats()).toolCalls[0].output).to.equal(JSON.stringify(value));
  });

  it('answers a handler that returns nothing with a sentence saying so', async () => {
    const { el } = await chat({ tool_trigger: 'go' }, { quiet: { description: 'Returns nothing', handler: () => undefined } });
    const result = nextEvent<CustomEvent>(el, 'va-tool-result');
    const reply = say(el, 'go');
    expect((await result).detail).to.deep.include({ name: 'quiet', output: NO_VALUE_OUTPUT });
    expect((await result).detail).not.to.have.property('error');
    expect(await reply).to.equal(readBack('quiet', NO_VALUE_OUTPUT));
  });

  const failures: {
    title: string;
    name: string;
    tools: ClientTools;
    error: string;
    output: RegExp;
    veto?: boolean;
  }[] = [
    {
      title: 'a handler that throws',
      name: 'lookup',
      tools: { lookup: { description: 'x', handler: () => { throw new Error('database offline'); } } },
      error: 'failed',
      output: /^Error: the tool "lookup" failed: database offline$/,
    },
    {
      title: 'a handler whose promise rejects',
      name: 'lookup',
      tools: { lookup: { description: 'x', handler: async () => { throw new TypeError('no such city'); } } },
      error: 'failed',
      output: /^Error: the tool "lookup" failed: no such city$/,
    },
    {
      title: 'a handler that rejects with a bare string',
      name: 'lookup',
      tools: { lookup: { description: 'x', handler: () => Promise.reject('quota exceeded') } },
      error: 'failed',
      output: /^Error: the tool "lookup" failed: quota exceeded$/,
    },
    {
      title: 'a tool the page does not have',
      name: 'not_here',
      tools: { lookup: { description: 'x', handler: () => 'never' } },
      error: 'unknown-tool',
      output: /^Error: this page has no tool named "not_here"\.$/,
    },
    {
      title: 'a call the page declines (va-tool-call preventDefault)',
      name: 'lookup',
      tools: { lookup: { description: 'x', handler: () => 'never' } },
      error: 'declined',
      output: /^The page declined to run the tool "lookup"\.$/,
      veto: true,
    },
  ];
  for (const { title, name, tools, error, output, veto } of failures) {
    it(`answers ${title} with an output that says what failed`, async () => {
      let ran = false;
      const counted = Object.fromEntries(
        Object.entries(tools).map(([key, tool]) => [key, { ...tool, handler: (args: Record<string, unknown>, call: ToolCallContext) => ((ran = true), tool.handler(args, call)) }]),
      );
      const { el, events, stats } = await chat({ tool_trigger: 'go', tool_name: name }, counted);
      if (veto) el.addEventListener('va-tool-call', (e) => e.preventDefault());
      const result = nextEvent<CustomEvent>(el, 'va-tool-result');
      const reply = say(el, 'go');
      const { detail } = await result;
      expect(detail.name).to.equal(name);
      expect(detail.error).to.equal(error);
      expect(detail.output).to.match(output);
      expect(ran, 'the handler ran').to.equal(error === 'failed');
      const calls = events.filter((e) => e.type === 'va-tool-call');
      // Only a tool the page has is announced before it runs (and can be declined).
      expect(calls.length).to.equal(error === 'unknown-tool' ? 0 : 1);
      expect(sent('function_call.result')).to.deep.equal([{ type: 'function_call.result', call_id: detail.callId, output: detail.output }]);
      expect(await reply).to.equal(readBack(name, detail.output));
      expect((await stats()).toolCalls[0].outcome).to.equal('answered');
      expect(el.status).to.equal('connected');
      expect(events.filter((e) => e.type === 'va-error')).to.deep.equal([]);
    });
  }

  it('answers a handler slower than its timeout as timed out, in time for the agent, and aborts its signal', async () => {
    let signal: AbortSignal | undefined;
    const { el, stats } = await chat(
      { tool_trigger: 'go' },
      { slow: { description: 'Never finishes', timeoutMs: 2000, handler: (_args, call) => ((signal = call.signal), new Promise(() => {})) } },
    );
    const call = nextEvent<CustomEvent>(el, 'va-tool-call');
    const result = nextEvent<CustomEvent>(el, 'va-tool-result');
    const reply = say(el, 'go');
    await call;
    const calledAt = performance.now();
    const { detail } = await result;
    const waited = performance.now() - calledAt;
    expect(detail.error).to.equal('timeout');
    // The agent waits 2000 ms; the handler gets that less a margin for the answer's trip (500 ms).
    expect(detail.output).to.equal('Error: the tool "slow" did not finish within 1500 ms.');
    expect(waited).to.be.within(1400, 1990);
    expect(signal!.aborted).to.equal(true);
    expect((signal!.reason as DOMException).name).to.equal('TimeoutError');
    expect(await reply).to.equal(readBack('slow', detail.output));
    const agent = await stats();
    expect(agent.toolCalls[0].outcome, 'the agent had the answer before its own timeout').to.equal('answered');
    expect(agent.toolErrors).to.deep.equal([]);
  });

  it('truncates output over 64 KB between characters, with a note, to fit the limit exactly', async () => {
    // 2 + 20000 × 4 bytes: the cut falls inside a four-byte character (a surrogate pair in JavaScript).
    const big = 'xy' + '😀'.repeat(20_000);
    const { el, stats } = await chat({ tool_trigger: 'go' }, { big: { description: 'Too much', handler: () => big } });
    const result = nextEvent<CustomEvent>(el, 'va-tool-result');
    const reply = say(el, 'go');
    const { detail } = await result;
    const note = `\n[Output truncated: the tool returned 80002 bytes; the limit is ${MAX_TOOL_OUTPUT_BYTES}.]`;
    const room = MAX_TOOL_OUTPUT_BYTES - new TextEncoder().encode(note).length;
    expect((room - 2) % 4, 'a cut at the byte limit would split a character').to.not.equal(0);
    const expected = 'xy' + '😀'.repeat(Math.floor((room - 2) / 4)) + note;
    expect(detail.output).to.equal(expected);
    expect(detail).not.to.have.property('error');
    expect(new TextEncoder().encode(detail.output).length).to.be.at.most(MAX_TOOL_OUTPUT_BYTES);
    expect(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(detail.output), 'no half of a surrogate pair').to.equal(false);
    expect(await reply).to.equal(readBack('big', expected));
    const agent = await stats();
    expect(agent.toolErrors, 'the agent took it: no result_too_large').to.deep.equal([]);
    expect(agent.toolCalls[0].output).to.equal(expected);
  });

  it('runs a fire-and-forget tool (expectsResponse: false) and reports it, but sends no result', async () => {
    let ran = 0;
    const { el, stats } = await chat({ tool_trigger: 'lights' }, { lights_on: { description: 'Turns the lights on', expectsResponse: false, handler: () => (ran++, { on: true }) } });
    const result = nextEvent<CustomEvent>(el, 'va-tool-result');
    const reply = say(el, 'lights, please');
    expect((await result).detail).to.deep.include({ name: 'lights_on', output: '{"on":true}' });
    expect(await reply).to.equal('I asked the page to run lights_on.');
    // By the agent's answer to the next text, a result sent after the handler would have reached it.
    expect(await say(el, 'thanks')).to.equal('You wrote: thanks');
    expect(ran).to.equal(1);
    expect(sent('function_call.result')).to.deep.equal([]);
    const agent = await stats();
    expect(agent.toolCalls[0].outcome).to.equal('fire-and-forget');
    expect(agent.toolErrors, 'no unknown_call_id').to.deep.equal([]);
  });

  it('ends a call while a handler runs without sending its result or throwing; the handler is told', async () => {
    let signal: AbortSignal | undefined;
    let finish!: (value: string) => void;
    const { el, events } = await chat(
      { tool_trigger: 'go' },
      { pending: { description: 'Waits', handler: (_args, call) => ((signal = call.signal), new Promise<string>((resolve) => (finish = resolve))) } },
    );
    const call = nextEvent<CustomEvent>(el, 'va-tool-call');
    el.sendText('go');
    const { detail } = await call;
    const result = nextEvent<CustomEvent>(el, 'va-tool-result');
    const disconnected = nextEvent<CustomEvent>(el, 'va-disconnect');
    await el.stop();
    await disconnected;
    expect((await result).detail).to.deep.equal({
      callId: detail.callId,
      name: 'pending',
      output: 'The call ended before the tool "pending" finished.',
      error: 'ended',
    });
    expect(signal!.aborted).to.equal(true);
    // The handler finishes after the call: nothing is sent, nothing more is reported.
    finish('too late');
    await settle();
    expect(sent('function_call.result')).to.deep.equal([]);
    expect(events.filter((e) => e.type === 'va-tool-result').length).to.equal(1);
    expect(events.filter((e) => e.type === 'va-error')).to.deep.equal([]);
    expect(events.findIndex((e) => e.type === 'va-tool-result')).to.be.below(events.findIndex((e) => e.type === 'va-disconnect'));
  });

  it('in a voice call, a spoken turn calls a tool and the agent speaks the answer', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="tools" token-endpoint="/api/voice-token"></voice-agent>`);
    el.variables = { greeting: '', tool_trigger: 'speech', tool_name: 'where' };
    el.tools = { where: { description: 'Where the order is', handler: () => 'at home' } };
    const result = nextEvent<CustomEvent>(el, 'va-tool-result');
    const answer = nextEvent<CustomEvent>(el, 'va-transcript', (e) => isAssistantFinal(e) && e.detail.text.startsWith('The tool'));
    // Muted once the tool has answered: the microphone's next phrase must not talk over the reply.
    el.addEventListener('va-tool-result', () => (el.muted = true), { once: true });
    part(el, 'call-button')!.click();
    // The fake microphone speaks a phrase; the agent's transcript of it holds the trigger.
    expect((await result).detail).to.deep.include({ name: 'where', output: 'at home' });
    expect((await answer).detail.text).to.equal(readBack('where', 'at home'));
    expect(sent('function_call.result').map((f) => f.output)).to.include('at home');
  });

  it('follows the dotted talking events (agent.start_talking / agent.stop_talking)', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent mode="chat" token-endpoint="/api/token/fault/dotted-talking"></voice-agent>`);
    const caption = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.text === 'Still');
    await el.start();
    await caption;
    // A text chat's `speaking` follows the server's talking events.
    expect(el.speaking, 'speaking after agent.start_talking').to.equal(true);
    await el.updateComplete;
    expect(el.matches(':state(speaking)')).to.equal(true);
    const after = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.text === 'Done.');
    el.sendText('over to you');
    await after;
    expect(el.speaking, 'not speaking after agent.stop_talking').to.equal(false);
    await el.updateComplete;
    expect(el.matches(':state(speaking)')).to.equal(false);
  });
});

describe('client tools in VoiceSession (a scripted socket)', () => {
  const created = { type: 'session.created', session_id: 's1', call_id: 'CALL-1', sample_rate: 24000, channels: 1 };

  async function connected(tools: unknown) {
    const deps = fakeDeps(new FakeAudio());
    const session = new VoiceSession(
      { agentId: 'a', mode: 'chat', variables: {}, serverUrl: 'wss://agent.test/connect', tokenProvider: async () => ({ token: 'wct_1' }), closeTimeoutMs: 50, tools },
      deps,
    );
    const events: SessionEvent[] = [];
    session.subscribe((event) => events.push(event));
    const started = session.start();
    await settle();
    const socket = deps.sockets[0];
    socket.serverSend(created);
    await started;
    return { session, socket, events, errors: () => events.flatMap((e) => (e.type === 'error' ? [e.error] : [])) };
  }
  const ping: ClientTools = { ping: { description: 'Ping', handler: (args) => `pong ${JSON.stringify(args)}` } };

  it('reports invalid_tools from the agent as a non-fatal tools-rejected', async () => {
    const { session, socket, errors } = await connected(ping);
    expect(socket.sentOfType('session.update')).to.have.length(1);
    socket.serverSend({ type: 'error', code: 'invalid_tools', message: 'tools[0].parameters is not a schema' });
    expect(errors().map((e) => [e.code, e.fatal])).to.deep.equal([['tools-rejected', false]]);
    expect(errors()[0]).to.be.instanceOf(VoiceAgentError);
    expect(errors()[0].message).to.contain('invalid_tools').and.contain('tools[0].parameters is not a schema');
    expect(session.snapshot.status).to.equal('connected');
  });

  it('answers arguments that are not a JSON object without running the handler', async () => {
    let ran = false;
    const { socket, events } = await connected({ ping: { description: 'Ping', handler: () => ((ran = true), 'pong') } });
    socket.serverSend({ type: 'function_call', call_id: 'call_1', name: 'ping', arguments: '{not json' });
    expect(socket.sentOfType('function_call.result')).to.deep.equal([
      { type: 'function_call.result', call_id: 'call_1', output: 'Error: the arguments for the tool "ping" are not a JSON object.' },
    ]);
    expect(ran).to.equal(false);
    expect(events.filter((e) => e.type === 'tool-call')).to.deep.equal([]);
    expect(events.flatMap((e) => (e.type === 'tool-result' ? [e.result.error] : []))).to.deep.equal(['invalid-arguments']);
  });

  it('answers a value JSON cannot encode as a failure', async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const { session, socket } = await connected({ cyclic: { description: 'x', handler: () => cyclic }, big: { description: 'x', handler: () => 10n } });
    const results: ToolResult[] = [];
    const both = new Promise<void>((resolve) =>
      session.subscribe((event) => {
        if (event.type === 'tool-result' && results.push(event.result) === 2) resolve();
      }),
    );
    socket.serverSend({ type: 'function_call', call_id: 'call_1', name: 'cyclic', arguments: {} });
    socket.serverSend({ type: 'function_call', call_id: 'call_2', name: 'big', arguments: {} });
    await both;
    expect(results.map((r) => [r.callId, r.error, r.output])).to.deep.equal([
      ['call_1', 'failed', 'Error: the tool "cyclic" returned a value that cannot be encoded as JSON.'],
      ['call_2', 'failed', 'Error: the tool "big" returned a value that cannot be encoded as JSON.'],
    ]);
    expect(socket.sentOfType('function_call.result').map((f) => f.call_id)).to.deep.equal(['call_1', 'call_2']);
  });

  it('drops a call that arrives while the session is ending, and frames after it ended', async () => {
    const { session, socket, events } = await connected(ping);
    const stopping = session.stop();
    expect(session.snapshot.status).to.equal('disconnecting');
    socket.serverSend({ type: 'function_call', call_id: 'call_late', name: 'ping', arguments: {} });
    await stopping;
    expect(session.snapshot.status).to.equal('disconnected');
    socket.serverSend({ type: 'function_call', call_id: 'call_later', name: 'ping', arguments: {} });
    await settle();
    expect(socket.sentOfType('function_call.result')).to.deep.equal([]);
    expect(events.filter((e) => e.type === 'tool-call' || e.type === 'tool-result')).to.deep.equal([]);
  });

  it('sends nothing when tools are set before the session starts, and declares them when it does', async () => {
    const deps = fakeDeps(new FakeAudio());
    // The scripted socket never answers the close: 50 ms for it, as the other sessions here, not the default 2 s.
    const session = new VoiceSession(
      { agentId: 'a', mode: 'chat', variables: {}, serverUrl: 'wss://agent.test/connect', tokenProvider: async () => ({ token: 'wct_1' }), closeTimeoutMs: 50 },
      deps,
    );
    session.setTools(ping);
    const started = session.start();
    await settle();
    session.setTools({ ...ping, pong: { description: 'Pong', handler: () => 'ping' } });
    expect(deps.sockets[0].sentOfType('session.update'), 'nothing before session.created').to.deep.equal([]);
    deps.sockets[0].serverSend(created);
    await started;
    expect(deps.sockets[0].sentOfType('session.update').map((f) => (f.tools as { name: string }[]).map((t) => t.name))).to.deep.equal([['ping', 'pong']]);
    await session.stop();
  });
});

describe('limitOutput', () => {
  it('keeps output up to the limit as it is, and makes a lone surrogate well-formed', () => {
    const exact = '€'.repeat(21_845) + 'x';
    expect(utf8Length(exact)).to.equal(MAX_TOOL_OUTPUT_BYTES);
    expect(limitOutput(exact)).to.equal(exact);
    expect(limitOutput('a\ud800b\udc00c')).to.equal('a\ufffdb\ufffdc');
    expect(limitOutput('😀')).to.equal('😀');
  });

  it('cuts one byte over the limit, on a character boundary', () => {
    const over = '€'.repeat(21_845) + 'xy';
    const cut = limitOutput(over);
    expect(utf8Length(cut)).to.be.at.most(MAX_TOOL_OUTPUT_BYTES);
    expect(cut).to.match(/\n\[Output truncated: the tool returned 65537 bytes; the limit is 65536\.\]$/);
    expect(over.startsWith(cut.slice(0, cut.indexOf('\n[Output truncated')))).to.equal(true);
    expect(new TextEncoder().encode(cut).length).to.equal(utf8Length(cut));
  });
});
