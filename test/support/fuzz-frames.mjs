/**
 * Hostile and malformed agent frames, generated from a seed (the same seed gives the same frames):
 * random JSON, known events with fields of the wrong type, unknown and out-of-order events, binary
 * frames, broken base64, NaN and Infinity as text, nesting 10,000 deep, strings of megabytes, HTML
 * and script payloads, mixed with valid audio, transcripts and talking events. Never a frame that
 * legitimately ends a call (`session.closed`, `session_ended`, a fatal `error`): the call must
 * survive all of them. Used by the fault server's `fuzz` scenario.
 */

/** A small, fast seeded PRNG (mulberry32): floats in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every frame type the client reads; the generator's unknown types are never one of them. */
const KNOWN_TYPES = [
  'session.created',
  'output_audio.delta',
  'transcript.delta',
  'transcript',
  'interruption',
  'agent_start_talking',
  'agent_stop_talking',
  'agent.start_talking',
  'agent.stop_talking',
  'session.updated',
  'function_call',
  'error',
];
const ENDING_TYPES = new Set(['session.closed', 'session_ended']);
const UNKNOWN_TYPES = [
  'conversation.item.created',
  'response.done',
  'ping',
  'session.update', // a client frame, sent by the server
  'input_audio_buffer.append',
  'function_call.result',
  'input_text.send',
  'TRANSCRIPT',
  'transcript ',
  ' error',
  'output_audio.delta.extra',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '',
  '\u0000',
  'événement',
  '💥',
];
/** `error` codes that do not end the call (an HTTP status as the code is fatal), and those that refuse the client tools. */
const SAFE_ERROR_CODES = ['invalid_event', 'no_session', 'internal_error', 'rate_limited', 'tool_timeout', 'unknown_call_id', '4000', '40', '4011', '600', 'x401', '401 ', ''];
const TOOLS_REJECTED_CODES = ['tool_name_conflict', 'client_tools_managed_by_config', 'invalid_tools'];
const FATAL_ERROR_CODE = /^[45]\d\d$/;

/** Text a page must show as text, never run. */
export const HTML_PAYLOADS = [
  '<img src=x onerror="window.__vaInjected = (window.__vaInjected || 0) + 1">',
  '<script>window.__vaInjected = (window.__vaInjected || 0) + 1</script>',
  '<svg onload="window.__vaInjected = (window.__vaInjected || 0) + 1"></svg>',
  '"><iframe srcdoc="<script>parent.__vaInjected=1</script>"></iframe>',
  '<a href="javascript:window.__vaInjected=1">click</a>',
  '${window.__vaInjected = 1}',
  '{{constructor.constructor("window.__vaInjected=1")()}}',
];
const WEIRD_TEXT = [
  '\u202eevil right-to-left override',
  'zero\u200bwidth\u200djoiner\ufeff',
  'combining a\u0301\u0302\u0303\u0304\u0305\u0306\u0307',
  'control \u0000\u0001\u0007\u001b[31mred\u001b[0m',
  'lone surrogates \ud800 and \udfff',
  'emoji 👩‍👩‍👧‍👦 🏳️‍🌈',
  'new\nlines\r\nand\ttabs',
  'null',
  '',
  ' ',
];
const ROLES_BAD = ['robot', 'system', 'USER', 'Assistant', '', ' user', null, 0, 1, true, [], {}, ['user'], { role: 'user' }];

export class FrameFuzzer {
  /** @param {number} seed */
  constructor(seed) {
    this.random = prng(seed);
    /** Frames made, per kind. */
    this.kinds = {};
    this.stats = {
      frames: 0,
      bytes: 0,
      /** Frames over 1 MiB (text characters or binary bytes). */
      oversize: 0,
      /** Valid final transcripts: each makes a transcript entry. */
      finalTranscripts: 0,
      /** Valid agent audio, in samples at 24 kHz. */
      audioSamples: 0,
      /** Frames carrying an HTML or script payload in a text field. */
      htmlPayloads: 0,
      deepNesting: 0,
    };
    this._assistantText = '';
  }

  int(min, max) {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  pick(list) {
    return list[Math.floor(this.random() * list.length)];
  }

  chance(p) {
    return this.random() < p;
  }

  /** Counts a frame and returns it as sent: a string (text frame) or a Buffer (binary frame). */
  _frame(kind, data) {
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
    this.stats.frames++;
    const size = typeof data === 'string' ? data.length : data.length;
    this.stats.bytes += size;
    if (size > 1024 * 1024) this.stats.oversize++;
    return data;
  }

  /** The next ordinary frame: one kind picked by weight. */
  next() {
    const kinds = [
      [25, () => this.audio()],
      [16, () => this.transcript()],
      [12, () => this.wrongTypes()],
      [8, () => this.randomJson()],
      [8, () => this.unknownType()],
      [6, () => this.badBase64()],
      [6, () => this.outOfOrder()],
      [4, () => this.binary()],
      [4, () => this.notJson()],
      [4, () => this.error()],
      [3, () => this.nanInfinity()],
      [3, () => this.talking()],
      [1, () => this.toolsRejected()],
      [1, () => this._frame('interruption', JSON.stringify({ type: 'interruption' }))],
      [1, () => this.prototypeKeys()],
    ];
    const total = kinds.reduce((n, [w]) => n + w, 0);
    let roll = this.random() * total;
    for (const [weight, make] of kinds) {
      roll -= weight;
      if (roll < 0) return make();
    }
    return kinds[0][1]();
  }

  // --- valid frames ---------------------------------------------------------------------------

  /** Mono PCM16 noise at 24 kHz, as base64. */
  pcmBase64(samples, amplitude = 2000) {
    const pcm = Buffer.alloc(samples * 2);
    for (let i = 0; i < samples; i++) pcm.writeInt16LE(Math.round((this.random() * 2 - 1) * amplitude), i * 2);
    return pcm.toString('base64');
  }

  audio(ms = this.int(10, 120)) {
    const samples = Math.round(24 * ms);
    this.stats.audioSamples += samples;
    return this._frame('audio', JSON.stringify({ type: 'output_audio.delta', audio: this.pcmBase64(samples) }));
  }

  text() {
    const roll = this.random();
    if (roll < 0.1) {
      this.stats.htmlPayloads++;
      return this.pick(HTML_PAYLOADS);
    }
    if (roll < 0.2) return this.pick(WEIRD_TEXT);
    const words = ['hello', 'there', 'the', 'order', 'is', 'ready', 'tomorrow', 'Übermorgen', 'naïve', 'مرحبا', 'こんにちは', 'ok'];
    return Array.from({ length: this.int(1, 12) }, () => this.pick(words)).join(' ');
  }

  transcript() {
    const roll = this.random();
    if (roll < 0.35) {
      // The agent's turn so far, growing (cumulative, as the protocol sends it).
      this._assistantText = `${this._assistantText} ${this.text()}`.trim().slice(-2000);
      return this._frame('transcript', JSON.stringify({ type: 'transcript.delta', role: this.pick(['assistant', 'agent']), text: this._assistantText }));
    }
    if (roll < 0.45) return this._frame('transcript', JSON.stringify({ type: 'transcript.delta', role: 'user', text: this.text() }));
    this.stats.finalTranscripts++;
    const role = roll < 0.8 ? 'user' : this.pick(['assistant', 'agent']);
    if (role !== 'user') this._assistantText = '';
    return this._frame('transcript', JSON.stringify({ type: 'transcript', role, text: this.text() }));
  }

  talking() {
    return this._frame('talking', JSON.stringify({ type: this.pick(['agent_start_talking', 'agent_stop_talking', 'agent.start_talking', 'agent.stop_talking']), timestamp: this.pick(['2026-07-02T10:30:45.123456', 42, null, 'yesterday']) }));
  }

  /** A non-fatal `error` frame, flat or nested, with a code that is no HTTP status. */
  error() {
    const code = this.chance(0.7) ? this.pick(SAFE_ERROR_CODES) : this.pick([null, true, [], {}, ['401'], { code: '500' }, 4000, 3.5, -1]);
    const message = this.chance(0.2) ? (this.stats.htmlPayloads++, this.pick(HTML_PAYLOADS)) : this.pick(['oops', '', null, 42, { message: 'nested?' }, 'x'.repeat(this.int(0, 5000))]);
    const frame = this.chance(0.5) ? { type: 'error', code, message } : { type: 'error', error: { code, message } };
    return this._frame('error', JSON.stringify(frame));
  }

  toolsRejected() {
    return this._frame('tools-rejected', JSON.stringify({ type: 'error', code: this.pick(TOOLS_REJECTED_CODES), message: this.text() }));
  }

  // --- hostile frames -------------------------------------------------------------------------

  /** Any JSON value, up to `depth` levels of arrays and objects. */
  value(depth = 3) {
    const roll = this.random();
    if (depth > 0 && roll < 0.15) return Array.from({ length: this.int(0, 5) }, () => this.value(depth - 1));
    if (depth > 0 && roll < 0.3) {
      const object = {};
      for (let i = this.int(0, 5); i > 0; i--) object[this.pick(['type', 'audio', 'text', 'role', 'code', 'a', 'b', 'call_id', 'tools', 'x'.repeat(this.int(1, 30))])] = this.value(depth - 1);
      return object;
    }
    if (roll < 0.45) return this.int(-1e9, 1e9) * (this.chance(0.5) ? 1 : 1e-6);
    if (roll < 0.5) return this.pick([0, -0, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2]);
    if (roll < 0.6) return this.pick([true, false, null]);
    return this.text();
  }

  randomJson() {
    const value = this.value(4);
    // Keep clear of frames that end the call: a random object may not carry a known type by chance.
    if (value && typeof value === 'object' && !Array.isArray(value) && 'type' in value) value.type = this.pick(UNKNOWN_TYPES);
    return this._frame('random-json', JSON.stringify(value));
  }

  unknownType() {
    const type = this.chance(0.7) ? this.pick(UNKNOWN_TYPES) : `x.${this.int(0, 1e6).toString(36)}.${'z'.repeat(this.int(0, 200))}`;
    return this._frame('unknown-type', JSON.stringify({ type, data: this.value(2), text: this.text() }));
  }

  /** A known event with fields of the wrong type, or missing. */
  wrongTypes() {
    const type = this.pick(KNOWN_TYPES.filter((t) => t !== 'error'));
    const wrong = () => this.pick([null, 0, -1, 1.5, true, [], {}, [1, 2], { a: 1 }, '', 'NaN', '24000', 'x', this.value(2)]);
    const frame = { type };
    for (const field of ['session_id', 'call_id', 'sample_rate', 'channels', 'audio', 'role', 'text', 'tools', 'name', 'arguments', 'timestamp']) {
      if (this.chance(0.4)) frame[field] = wrong();
    }
    if (type === 'session.created' && this.chance(0.5)) frame.sample_rate = this.pick([0, -24000, 7999, 96001, 24000.5, '24000', null, 1e308, []]);
    return this._frame('wrong-types', JSON.stringify(frame));
  }

  badBase64() {
    const good = this.pcmBase64(this.int(1, 960));
    const roll = this.random();
    let audio;
    if (roll < 0.25) audio = good.slice(0, this.int(0, good.length - 1)); // truncated
    else if (roll < 0.45) audio = Buffer.from(Array.from({ length: 2 * this.int(0, 500) + 1 }, () => this.int(0, 255))).toString('base64'); // odd byte count
    else if (roll < 0.65) audio = good.slice(0, 10) + this.pick(['@', '!', '-', '_', '*', '\u00e9', '€', '\u0000', '==', '=A']) + good.slice(10); // invalid characters
    else if (roll < 0.8) audio = good.replace(/=+$/, '') + this.pick(['===', '=', '====']); // wrong padding
    else if (roll < 0.9) audio = ` ${good.match(/.{1,76}/g).join('\n')} `; // whitespace, as MIME wraps it
    else audio = this.pick(['', '=', 'A', 'AA', 'AAA', 'data:audio/pcm;base64,AAAA']);
    return this._frame('bad-base64', JSON.stringify({ type: 'output_audio.delta', audio }));
  }

  binary() {
    const bytes = Buffer.alloc(this.int(0, 2048));
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.int(0, 255);
    if (this.chance(0.3)) bytes.write(JSON.stringify({ type: 'transcript', role: 'user', text: 'binary' }));
    return this._frame('binary', bytes);
  }

  nanInfinity() {
    const token = this.pick(['NaN', 'Infinity', '-Infinity', 'undefined', '1e999', '-0', '0x10', '.5', '+1']);
    const template = this.pick([
      `{"type":"output_audio.delta","audio":${token}}`,
      `{"type":"session.created","session_id":"s","sample_rate":${token}}`,
      `{"type":"transcript","role":"user","text":${token}}`,
      `{"type":"error","code":${token},"message":"m"}`,
      `[${token}]`,
      token,
    ]);
    return this._frame('nan-infinity', template);
  }

  notJson() {
    const valid = JSON.stringify({ type: 'transcript', role: 'user', text: this.text() });
    return this._frame(
      'not-json',
      this.pick([
        '',
        ' ',
        '\ufeff{}',
        valid.slice(0, this.int(1, valid.length - 1)), // truncated
        valid + '}',
        valid + valid, // two frames in one
        `{'type': 'transcript'}`,
        '{"type":"transcript",}',
        '{"type":"transcript" "role":"user"}',
        '/* comment */ {}',
        'true',
        '"just a string"',
        '12',
        'null',
        '[]',
        '{}',
        '{"type":null}',
        this.text(),
      ]),
    );
  }

  /** Valid-looking events at the wrong time or for the wrong party. */
  outOfOrder() {
    const roll = this.random();
    let frame;
    if (roll < 0.15) frame = { type: 'session.created', session_id: `sess_${this.int(0, 99)}`, call_id: 'CALL-again', sample_rate: this.pick([24000, 16000, 48000, 8000]), channels: this.pick([1, 2]) };
    else if (roll < 0.3) frame = { type: 'agent_stop_talking' };
    else if (roll < 0.4) frame = { type: 'interruption', reason: 'nothing was playing' };
    else if (roll < 0.6) frame = { type: this.pick(['transcript', 'transcript.delta']), role: this.pick(ROLES_BAD), text: this.text() };
    else if (roll < 0.7) frame = { type: 'session.updated', tools: this.pick([[], ['a', 'b'], [{ name: '<b>x</b>' }], [1, null, {}]]) };
    else if (roll < 0.85) frame = { type: 'function_call', call_id: `call_${this.int(0, 1e6)}`, name: this.pick(['no_such_tool', '', '<img src=x onerror=alert(1)>', 'constructor', '__proto__']), arguments: this.pick([{}, '{"a":1}', '{oops', 42, null, [1]]) };
    else frame = { type: this.pick(['input_audio_buffer.append', 'input_text.send', 'function_call.result', 'session.update']), audio: 'AAAA', text: 'echo', call_id: 'c', output: 'o' };
    return this._frame('out-of-order', JSON.stringify(frame));
  }

  /** Keys that name the prototype chain: plain data to JSON.parse. */
  prototypeKeys() {
    return this._frame(
      'prototype',
      this.pick([
        '{"type":"transcript","__proto__":{"role":"user","text":"polluted"}}',
        '{"type":"transcript","role":"user","text":"x","constructor":{"prototype":{"polluted":true}}}',
        '{"__proto__":{"type":"transcript"},"role":"user","text":"x"}',
        '{"type":"function_call","call_id":"c","name":"toString","arguments":{"__proto__":{"polluted":true}}}',
      ]),
    );
  }

  // --- special frames -------------------------------------------------------------------------

  /** A frame of 2 to 8 MB: a transcript, an audio chunk, or a bare string. */
  huge() {
    const length = this.int(2, 8) * 1024 * 1024;
    const roll = this.random();
    let data;
    if (roll < 0.4) data = JSON.stringify({ type: 'transcript.delta', role: 'assistant', text: 'A'.repeat(length) });
    else if (roll < 0.7) data = JSON.stringify({ type: 'output_audio.delta', audio: 'AAAA'.repeat(length / 4) });
    else data = 'B'.repeat(length);
    return this._frame('huge', data);
  }

  hugeBinary() {
    return this._frame('huge-binary', Buffer.alloc(1024 * 1024 + this.int(1, 512 * 1024), 7));
  }

  /** Under the frame limit, over the transcript's per-entry limit. */
  longTranscript() {
    const text = `long ${'lorem ipsum '.repeat(this.int(2000, 60000))}`;
    const final = this.chance(0.5);
    if (final) this.stats.finalTranscripts++;
    return this._frame('long-transcript', JSON.stringify({ type: final ? 'transcript' : 'transcript.delta', role: final ? 'user' : 'assistant', text }));
  }

  /** Nesting 10,000 deep: bare, or inside an otherwise valid frame. */
  deep() {
    this.stats.deepNesting++;
    const n = 10_000;
    return this._frame(
      'deep',
      this.pick([
        '['.repeat(n) + ']'.repeat(n),
        '{"a":'.repeat(n) + '1' + '}'.repeat(n),
        `{"type":"transcript","role":"user","text":"deep","extra":${'['.repeat(n) + ']'.repeat(n)}}`,
        `{"type":"function_call","call_id":"deep","name":"deep_tool","arguments":${'{"a":'.repeat(n) + '1' + '}'.repeat(n)}}`,
        `{"type":"session.updated","tools":${'['.repeat(n) + ']'.repeat(n)}}`,
      ]),
    );
  }
}

const text = (value) => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');

/**
 * What a frame does to a call, read as the client reads it (src/protocol/atoms/atoms-adapter.ts):
 * `ends-call` (the fuzz sends none of these), `server-error` (one non-fatal `va-error` each),
 * `tools-rejected`, or undefined. Frames over 1 MiB are refused unread: they do nothing of the kind.
 */
export function frameEffect(data) {
  if (typeof data !== 'string' || data.length > 1024 * 1024) return undefined;
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!frame || typeof frame !== 'object' || Array.isArray(frame)) return undefined;
  if (ENDING_TYPES.has(frame.type)) return 'ends-call';
  if (frame.type !== 'error') return undefined;
  const nested = typeof frame.error === 'object' && frame.error !== null ? frame.error : {};
  const code = text(frame.code) || text(nested.code) || 'unknown';
  if (TOOLS_REJECTED_CODES.includes(code)) return 'tools-rejected';
  return FATAL_ERROR_CODE.test(code) ? 'ends-call' : 'server-error';
}
