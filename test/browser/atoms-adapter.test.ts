import '../support/guards.js';
import { expect } from '@open-wc/testing';
import { MAX_FRAME_SIZE } from '../../src/protocol/agent-events.js';
import { atomsAdapter } from '../../src/protocol/atoms/atoms-adapter.js';
import { base64ToPcm16, pcm16ToBase64 } from '../../src/protocol/pcm.js';

const decode = (frame: object | string) => atomsAdapter.decode(typeof frame === 'string' ? frame : JSON.stringify(frame));

describe('atomsAdapter', () => {
  it('puts the token in the query and keeps other parameters', () => {
    const { url, protocols } = atomsAdapter.connection('wss://example.test/atoms/v1/agent/connect?region=eu', 'wct_abc');
    expect(new URL(url).searchParams.get('token')).to.equal('wct_abc');
    expect(new URL(url).searchParams.get('region')).to.equal('eu');
    expect(protocols).to.equal(undefined);
  });

  it('decodes session.created with its rate', () => {
    expect(decode({ type: 'session.created', session_id: 's1', call_id: 'CALL-1', sample_rate: 16000, channels: 1 })).to.deep.equal([
      { type: 'session-started', sessionId: 's1', callId: 'CALL-1', sampleRate: 16000 },
    ]);
  });

  it('refuses an impossible sample rate', () => {
    expect(decode({ type: 'session.created', session_id: 's', sample_rate: -5 })[0].type).to.equal('malformed');
  });

  it('decodes output_audio.delta to little-endian PCM16', () => {
    const [event] = decode({ type: 'output_audio.delta', audio: btoa(String.fromCharCode(0x01, 0x00, 0xff, 0x7f, 0x00, 0x80)) });
    expect(event.type).to.equal('audio');
    expect(Array.from((event as { pcm: Int16Array }).pcm)).to.deep.equal([1, 32767, -32768]);
  });

  it('reports undecodable audio as malformed', () => {
    expect(decode({ type: 'output_audio.delta', audio: '%%%' })[0].type).to.equal('malformed');
    expect(decode({ type: 'output_audio.delta', audio: btoa('abc') })[0].type).to.equal('malformed');
    expect(decode({ type: 'output_audio.delta' })[0].type).to.equal('malformed');
  });

  it('decodes cumulative deltas and finals, with agent as an alias of assistant', () => {
    expect(decode({ type: 'transcript.delta', role: 'user', text: 'hel' })).to.deep.equal([
      { type: 'transcript', role: 'user', text: 'hel', final: false, merge: 'replace' },
    ]);
    expect(decode({ type: 'transcript', role: 'agent', text: 'Hi.' })).to.deep.equal([
      { type: 'transcript', role: 'assistant', text: 'Hi.', final: true, merge: 'replace' },
    ]);
    expect(decode({ type: 'transcript', role: 'robot', text: 'x' })[0].type).to.equal('malformed');
  });

  it('decodes talking, interruption and close events', () => {
    expect(decode({ type: 'agent_start_talking', timestamp: '2026-07-02T10:30:45.123456' })).to.deep.equal([{ type: 'agent-speaking', speaking: true }]);
    expect(decode({ type: 'agent_stop_talking' })).to.deep.equal([{ type: 'agent-speaking', speaking: false }]);
    expect(decode({ type: 'interruption' })).to.deep.equal([{ type: 'interruption' }]);
    expect(decode({ type: 'session.closed', reason: 'ended' })).to.deep.equal([{ type: 'session-ended', reason: 'ended' }]);
  });

  it('decodes the dotted spellings of the talking events as well', () => {
    expect(decode({ type: 'agent.start_talking', timestamp: '2026-07-02T10:30:45.123456' })).to.deep.equal([{ type: 'agent-speaking', speaking: true }]);
    expect(decode({ type: 'agent.stop_talking' })).to.deep.equal([{ type: 'agent-speaking', speaking: false }]);
  });

  it('decodes session.updated into the accepted tool names', () => {
    expect(decode({ type: 'session.updated', tools: ['get_weather', 'ping'] })).to.deep.equal([{ type: 'tools-accepted', names: ['get_weather', 'ping'] }]);
    expect(decode({ type: 'session.updated', tools: [{ name: 'get_weather' }, 'ping', 7, null] })).to.deep.equal([
      { type: 'tools-accepted', names: ['get_weather', 'ping', '7'] },
    ]);
    expect(decode({ type: 'session.updated', tools: [] })).to.deep.equal([{ type: 'tools-accepted', names: [] }]);
    expect(decode({ type: 'session.updated' })[0].type).to.equal('malformed');
  });

  it('decodes function_call with arguments as an object or a JSON string', () => {
    const call = { type: 'function_call', call_id: 'call_1', name: 'get_weather' };
    expect(decode({ ...call, arguments: { city: 'Paris' } })).to.deep.equal([{ type: 'tool-call', callId: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }]);
    expect(decode({ ...call, arguments: '{"city":"Oslo"}' })).to.deep.equal([{ type: 'tool-call', callId: 'call_1', name: 'get_weather', arguments: { city: 'Oslo' } }]);
    for (const none of [undefined, null, '']) expect((decode({ ...call, arguments: none })[0] as { arguments: unknown }).arguments).to.deep.equal({});
    // Unreadable arguments still make a call, which the session answers as such.
    for (const bad of ['{oops', '[1]', '"text"', 42, [1, 2]]) {
      expect(decode({ ...call, arguments: bad })).to.deep.equal([{ type: 'tool-call', callId: 'call_1', name: 'get_weather', arguments: undefined }]);
    }
    expect(decode({ type: 'function_call', name: 'x', arguments: {} })[0].type).to.equal('malformed');
  });

  it('turns the client-tools refusals into tools-rejected; other tool errors stay non-fatal errors', () => {
    for (const code of ['tool_name_conflict', 'client_tools_managed_by_config', 'invalid_tools']) {
      expect(decode({ type: 'error', code, message: 'no' })).to.deep.equal([{ type: 'tools-rejected', code, message: 'no' }]);
    }
    for (const code of ['tool_timeout', 'unknown_call_id', 'result_too_large']) {
      expect(decode({ type: 'error', code, message: 'late' })).to.deep.equal([{ type: 'error', code, message: 'late', fatal: false }]);
    }
  });

  it('reads flat and nested error frames; HTTP-status codes are fatal', () => {
    expect(decode({ type: 'error', code: '401', message: 'Unauthorized' })).to.deep.equal([
      { type: 'error', code: '401', message: 'Unauthorized', fatal: true },
    ]);
    expect(decode({ type: 'error', error: { message: 'boom' } })).to.deep.equal([{ type: 'error', code: 'unknown', message: 'boom', fatal: false }]);
    expect(decode({ type: 'error', code: 'invalid_event', message: 'audio is required' })[0]).to.include({ fatal: false });
  });

  it('skips unknown event types and reports unreadable frames', () => {
    expect(decode({ type: 'conversation.item.created', item: {} })).to.deep.equal([]);
    for (const frame of ['nope', '[]', 'null', '{"type":1}']) expect(decode(frame)[0].type, frame).to.equal('malformed');
    expect(atomsAdapter.decode(new ArrayBuffer(4))[0].type).to.equal('malformed');
  });

  it('reads a frame of up to 1 MiB and refuses a bigger one unread, text or binary', () => {
    expect(MAX_FRAME_SIZE).to.equal(1024 * 1024);
    // A valid transcript frame of exactly the limit, and the same frame one character longer.
    const frameOf = (length: number) => {
      const shell = JSON.stringify({ type: 'transcript', role: 'user', text: '' });
      return JSON.stringify({ type: 'transcript', role: 'user', text: 'a'.repeat(length - shell.length) });
    };
    const atLimit = frameOf(MAX_FRAME_SIZE);
    expect(atLimit.length).to.equal(MAX_FRAME_SIZE);
    const [read] = atomsAdapter.decode(atLimit);
    expect(read).to.include({ type: 'transcript', role: 'user', final: true });
    const realParse = JSON.parse;
    let parsed = 0;
    JSON.parse = (...args: Parameters<typeof JSON.parse>) => (parsed++, realParse(...args));
    let refused;
    try {
      refused = atomsAdapter.decode(frameOf(MAX_FRAME_SIZE + 1));
    } finally {
      JSON.parse = realParse;
    }
    expect(parsed, 'the oversize frame is not parsed').to.equal(0);
    expect(refused).to.deep.equal([{ type: 'malformed', message: `frame of ${MAX_FRAME_SIZE + 1} characters is over the ${MAX_FRAME_SIZE} limit` }]);
    // Binary frames are refused either way; an oversize one says why.
    expect(atomsAdapter.decode(new ArrayBuffer(MAX_FRAME_SIZE + 1))).to.deep.equal([
      { type: 'malformed', message: `frame of ${MAX_FRAME_SIZE + 1} bytes is over the ${MAX_FRAME_SIZE} limit` },
    ]);
    expect(atomsAdapter.decode(new ArrayBuffer(MAX_FRAME_SIZE))[0]).to.deep.equal({ type: 'malformed', message: 'binary frame (the protocol sends JSON text only)' });
  });

  it('never throws on hostile JSON: deep nesting, NaN and Infinity as text, wrong field types', () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const objects = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    for (const frame of [deep, objects, '{"type":"output_audio.delta","audio":NaN}', '{"type":"session.created","sample_rate":Infinity}']) {
      expect(decode(frame).map((e) => e.type), frame.slice(0, 40)).to.deep.equal(['malformed']);
    }
    const wrongTypes: object[] = [
      { type: 'session.created', sample_rate: 'NaN' },
      { type: 'session.created', sample_rate: 1e308 },
      { type: 'output_audio.delta', audio: 12 },
      { type: 'output_audio.delta', audio: 'AAAAA' },
      { type: 'transcript', role: ['user'], text: 'x' },
      { type: 'transcript.delta', role: 'user', text: { toString: 'x' } },
      { type: 'session.updated', tools: 'all' },
      { type: 'function_call', call_id: {}, name: 'x' },
    ];
    for (const frame of wrongTypes) expect(decode(frame).map((e) => e.type), JSON.stringify(frame)).to.deep.equal(['malformed']);
    // Where a wrong type still makes sense of the frame, it is read leniently rather than dropped.
    expect(decode({ type: 'error', code: 500, message: ['x'] })).to.deep.equal([{ type: 'error', code: '500', message: 'The agent server reported an error.', fatal: true }]);
    expect(decode({ type: 'session.closed', reason: { why: 1 } })).to.deep.equal([{ type: 'session-ended', reason: 'ended' }]);
  });

  it('encodes commands as Atoms client frames', () => {
    expect(JSON.parse(atomsAdapter.encode({ type: 'text', text: 'hi' }) as string)).to.deep.equal({ type: 'input_text.send', text: 'hi' });
    expect(JSON.parse(atomsAdapter.encode({ type: 'close' }) as string)).to.deep.equal({ type: 'session.close' });
    const tools = [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: {} }, timeoutMs: 5000, expectsResponse: false }];
    expect(JSON.parse(atomsAdapter.encode({ type: 'tools', tools }) as string)).to.deep.equal({
      type: 'session.update',
      tools: [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: {} }, timeout_ms: 5000, expectsResponse: false }],
    });
    expect(JSON.parse(atomsAdapter.encode({ type: 'tools', tools: [] }) as string)).to.deep.equal({ type: 'session.update', tools: [] });
    expect(JSON.parse(atomsAdapter.encode({ type: 'tool-result', callId: 'call_1', output: 'ok' }) as string)).to.deep.equal({
      type: 'function_call.result',
      call_id: 'call_1',
      output: 'ok',
    });
    const audio = JSON.parse(atomsAdapter.encode({ type: 'audio', pcm: Int16Array.of(1, -2) }) as string);
    expect(audio.type).to.equal('input_audio_buffer.append');
    expect(Array.from(base64ToPcm16(audio.audio))).to.deep.equal([1, -2]);
  });

  it('puts PCM16 on the wire little-endian, byte for byte', () => {
    const bytes = (base64: string) => Array.from(atob(base64), (c) => c.charCodeAt(0));
    // 1, -2, 0x1234, -32768, 32767 → 01 00 | FE FF | 34 12 | 00 80 | FF 7F
    expect(bytes(pcm16ToBase64(Int16Array.of(1, -2, 0x1234, -32768, 32767)))).to.deep.equal([0x01, 0x00, 0xfe, 0xff, 0x34, 0x12, 0x00, 0x80, 0xff, 0x7f]);
    const audio = JSON.parse(atomsAdapter.encode({ type: 'audio', pcm: Int16Array.of(0x0102) }) as string);
    expect(audio.audio).to.equal(btoa('\x02\x01'));
    expect(Array.from(base64ToPcm16(btoa('\x34\x12\xfe\xff')))).to.deep.equal([0x1234, -2]);
  });

  it('round-trips PCM16 through base64, including views on larger buffers', () => {
    const whole = Int16Array.from({ length: 480 }, (_, i) => (i * 137) % 65536 - 32768);
    expect(Array.from(base64ToPcm16(pcm16ToBase64(whole)))).to.deep.equal(Array.from(whole));
    const view = whole.subarray(10, 20);
    expect(Array.from(base64ToPcm16(pcm16ToBase64(view)))).to.deep.equal(Array.from(view));
  });
});
