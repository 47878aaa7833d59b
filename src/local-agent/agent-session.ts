/**
 * One agent WebSocket connection: the Atoms session protocol in both directions, turn taking, the echo
 * and goodbye behaviour, client tool calls (`tool-calls.ts`), and the stats the agent records about the session.
 */
import { randomBytes } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import type { CallGrant } from './call-grant.js';
import type { SessionStats } from './call-types.js';
import { parseJsonObject } from './http-util.js';
import { Playback } from './playback.js';
import { MAX_TEXT_LENGTH } from '../protocol/atoms/call-facts.js';
import { CLIENT_FRAME } from '../protocol/atoms/wire-facts.js';
import type { ServerEvent } from './protocol.js';
import { ToolCalls, toolReplyText } from './tool-calls.js';
import { TurnDetector, addCorrelation, frameRms } from './turn-detector.js';
import type { CorrelationSums, TurnEvent } from './turn-detector.js';
import { spokenUtterance, writtenUtterance } from './utterance.js';
import type { Speaker } from './flite.js';
import type { Echo } from './utterance.js';
import { decodePcm16 } from './voice.js';

const GOODBYE = 'Goodbye!';
const USER_DELTA_EVERY_MS = 300;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** What each session takes from the agent's options. */
export interface SessionSettings {
  greeting: string;
  speak: Speaker;
  turnSilenceMs: number;
  speechThreshold: number;
  log: (line: string) => void;
}

/** One WebSocket connection: the Atoms session protocol, turn taking and the echo behaviour. */
export class AgentSession {
  readonly stats: SessionStats;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  private readonly detector: TurnDetector | undefined;
  private readonly tools: ToolCalls;
  private playback: Playback | undefined;
  private readonly correlation: CorrelationSums = { energy: 0, lagged: 0 };
  private sinceUserDeltaMs = 0;
  private lastUserDelta = '';
  /** Saying goodbye: further input is recorded but neither answered nor allowed to interrupt. */
  private ending = false;
  private finished = false;

  /** `sent`: told of every event the session sends (the agent's fault injection watches for replies). */
  constructor(
    private readonly ws: WebSocket,
    private readonly grant: CallGrant,
    private readonly settings: SessionSettings,
    private readonly sent?: (event: ServerEvent) => void,
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
      inputCorrelation: 0,
      turns: 0,
      interruptions: 0,
      textInputs: [],
      invalidEvents: 0,
      audioSentMs: 0,
      toolUpdates: 0,
      tools: [],
      toolCalls: [],
      toolErrors: [],
    };
    this.tools = new ToolCalls(this.stats, grant.variables, {
      send: (event) => this.send(event),
      // What the agent says proves it read the result; saying goodbye, it says nothing more.
      settled: (call) => {
        if (!this.ending && !this.finished) this.reply(toolReplyText(call));
      },
    });
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
      case CLIENT_FRAME.audio:
        return this.onAudio(event['audio']);
      case CLIENT_FRAME.text:
        return this.onText(event['text']);
      case CLIENT_FRAME.close:
        return this.end('client_requested');
      case CLIENT_FRAME.update:
        // Without tools a reserved no-op; with them, the page's client tools.
        return this.tools.update(event);
      case CLIENT_FRAME.toolResult: {
        const problem = this.tools.onResult(event);
        return problem === undefined ? undefined : this.rejectEvent(problem);
      }
      case CLIENT_FRAME.commit:
        // A reserved no-op in the protocol: turns come from server-side detection only.
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
    if (frameRms(pcm) >= this.settings.speechThreshold) {
      addCorrelation(this.correlation, pcm);
      stats.inputCorrelation = this.correlation.lagged / this.correlation.energy;
    }
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
    const text = userTurnText(event.durationMs);
    this.send({ type: 'transcript', role: 'user', text });
    if (this.ending) return;
    if (this.tools.onUserTurn(text)) return;
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
    if (this.tools.onUserTurn(text)) return;
    this.reply(`You wrote: ${text}`);
  }

  /** Starts an agent turn (spoken in a voice call, written in chat), cutting off any turn in progress. */
  private reply(text: string, echo?: Echo, then?: () => void): void {
    this.interrupt();
    const { mode, sampleRate } = this.grant;
    const utterance = mode === 'chat' ? writtenUtterance(text) : spokenUtterance(this.settings.speak(text, sampleRate), sampleRate, echo);
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

  /** Ends the session from the agent's side: `session.closed` with `reason`, then close 1000. */
  end(reason: string): void {
    if (this.finished) return;
    this.send({ type: 'session.closed', reason });
    this.finish(reason);
    this.ws.close(1000);
  }

  /** Records how the session ended and stops everything it had running. Only the first call counts. */
  private finish(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.tools.close();
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
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(JSON.stringify(event));
    this.sent?.(event);
  }
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);
/** Live caption of a user turn in progress, e.g. "(speaking, 0.6 s)". */
const userSpeakingText = (ms: number): string => `(speaking, ${seconds(ms)} s)`;
/** Final caption of a user turn, e.g. "(1.4 s of speech)". */
const userTurnText = (ms: number): string => `(${seconds(ms)} s of speech)`;
/** Caption of the echoed audio in the reply, e.g. "(echo of 1.4 s)". */
const echoLabel = (ms: number): string => `(echo of ${seconds(ms)} s)`;

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
