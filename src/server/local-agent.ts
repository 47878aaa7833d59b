/**
 * A local agent that speaks the Smallest Atoms protocol on loopback, so the demo, the tests and a
 * site's development setup work without an API key: the `register-call` REST route that mints
 * single-use `wct_` tokens, and the agent WebSocket. The agent greets, detects user turns by energy,
 * echoes each turn back ("You said: …"), answers typed text, and can be interrupted, with the same
 * events, pacing and transcript rules as the real service.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import { bearerToken, parseJsonObject, readBody, secretsEqual, sendJson, validateVariables } from './http-util.js';
import type { CallVariables } from './http-util.js';
import { TurnDetector } from './turn-detector.js';
import type { TurnEvent } from './turn-detector.js';
import { concatPcm, decodePcm16, encodePcm16, silence, splitWords, synthesizeSpeech } from './voice.js';
import type { SpokenWord } from './voice.js';

/** Settings for {@link LocalAgent}. */
export interface LocalAgentOptions {
  /** Interface to listen on when the agent owns its server. Default `127.0.0.1` (loopback only). */
  host?: string;
  /** Port to listen on when the agent owns its server. Default 0: any free port. */
  port?: number;
  /** The key `register-call` requires as `Authorization: Bearer <apiKey>`. Default `sk_local_dev`. */
  apiKey?: string;
  /** Sample rate of `wct_` sessions, in Hz. Default 24000. */
  sampleRate?: number;
  /** Lifetime of minted tokens, in seconds (fractions allowed). Default 30. */
  tokenTtlSeconds?: number;
  /** Spoken when a voice session opens; an empty string means no greeting. A string `greeting` call variable overrides it. */
  greeting?: string;
  /** Quiet audio that ends a user turn, in ms. Default 600. */
  turnSilenceMs?: number;
  /** Frame RMS (linear, samples in [-1, 1]) at or above which input audio counts as speech. Default 0.02. */
  speechThreshold?: number;
  /** Receives one line per notable event (listening, tokens minted, sessions opened and closed). Never given a token or key. */
  log?: (line: string) => void;
}

/** `webcall`: audio both ways (text also accepted). `chat`: text only. */
export type CallMode = 'webcall' | 'chat';

/** What the agent recorded about one session. A plain, JSON-serialisable object, updated while the session runs. */
export interface SessionStats {
  /** `session_id` from `session.created`. */
  sessionId: string;
  /** `call_id` from `session.created` (`CALL-<ms>-<hex6>`). */
  callId: string;
  agentId: string;
  mode: CallMode;
  /** The call variables, reserved keys removed. */
  variables: CallVariables;
  /** Epoch ms. */
  openedAt: number;
  /** Epoch ms when the session ended. */
  closedAt?: number;
  /** `client_requested`, `ended` (the agent hung up), `websocket_closed` (the socket closed first) or `server_shutdown`. */
  closeReason?: string;
  /** Valid `input_audio_buffer.append` frames received (invalid ones count in `invalidEvents`). */
  appendFrames: number;
  /** Samples per received append frame → how many frames had that size. */
  frameSamples: Record<string, number>;
  /** Loudest input frame so far (RMS, linear). */
  maxInputRms: number;
  /** User turns committed by the turn detector. */
  turns: number;
  /** `interruption` events sent. */
  interruptions: number;
  /** Every `input_text.send` text, in order. */
  textInputs: string[];
  /** `error` events with code `invalid_event` sent. */
  invalidEvents: number;
  /** Agent audio sent, in ms. */
  audioSentMs: number;
}

const REGISTER_CALL_PATH = '/atoms/v1/conversation/register-call';
const CONNECT_PATH = '/atoms/v1/agent/connect';
const DEFAULT_GREETING = "Hello! I'm the local test agent. Say something, and I'll repeat it back to you.";
const GOODBYE = 'Goodbye!';
const MAX_REGISTER_BODY_BYTES = 16 * 1024;
const MAX_FRAME_BYTES = 1024 * 1024;
const MAX_AGENT_ID_LENGTH = 128;
const MAX_TEXT_LENGTH = 4000;
const VARIABLE_LIMITS = { maxKeys: 64, maxKeyLength: 128, maxStringLength: MAX_TEXT_LENGTH } as const;
/** Variables Atoms fills in itself; callers may not set them (PROTOCOLS §1.2). */
const RESERVED_VARIABLES: ReadonlySet<string> = new Set([
  'call_id',
  'conversation_type',
  'agent_number',
  'user_number',
  'current_date',
  'current_time',
  'current_day',
  'agent_gender',
  'default_language',
  'supported_languages',
  'timezone',
]);
/** Rates a trusted (`sk_`) connection may ask for with `sample_rate`. */
const TRUSTED_SAMPLE_RATES: ReadonlySet<number> = new Set([8000, 16000, 24000, 48000]);
const AUDIO_CHUNK_MS = 40;
/** Audio goes out at twice realtime after a small lead: ahead of playback, yet never far enough that a barge-in has much to cut. */
const AUDIO_PACING = 2;
const AUDIO_LEAD_MS = 120;
const TICK_MS = 20;
/** Chat replies are "typed" one word per this many ms. */
const CHAT_WORD_MS = 50;
const USER_DELTA_EVERY_MS = 300;
const ECHO_PAUSE_MS = 250;
/** How long `close()` waits for clients to answer the close frame before cutting them off. */
const SHUTDOWN_GRACE_MS = 1000;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type ServerEvent =
  | { type: 'session.created'; session_id: string; call_id: string; sample_rate: number; channels: 1 }
  | { type: 'session.closed'; reason: string }
  | { type: 'agent_start_talking' | 'agent_stop_talking'; timestamp: string }
  | { type: 'output_audio.delta'; audio: string }
  | { type: 'transcript' | 'transcript.delta'; role: 'user' | 'assistant'; text: string }
  | { type: 'interruption' }
  | { type: 'error'; code: 'invalid_event' | 'internal_error'; message: string };

/** What a token or a trusted connection grants: one call with these settings. */
interface CallGrant {
  agentId: string;
  mode: CallMode;
  variables: CallVariables;
  sampleRate: number;
}

interface AgentConfig {
  host: string;
  port: number;
  apiKey: string;
  sampleRate: number;
  tokenTtlSeconds: number;
  session: SessionSettings;
  log: (line: string) => void;
}

interface SessionSettings {
  greeting: string;
  turnSilenceMs: number;
  speechThreshold: number;
  log: (line: string) => void;
}

/**
 * The local agent. Either owns an HTTP server ({@link LocalAgent.start}) or shares one
 * ({@link LocalAgent.attach}); either way it serves `POST /atoms/v1/conversation/register-call` and the
 * WebSocket at `/atoms/v1/agent/connect`.
 *
 * @example
 * const agent = await LocalAgent.start();
 * // register-call at agent.restBaseUrl with `Authorization: Bearer sk_local_dev`, then connect to
 * // `${agent.connectUrl}?token=<access_token>`.
 * await agent.close();
 */
export class LocalAgent {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, clientTracking: false });
  private readonly tokens: TokenStore;
  private readonly live = new Set<AgentSession>();
  private readonly history: SessionStats[] = [];
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly ownsServer: boolean,
    private readonly config: AgentConfig,
  ) {
    this.tokens = new TokenStore(config.tokenTtlSeconds * 1000);
    server.on('upgrade', this.onUpgrade);
  }

  /**
   * Starts an agent on its own HTTP server and resolves once it is listening.
   * @throws (rejects) on an invalid option or when the port cannot be bound.
   */
  static async start(options: LocalAgentOptions = {}): Promise<LocalAgent> {
    const config = resolveConfig(options);
    const server = createServer();
    const agent = new LocalAgent(server, true, config);
    server.on('request', (req, res) => {
      if (!agent.handleRequest(req, res)) sendJson(res, 404, { status: false, errors: ['Not found'] });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    config.log(`listening on ${agent.origin}`);
    return agent;
  }

  /**
   * Mounts an agent on an existing server. It takes WebSocket upgrades for its own path and leaves
   * every other upgrade to other listeners. HTTP requests are not intercepted: the server's request
   * handler calls {@link LocalAgent.handleRequest} first and handles the request itself when that
   * returns false. {@link LocalAgent.close} does not close the server.
   * @throws on an invalid option.
   */
  static attach(server: Server, options: LocalAgentOptions = {}): LocalAgent {
    return new LocalAgent(server, false, resolveConfig(options));
  }

  /** Serves the request if it is for the agent's REST route (answering it asynchronously) and returns whether it was. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    if (requestUrl(req)?.pathname !== REGISTER_CALL_PATH) return false;
    this.registerCall(req, res).catch(() => sendJson(res, 500, { status: false, errors: ['Internal error'] }));
    return true;
  }

  /** `http://host:port` of the server; only available while it is listening. */
  get origin(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('LocalAgent: the server is not listening on a TCP port yet.');
    return `http://${urlHost(address)}:${address.port}`;
  }

  /** The REST base, `${origin}/atoms/v1`, for `register-call`. */
  get restBaseUrl(): string {
    return `${this.origin}/atoms/v1`;
  }

  /** The agent WebSocket URL, without a token. */
  get connectUrl(): string {
    return `${this.origin.replace(/^http/, 'ws')}${CONNECT_PATH}`;
  }

  /** Every session so far, oldest first. The objects are live: they change while their session runs. */
  get sessions(): SessionStats[] {
    return [...this.history];
  }

  /**
   * Ends every session (close code 1001), clears all their timers, stops taking connections and, when
   * the agent owns its server, closes it. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await Promise.all([...this.live].map((session) => session.shutdown(SHUTDOWN_GRACE_MS)));
    this.server.off('upgrade', this.onUpgrade);
    this.wss.close();
    if (this.ownsServer && this.server.listening) {
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
    }
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = requestUrl(req);
    if (url?.pathname !== CONNECT_PATH) {
      if (this.ownsServer) rejectUpgrade(socket, 404);
      return;
    }
    if (this.closing) {
      rejectUpgrade(socket, 503);
      return;
    }
    const access = this.authorize(url, req);
    if ('status' in access) {
      this.config.log(`connection refused (${access.status}: ${access.reason})`);
      rejectUpgrade(socket, access.status);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.openSession(ws, access));
  };

  /**
   * Checks a connection's credential: a `wct_` token (used up here, whatever happens next) or, for
   * trusted servers, the API key with the call's settings in the query (as a token or a Bearer header).
   */
  private authorize(url: URL, req: IncomingMessage): CallGrant | { status: 400 | 401; reason: string } {
    const credential = url.searchParams.get('token') ?? bearerToken(req.headers.authorization);
    if (!credential) return { status: 401, reason: 'no token' };
    if (secretsEqual(credential, this.config.apiKey)) return trustedGrant(url.searchParams, this.config.sampleRate);
    return this.tokens.redeem(credential) ?? { status: 401, reason: 'unknown, used or expired token' };
  }

  private openSession(ws: WebSocket, grant: CallGrant): void {
    if (this.closing) {
      ws.terminate();
      return;
    }
    const session = new AgentSession(ws, grant, this.config.session);
    this.history.push(session.stats);
    this.live.add(session);
    void session.closed.then(() => this.live.delete(session));
    session.start();
  }

  private async registerCall(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fail = (status: number, error: string, headers?: OutgoingHttpHeaders): void =>
      sendJson(res, status, { status: false, errors: [error] }, headers);
    if (req.method !== 'POST') return fail(405, 'Method not allowed', { Allow: 'POST' });
    const key = bearerToken(req.headers.authorization);
    if (key === undefined || !secretsEqual(key, this.config.apiKey)) {
      this.config.log('register-call refused (401)');
      return fail(401, 'Unauthorized');
    }
    const body = await readBody(req, MAX_REGISTER_BODY_BYTES);
    if (!body.ok) {
      if (body.reason === 'too_large') fail(413, 'Request body too large', { Connection: 'close' });
      return;
    }
    const call = parseRegisterCall(body.text);
    if ('error' in call) return fail(400, call.error);

    const token = this.tokens.issue({ ...call, sampleRate: this.config.sampleRate });
    this.config.log(`register-call: token issued for agent ${JSON.stringify(call.agentId)} (${call.mode})`);
    sendJson(res, 201, {
      status: true,
      data: { access_token: token, expires_in: this.config.tokenTtlSeconds, sample_rate: this.config.sampleRate },
    });
  }
}

/** Single-use tokens with a lifetime; expired ones are dropped whenever the store is used. */
class TokenStore {
  private readonly grants = new Map<string, { grant: CallGrant; expiresAt: number }>();

  constructor(private readonly ttlMs: number) {}

  issue(grant: CallGrant): string {
    this.purge();
    const token = `wct_${randomUUID()}`;
    this.grants.set(token, { grant, expiresAt: performance.now() + this.ttlMs });
    return token;
  }

  /** The token's grant if it is known and unexpired; the token is spent either way. */
  redeem(token: string): CallGrant | undefined {
    this.purge();
    const entry = this.grants.get(token);
    this.grants.delete(token);
    return entry?.grant;
  }

  private purge(): void {
    const now = performance.now();
    for (const [token, { expiresAt }] of this.grants) if (expiresAt <= now) this.grants.delete(token);
  }
}

/** One agent turn to deliver: its words with their times and, in voice calls, its audio. */
interface Utterance {
  words: readonly SpokenWord[];
  pcm: Int16Array | undefined;
  durationMs: number;
}

interface PlaybackSink {
  send(event: ServerEvent): void;
  audioSent(ms: number): void;
  finished(): void;
}

/**
 * Delivers one agent turn: `agent_start_talking`, audio in 40 ms chunks at twice realtime, cumulative
 * captions that follow the realtime playback position word by word, then the final transcript and
 * `agent_stop_talking` once the whole turn would have been heard.
 */
class Playback {
  private readonly chunkSamples: number;
  private startedAt = 0;
  private samplesSent = 0;
  private wordsShown = 0;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly utterance: Utterance,
    private readonly sampleRate: number,
    private readonly sink: PlaybackSink,
  ) {
    this.chunkSamples = audioChunkSamples(sampleRate);
  }

  start(): void {
    this.startedAt = performance.now();
    this.sink.send({ type: 'agent_start_talking', timestamp: timestamp() });
    this.tick();
    if (!this.done) this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Stops at once and returns what the listener has heard: the words begun by now in realtime. */
  cancel(): string {
    this.stop();
    const elapsed = performance.now() - this.startedAt;
    return textOf(this.utterance.words.filter((word) => word.startMs <= elapsed));
  }

  private tick(): void {
    const elapsed = performance.now() - this.startedAt;
    this.sendAudio(elapsed);
    this.showWords(elapsed);
    const { words, pcm, durationMs } = this.utterance;
    const allSent = this.wordsShown === words.length && this.samplesSent === (pcm?.length ?? 0);
    if (!allSent || elapsed < durationMs) return;
    this.stop();
    this.sink.send({ type: 'transcript', role: 'assistant', text: textOf(words) });
    this.sink.send({ type: 'agent_stop_talking', timestamp: timestamp() });
    this.sink.finished();
  }

  private sendAudio(elapsedMs: number): void {
    const { pcm } = this.utterance;
    if (!pcm) return;
    const due = Math.min(pcm.length, Math.round(((AUDIO_LEAD_MS + AUDIO_PACING * elapsedMs) * this.sampleRate) / 1000));
    while (this.samplesSent < due) {
      const chunk = pcm.subarray(this.samplesSent, this.samplesSent + this.chunkSamples);
      this.samplesSent += chunk.length;
      this.sink.send({ type: 'output_audio.delta', audio: encodePcm16(chunk).toString('base64') });
      this.sink.audioSent((chunk.length * 1000) / this.sampleRate);
    }
  }

  private showWords(elapsedMs: number): void {
    const { words } = this.utterance;
    let shown = this.wordsShown;
    while (shown < words.length && words[shown]!.startMs <= elapsedMs) shown++;
    if (shown === this.wordsShown) return;
    this.wordsShown = shown;
    this.sink.send({ type: 'transcript.delta', role: 'assistant', text: textOf(words.slice(0, shown)) });
  }

  private stop(): void {
    this.done = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Audio from the user to play back after "You said:", and how to caption it. */
interface Echo {
  label: string;
  pcm: Int16Array;
}

/** One WebSocket connection: the Atoms session protocol, turn taking and the echo behaviour. */
class AgentSession {
  readonly stats: SessionStats;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  private readonly detector: TurnDetector | undefined;
  private playback: Playback | undefined;
  private sinceUserDeltaMs = 0;
  private lastUserDelta = '';
  /** Saying goodbye: further input is recorded but neither answered nor allowed to interrupt. */
  private ending = false;
  private finished = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly grant: CallGrant,
    private readonly settings: SessionSettings,
  ) {
    this.stats = {
      sessionId: `sess_${randomBytes(12).toString('hex')}`,
      callId: `CALL-${Date.now()}-${randomBytes(3).toString('hex')}`,
      agentId: grant.agentId,
      mode: grant.mode,
      variables: { ...grant.variables },
      openedAt: Date.now(),
      appendFrames: 0,
      frameSamples: {},
      maxInputRms: 0,
      turns: 0,
      interruptions: 0,
      textInputs: [],
      invalidEvents: 0,
      audioSentMs: 0,
    };
    this.detector =
      grant.mode === 'webcall'
        ? new TurnDetector({ sampleRate: grant.sampleRate, threshold: settings.speechThreshold, silenceMs: settings.turnSilenceMs })
        : undefined;
    this.closed = new Promise((resolve) => {
      ws.once('close', () => {
        this.finish('websocket_closed');
        resolve();
      });
    });
    ws.on('message', (data, isBinary) => {
      try {
        this.onMessage(data, isBinary);
      } catch (error) {
        // A fault in handling one frame is reported like Atoms reports its own, without ending the process.
        settings.log(`session ${this.stats.sessionId}: internal error: ${error instanceof Error ? error.message : String(error)}`);
        this.send({ type: 'error', code: 'internal_error', message: 'The local agent failed to handle that event.' });
      }
    });
    ws.on('error', (error) => settings.log(`session ${this.stats.sessionId}: socket error: ${error.message}`));
  }

  /** Announces the session and, in a voice call, speaks the greeting. */
  start(): void {
    const { sessionId, callId } = this.stats;
    this.settings.log(`session ${sessionId} opened (${this.grant.mode}, agent ${JSON.stringify(this.grant.agentId)})`);
    this.send({ type: 'session.created', session_id: sessionId, call_id: callId, sample_rate: this.grant.sampleRate, channels: 1 });
    const override = this.grant.variables['greeting'];
    const greeting = typeof override === 'string' ? override : this.settings.greeting;
    if (this.grant.mode === 'webcall' && greeting.trim() !== '') this.reply(greeting);
  }

  /** Closes the socket with 1001 and waits for it, cutting it off if the client does not answer within `graceMs`. */
  async shutdown(graceMs: number): Promise<void> {
    this.finish('server_shutdown');
    this.ws.close(1001, 'server shutting down');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([this.closed, grace]);
    clearTimeout(timer);
    this.ws.terminate();
    await this.closed;
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.finished) return;
    if (isBinary) return this.rejectEvent('binary frames are not part of the protocol: send JSON text frames');
    const event = parseJsonObject(rawText(data));
    if (!event) return this.rejectEvent('a frame must be a JSON object');
    const type = event['type'];
    if (typeof type !== 'string' || type === '') return this.rejectEvent('type is required');
    switch (type) {
      case 'input_audio_buffer.append':
        return this.onAudio(event['audio']);
      case 'input_text.send':
        return this.onText(event['text']);
      case 'session.close':
        return this.end('client_requested');
      case 'input_audio_buffer.commit':
      case 'session.update':
        // Reserved no-ops in the protocol: turns come from server-side detection only.
        return;
      default:
        return this.rejectEvent(`unknown event type ${JSON.stringify(type.slice(0, 64))}`);
    }
  }

  private onAudio(audio: unknown): void {
    if (!this.detector) return this.rejectEvent('audio is not accepted in chat mode');
    const decoded = decodeAudio(audio);
    if ('error' in decoded) return this.rejectEvent(decoded.error);
    const { pcm } = decoded;
    const { stats } = this;
    stats.appendFrames++;
    stats.frameSamples[pcm.length] = (stats.frameSamples[pcm.length] ?? 0) + 1;
    const events = this.detector.push(pcm);
    stats.maxInputRms = this.detector.maxRms;
    for (const event of events) this.onTurnEvent(event);
    if (this.detector.speaking) this.reportUserSpeech((pcm.length * 1000) / this.grant.sampleRate);
  }

  private onTurnEvent(event: TurnEvent): void {
    if (event.type === 'speech-start') {
      this.sinceUserDeltaMs = Number.POSITIVE_INFINITY; // caption the turn at once
      this.lastUserDelta = '';
      if (!this.ending) this.interrupt();
      return;
    }
    this.stats.turns++;
    this.send({ type: 'transcript', role: 'user', text: userTurnText(event.durationMs) });
    if (this.ending) return;
    // The detector keeps at most 15 s of a turn; the caption says how much is actually played back.
    const echoedMs = Math.min(event.durationMs, (event.audio.length * 1000) / this.grant.sampleRate);
    this.reply('You said:', { label: echoLabel(echoedMs), pcm: event.audio });
  }

  /** There is no speech recognition here: the live user caption says how long they have been talking. */
  private reportUserSpeech(frameMs: number): void {
    this.sinceUserDeltaMs += frameMs;
    if (this.sinceUserDeltaMs < USER_DELTA_EVERY_MS) return;
    this.sinceUserDeltaMs = 0;
    const text = userSpeakingText(this.detector?.speechMs ?? 0);
    if (text === this.lastUserDelta) return;
    this.lastUserDelta = text;
    this.send({ type: 'transcript.delta', role: 'user', text });
  }

  private onText(text: unknown): void {
    if (typeof text !== 'string' || text.trim() === '' || text.length > MAX_TEXT_LENGTH) {
      return this.rejectEvent(`text must be a non-empty string of at most ${MAX_TEXT_LENGTH} characters`);
    }
    this.stats.textInputs.push(text);
    if (this.ending) return;
    if (isGoodbye(text)) {
      this.ending = true;
      this.reply(GOODBYE, undefined, () => this.end('ended'));
      return;
    }
    this.reply(`You wrote: ${text}`);
  }

  /** Starts an agent turn (spoken in a voice call, written in chat), cutting off any turn in progress. */
  private reply(text: string, echo?: Echo, then?: () => void): void {
    this.interrupt();
    const { mode, sampleRate } = this.grant;
    const utterance = mode === 'chat' ? writtenUtterance(text) : spokenUtterance(text, sampleRate, echo);
    const playback = new Playback(utterance, sampleRate, {
      send: (event) => this.send(event),
      audioSent: (ms) => {
        this.stats.audioSentMs += ms;
      },
      finished: () => {
        this.playback = undefined;
        then?.();
      },
    });
    this.playback = playback;
    playback.start();
  }

  /** Barge-in: stops the agent's turn and sends what of it the user actually heard. */
  private interrupt(): void {
    const { playback } = this;
    if (!playback) return;
    this.playback = undefined;
    const heard = playback.cancel();
    this.stats.interruptions++;
    this.send({ type: 'interruption' });
    this.send({ type: 'transcript', role: 'assistant', text: heard });
  }

  private end(reason: 'client_requested' | 'ended'): void {
    if (this.finished) return;
    this.send({ type: 'session.closed', reason });
    this.finish(reason);
    this.ws.close(1000);
  }

  /** Records how the session ended and stops everything it had running. Only the first call counts. */
  private finish(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.playback?.cancel();
    this.playback = undefined;
    this.stats.closeReason = reason;
    this.stats.closedAt = Date.now();
    this.settings.log(`session ${this.stats.sessionId} closed (${reason})`);
  }

  private rejectEvent(message: string): void {
    this.stats.invalidEvents++;
    this.send({ type: 'error', code: 'invalid_event', message });
  }

  private send(event: ServerEvent): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(event));
  }
}

function spokenUtterance(text: string, sampleRate: number, echo: Echo | undefined): Utterance {
  const speech = synthesizeSpeech(text, sampleRate);
  const words = [...speech.words];
  const parts = [speech.pcm];
  if (echo) {
    const pause = silence(ECHO_PAUSE_MS, sampleRate);
    const startMs = ((speech.pcm.length + pause.length) * 1000) / sampleRate;
    words.push({ text: echo.label, startMs, endMs: startMs + (echo.pcm.length * 1000) / sampleRate });
    parts.push(pause, echo.pcm);
  }
  // Whole chunks only, so every audio delta is exactly 40 ms.
  const chunk = audioChunkSamples(sampleRate);
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  parts.push(new Int16Array((chunk - (length % chunk)) % chunk));
  const pcm = concatPcm(...parts);
  return { words, pcm, durationMs: (pcm.length * 1000) / sampleRate };
}

function audioChunkSamples(sampleRate: number): number {
  return Math.round((AUDIO_CHUNK_MS * sampleRate) / 1000);
}

function writtenUtterance(text: string): Utterance {
  const words = splitWords(text).map((word, index) => ({
    text: word,
    startMs: index * CHAT_WORD_MS,
    endMs: (index + 1) * CHAT_WORD_MS,
  }));
  return { words, pcm: undefined, durationMs: Math.max(0, words.length - 1) * CHAT_WORD_MS };
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);
/** Live caption of a user turn in progress, e.g. "(speaking, 0.6 s)". */
const userSpeakingText = (ms: number): string => `(speaking, ${seconds(ms)} s)`;
/** Final caption of a user turn, e.g. "(1.4 s of speech)". */
const userTurnText = (ms: number): string => `(${seconds(ms)} s of speech)`;
/** Caption of the echoed audio in the reply, e.g. "(echo of 1.4 s)". */
const echoLabel = (ms: number): string => `(echo of ${seconds(ms)} s)`;

function textOf(words: readonly SpokenWord[]): string {
  return words.map((word) => word.text).join(' ');
}

function isGoodbye(text: string): boolean {
  const phrase = text
    .trim()
    .toLowerCase()
    .replace(/[\s.!?,;:…]+$/u, '');
  return phrase === 'bye' || phrase === 'goodbye';
}

function decodeAudio(audio: unknown): { pcm: Int16Array } | { error: string } {
  if (typeof audio !== 'string' || audio === '') return { error: 'audio is required: a non-empty base64 string' };
  if (audio.length % 4 !== 0 || !BASE64.test(audio)) return { error: 'audio is not valid base64' };
  const bytes = Buffer.from(audio, 'base64');
  if (bytes.length % 2 !== 0) return { error: 'audio must be 16-bit PCM: an even number of bytes' };
  return { pcm: decodePcm16(bytes) };
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** ISO-8601 in UTC without a zone, to the microsecond, as Atoms writes it (`2026-07-02T10:30:45.123000`). */
function timestamp(): string {
  return new Date().toISOString().replace('Z', '000');
}

function parseRegisterCall(text: string): Omit<CallGrant, 'sampleRate'> | { error: string } {
  const json = parseJsonObject(text);
  if (!json) return { error: 'Request body must be a JSON object' };
  const agentId = json['agent_id'];
  if (typeof agentId !== 'string' || agentId.trim() === '' || agentId.length > MAX_AGENT_ID_LENGTH) {
    return { error: `agent_id is required: a non-empty string of at most ${MAX_AGENT_ID_LENGTH} characters` };
  }
  const mode = json['mode'] ?? 'webcall';
  if (mode !== 'webcall' && mode !== 'chat') return { error: 'mode must be "webcall" or "chat"' };
  const variables = validateVariables(json['variables'] ?? {}, VARIABLE_LIMITS);
  if (!variables.ok) return { error: variables.message };
  return { agentId, mode, variables: withoutReserved(variables.variables) };
}

/** The call settings a trusted (`sk_`) connection passes in its query string. */
function trustedGrant(params: URLSearchParams, defaultRate: number): CallGrant | { status: 400; reason: string } {
  const agentId = params.get('agent_id');
  if (!agentId || agentId.length > MAX_AGENT_ID_LENGTH) return { status: 400, reason: 'agent_id is required with an API key' };
  const mode = params.get('mode') ?? 'webcall';
  if (mode !== 'webcall' && mode !== 'chat') return { status: 400, reason: 'invalid mode' };
  const rate = params.get('sample_rate');
  const sampleRate = rate === null ? defaultRate : Number(rate);
  if (!TRUSTED_SAMPLE_RATES.has(sampleRate)) return { status: 400, reason: 'invalid sample_rate' };
  const json = params.get('variables');
  const variables = json === null ? { ok: true as const, variables: {} } : validateVariables(parseJsonObject(json), VARIABLE_LIMITS);
  if (!variables.ok) return { status: 400, reason: 'invalid variables' };
  return { agentId, mode, sampleRate, variables: withoutReserved(variables.variables) };
}

function withoutReserved(variables: CallVariables): CallVariables {
  return Object.fromEntries(Object.entries(variables).filter(([key]) => !RESERVED_VARIABLES.has(key)));
}

function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

function urlHost({ address, family }: AddressInfo): string {
  // A wildcard bind is reachable on loopback, which is also what every caller on this machine should use.
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return family === 'IPv6' ? `[${address}]` : address;
}

/** Answers a refused WebSocket upgrade with a bare HTTP status and drops the socket. */
function rejectUpgrade(socket: Duplex, status: number): void {
  socket.on('error', () => socket.destroy());
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function resolveConfig(options: LocalAgentOptions): AgentConfig {
  const {
    host = '127.0.0.1',
    port = 0,
    apiKey = 'sk_local_dev',
    sampleRate = 24_000,
    tokenTtlSeconds = 30,
    greeting = DEFAULT_GREETING,
    turnSilenceMs = 600,
    speechThreshold = 0.02,
    log = () => {},
  } = options;
  const check = (ok: boolean, message: string): void => {
    if (!ok) throw new RangeError(`LocalAgent: ${message}`);
  };
  check(typeof host === 'string' && host !== '', '`host` must be a non-empty string');
  check(Number.isInteger(port) && port >= 0 && port <= 65_535, '`port` must be an integer from 0 to 65535');
  check(typeof apiKey === 'string' && apiKey.trim() !== '', '`apiKey` must be a non-empty string');
  check(Number.isInteger(sampleRate) && sampleRate >= 8000 && sampleRate <= 48_000, '`sampleRate` must be an integer from 8000 to 48000');
  check(typeof tokenTtlSeconds === 'number' && tokenTtlSeconds > 0 && Number.isFinite(tokenTtlSeconds), '`tokenTtlSeconds` must be a positive number');
  check(typeof greeting === 'string', '`greeting` must be a string');
  check(typeof turnSilenceMs === 'number' && turnSilenceMs > 0 && Number.isFinite(turnSilenceMs), '`turnSilenceMs` must be a positive number');
  check(typeof speechThreshold === 'number' && speechThreshold > 0 && speechThreshold < 1, '`speechThreshold` must be in (0, 1)');
  check(typeof log === 'function', '`log` must be a function');
  const safeLog = (line: string): void => {
    try {
      log(line);
    } catch {
      // A failing logger must not take sessions down with it.
    }
  };
  return {
    host,
    port,
    apiKey,
    sampleRate,
    tokenTtlSeconds,
    log: safeLog,
    session: { greeting, turnSilenceMs, speechThreshold, log: safeLog },
  };
}
