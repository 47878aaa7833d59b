/**
 * A local agent that speaks the Smallest Atoms protocol on loopback, so the demo, the tests and a
 * site's development setup work without an API key: the `register-call` REST route that mints
 * single-use `wct_` tokens, and the agent WebSocket. The agent greets, detects user turns by energy,
 * echoes each turn back ("You said: …"), answers typed text, and can be interrupted, with the same
 * events, pacing and transcript rules as the real service.
 *
 * This module holds the HTTP side: the `register-call` and `GET /agent/{id}` routes, the WebSocket
 * upgrade and the public {@link LocalAgent} class with its options. Each accepted connection runs as
 * an `AgentSession`.
 */
import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { AgentSession } from './agent-session.js';
import type { SessionSettings } from './agent-session.js';
import { AgentDirectory, validProfiles } from './agent-directory.js';
import type { LocalAgentProfile } from './agent-directory.js';
import type { SessionStats } from './call-types.js';
import { parseRegisterCall, trustedGrant } from './call-grant.js';
import type { Speaker } from './flite.js';
import { synthesizeSpeech } from './voice.js';
import type { CallGrant } from './call-grant.js';
import { bearerToken, readBody, secretsEqual, sendJson } from './http-util.js';
import { TokenStore } from './token-store.js';
import { SERVER_FRAME, SETUP_FAILED_CLOSE_CODE } from '../protocol/atoms/wire-facts.js';
import { FaultPlan } from './faults.js';
import type { LocalAgentFault } from './faults.js';
import type { ServerEvent, SetupErrorCode } from './protocol.js';

export type { LocalAgentFault, LocalAgentProfile };

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
  /**
   * The voice: text → speech at a sample rate. Default: the synthetic voice (deterministic, for
   * tests); `fliteSpeaker()` gives real words when its optional package is installed.
   */
  speak?: Speaker;
  /** Quiet audio that ends a user turn, in ms. Default 600. */
  turnSilenceMs?: number;
  /** Frame RMS (linear, samples in [-1, 1]) at or above which input audio counts as speech. Default 0.02. */
  speechThreshold?: number;
  /** Receives one line per notable event (listening, tokens minted, sessions opened and closed). Never given a token or key. */
  log?: (line: string) => void;
  /**
   * The agents it plays, by id, each with what `GET /atoms/v1/agent/{id}` says of it. Default: any id
   * (named `Local agent`). When set, `register-call` (404), the API-key connection (`error` 401, then
   * close code 4000) and `GET /atoms/v1/agent/{id}` (400 `No agent found`, as Atoms answers) refuse
   * other ids.
   */
  agents?: Record<string, LocalAgentProfile>;
}

const REGISTER_CALL_PATH = '/atoms/v1/conversation/register-call';
const CONNECT_PATH = '/atoms/v1/agent/connect';
/** `GET /atoms/v1/agent/{id}`: one agent's record. */
const AGENT_PATH = /^\/atoms\/v1\/agent\/([^/]+)$/;
const DEFAULT_GREETING = "Hello! I'm the local test agent. Say something, and I'll repeat it back to you.";
const MAX_REGISTER_BODY_BYTES = 16 * 1024;
const MAX_FRAME_BYTES = 1024 * 1024;
/** How long `close()` waits for clients to answer the close frame before cutting them off. */
const SHUTDOWN_GRACE_MS = 1000;

interface AgentConfig {
  host: string;
  port: number;
  apiKey: string;
  sampleRate: number;
  tokenTtlSeconds: number;
  agents: AgentDirectory;
  session: SessionSettings;
  log: (line: string) => void;
}

/**
 * The local agent. Either owns an HTTP server ({@link LocalAgent.start}) or shares one
 * ({@link LocalAgent.attach}); either way it serves `POST /atoms/v1/conversation/register-call`,
 * `GET /atoms/v1/agent/{id}` and the WebSocket at `/atoms/v1/agent/connect`.
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
  /** Connections refused after the upgrade, until their close completes. */
  private readonly refused = new Set<WebSocket>();
  private readonly history: SessionStats[] = [];
  private readonly faults = new FaultPlan();
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

  /** Serves the request if it is for one of the agent's REST routes (answering it asynchronously) and returns whether it was. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const path = requestUrl(req)?.pathname;
    if (path === REGISTER_CALL_PATH) {
      this.registerCall(req, res).catch(() => sendJson(res, 500, { status: false, errors: ['Internal error'] }));
      return true;
    }
    const agentId = path === undefined ? undefined : AGENT_PATH.exec(path)?.[1];
    if (agentId === undefined) return false;
    this.getAgent(req, res, decodePathSegment(agentId));
    return true;
  }

  /** `http://host:port` of the server; only available while it is listening. */
  get origin(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('LocalAgent: the server is not listening on a TCP port yet.');
    return `http://${urlHost(address)}:${address.port}`;
  }

  /** The REST base, `${origin}/atoms/v1`, for `register-call` and `GET /agent/{id}`. */
  get restBaseUrl(): string {
    return `${this.origin}/atoms/v1`;
  }

  /** The agent WebSocket URL, without a token. */
  get connectUrl(): string {
    return `${this.origin.replace(/^http/, 'ws')}${CONNECT_PATH}`;
  }

  /**
   * Queues faults for the next connections for `agentId`, one per connection in order (a connection
   * with none queued is healthy), to test how a client recovers: an upgrade refused with an HTTP
   * status, a session never announced, a setup error, a connection cut (mid-reply, or after a time),
   * the agent ending the session, a socket it stops reading. See {@link LocalAgentFault}.
   * @throws on a fault it does not know.
   */
  injectFaults(agentId: string, faults: readonly LocalAgentFault[]): void {
    this.faults.add(agentId, faults);
  }

  /** Forgets the faults still queued. */
  clearFaults(): void {
    this.faults.clear();
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
    for (const ws of this.refused) ws.terminate();
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
    if ('setupError' in access) {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.refuseSession(ws, access));
      return;
    }
    const fault = this.faults.take(access.agentId);
    if (fault.type !== 'none') this.config.log(`fault for agent ${JSON.stringify(access.agentId)}: ${fault.type}`);
    if (fault.type === 'refuse') {
      rejectUpgrade(socket, fault.status);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (fault.type === 'setup-error') this.refuseSession(ws, { setupError: fault.code ?? '401', message: fault.message ?? 'Invalid or expired token' });
      else if (fault.type === 'silent') this.holdSilent(ws);
      else this.openSession(ws, access, fault);
    });
  };

  /** A connection the agent accepts and never announces a session on (an injected fault). */
  private holdSilent(ws: WebSocket): void {
    this.refused.add(ws);
    ws.on('error', () => ws.terminate());
    ws.once('close', () => this.refused.delete(ws));
  }

  /**
   * Checks a connection's credential: a `wct_` token (used up here, whatever happens next) or, for
   * trusted servers, an API key with the call's settings in the query, given as `?token=` or as a
   * Bearer header, never both (400). A token that is unknown, used or expired, a missing credential,
   * and call settings that do not parse are refused at the upgrade; a wrong key and an agent it does
   * not play are setup failures reported on the socket (PROTOCOLS §1.8).
   */
  private authorize(url: URL, req: IncomingMessage): CallGrant | SetupFailure | { status: 400 | 401; reason: string } {
    const query = url.searchParams.get('token');
    const header = bearerToken(req.headers.authorization);
    if (query !== null && header !== undefined) return { status: 400, reason: 'a token in the query and an Authorization header' };
    const credential = query ?? header;
    if (!credential) return { status: 401, reason: 'no token' };
    const isKey = secretsEqual(credential, this.config.apiKey);
    if (!isKey && !credential.startsWith('sk_')) return this.tokens.redeem(credential) ?? { status: 401, reason: 'unknown, used or expired token' };
    const grant = trustedGrant(url.searchParams, this.config.sampleRate);
    if ('status' in grant) return grant;
    if (!isKey) return { setupError: '401', message: 'Invalid API key.' };
    if (!this.config.agents.has(grant.agentId)) return { setupError: '401', message: 'Agent not found.' };
    return grant;
  }

  /** A fatal setup failure after the upgrade: an `error` event with the status, then close code 4000 (no `session.closed`). */
  private refuseSession(ws: WebSocket, { setupError, message }: SetupFailure): void {
    this.config.log(`connection closed after the upgrade (${setupError}: ${message})`);
    this.refused.add(ws);
    ws.on('error', () => ws.terminate());
    ws.once('close', () => this.refused.delete(ws));
    const event: ServerEvent = { type: 'error', code: setupError, message };
    ws.send(JSON.stringify(event));
    ws.close(SETUP_FAILED_CLOSE_CODE, message);
  }

  private openSession(ws: WebSocket, grant: CallGrant, fault: LocalAgentFault = { type: 'none' }): void {
    if (this.closing) {
      ws.terminate();
      return;
    }
    // A connection cut without a close frame: the browser sees 1006. With a code: a close frame.
    const cut = (closeCode?: number): void => (closeCode === undefined ? ws.terminate() : ws.close(closeCode, 'fault'));
    let cutMidReply = fault.type === 'drop' && fault.midReply === true;
    const watch = (event: ServerEvent): void => {
      if (!cutMidReply || fault.type !== 'drop') return;
      const reply = event.type === SERVER_FRAME.audio || ((event.type === SERVER_FRAME.transcriptDelta || event.type === SERVER_FRAME.transcript) && event.role === 'assistant');
      if (!reply) return;
      cutMidReply = false;
      setImmediate(() => cut(fault.closeCode));
    };
    const session = new AgentSession(ws, grant, this.config.session, watch);
    this.history.push(session.stats);
    this.live.add(session);
    const timers: NodeJS.Timeout[] = [];
    void session.closed.then(() => {
      this.live.delete(session);
      timers.forEach(clearTimeout);
    });
    session.start();
    if (fault.type === 'drop' && fault.afterMs !== undefined) timers.push(setTimeout(() => cut(fault.closeCode), fault.afterMs));
    if (fault.type === 'end') timers.push(setTimeout(() => session.end(fault.reason), fault.afterMs ?? 0));
    if (fault.type === 'stop-reading') {
      ws.pause();
      if (fault.resumeAfterMs !== undefined) timers.push(setTimeout(() => ws.resume(), fault.resumeAfterMs));
    }
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
    if (!this.config.agents.has(call.agentId)) return fail(404, 'Agent not found');

    const token = this.tokens.issue({ ...call, sampleRate: this.config.sampleRate });
    this.config.log(`register-call: token issued for agent ${JSON.stringify(call.agentId)} (${call.mode})`);
    sendJson(res, 201, {
      status: true,
      data: { access_token: token, expires_in: this.config.tokenTtlSeconds, sample_rate: this.config.sampleRate },
    });
  }

  /** `GET /atoms/v1/agent/{id}` with the API key: the agent's record, as Atoms answers it. */
  private getAgent(req: IncomingMessage, res: ServerResponse, agentId: string | undefined): void {
    const fail = (status: number, error: string, headers?: OutgoingHttpHeaders): void =>
      sendJson(res, status, { status: false, errors: [error] }, headers);
    if (req.method !== 'GET') return fail(405, 'Method not allowed', { Allow: 'GET' });
    const key = bearerToken(req.headers.authorization);
    if (key === undefined || !secretsEqual(key, this.config.apiKey)) return fail(401, 'Unauthorized');
    // Atoms answers an id it cannot read, and one it does not know, with 400 rather than 404.
    if (agentId === undefined || !AgentDirectory.validId(agentId)) return fail(400, 'Invalid agent id');
    const record = this.config.agents.record(agentId);
    if (!record) return fail(400, 'No agent found');
    sendJson(res, 200, { status: true, data: record });
  }
}

/** A fatal setup failure to report on the socket after the upgrade. */
interface SetupFailure {
  setupError: SetupErrorCode;
  message: string;
}

/** A path segment, percent-decoded; undefined when it does not decode. */
function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
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
    speak = synthesizeSpeech,
    turnSilenceMs = 600,
    speechThreshold = 0.02,
    log = () => {},
    agents,
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
  check(typeof speak === 'function', '`speak` must be a function');
  check(typeof turnSilenceMs === 'number' && turnSilenceMs > 0 && Number.isFinite(turnSilenceMs), '`turnSilenceMs` must be a positive number');
  check(typeof speechThreshold === 'number' && speechThreshold > 0 && speechThreshold < 1, '`speechThreshold` must be in (0, 1)');
  check(typeof log === 'function', '`log` must be a function');
  check(validProfiles(agents), '`agents` must map agent ids (not `connect`) to objects with an optional string `name` and `description`');
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
    agents: new AgentDirectory(agents, greeting),
    log: safeLog,
    session: { greeting, speak: (text: string, rate: number) => speak(text, rate), turnSilenceMs, speechThreshold, log: safeLog },
  };
}
