import { MAX_FRAME_SIZE, type AgentEvent, type ClientCommand, type Connection, type ProtocolAdapter, type TranscriptRole } from '../agent-events.js';
import { base64ToPcm16, pcm16ToBase64 } from '../pcm.js';
import { CLIENT_FRAME, SERVER_FRAME } from './wire-facts.js';
import type { AtomsClientFrame, AtomsServerFrame } from './wire-types.js';

/** Error codes that are HTTP statuses mark setup failures; the server closes the socket after them. */
const FATAL_ERROR_CODE = /^[45]\d\d$/;
const DEFAULT_SAMPLE_RATE = 24000;
/** `error` codes by which the server refuses a `session.update` of client tools. */
const TOOLS_REJECTED_CODES: ReadonlySet<string> = new Set(['tool_name_conflict', 'client_tools_managed_by_config', 'invalid_tools']);

/**
 * The Smallest Atoms realtime agent protocol: JSON text frames, base64 PCM16 audio, the single-use
 * `wct_` token in the `token` query parameter, cumulative `transcript.delta`s.
 */
export const atomsAdapter: ProtocolAdapter = {
  id: 'atoms',

  connection(serverUrl: string, token: string): Connection {
    const url = new URL(serverUrl);
    url.searchParams.set('token', token);
    return { url: url.href };
  },

  decode(data: string | ArrayBuffer): AgentEvent[] {
    // The size first: an oversize frame is dropped as it is, before any parsing or copying.
    const size = typeof data === 'string' ? data.length : data.byteLength;
    if (size > MAX_FRAME_SIZE) return [malformed(`frame of ${size} ${typeof data === 'string' ? 'characters' : 'bytes'} is over the ${MAX_FRAME_SIZE} limit`)];
    if (typeof data !== 'string') return [malformed('binary frame (the protocol sends JSON text only)')];
    let frame: AtomsServerFrame;
    try {
      frame = JSON.parse(data) as AtomsServerFrame;
    } catch {
      return [malformed('frame is not valid JSON')];
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return [malformed('frame is not a JSON object')];
    if (typeof frame.type !== 'string') return [malformed('frame has no type')];
    return decodeFrame(frame.type, frame);
  },

  encode(command: ClientCommand): string {
    let frame: AtomsClientFrame;
    switch (command.type) {
      case 'audio':
        frame = { type: CLIENT_FRAME.audio, audio: pcm16ToBase64(command.pcm) };
        break;
      case 'text':
        frame = { type: CLIENT_FRAME.text, text: command.text };
        break;
      case 'tools':
        frame = {
          type: CLIENT_FRAME.update,
          tools: command.tools.map(({ name, description, parameters, timeoutMs, expectsResponse }) => ({
            type: 'function',
            name,
            description,
            parameters,
            timeout_ms: timeoutMs,
            expectsResponse,
          })),
        };
        break;
      case 'tool-result':
        frame = { type: CLIENT_FRAME.toolResult, call_id: command.callId, output: command.output };
        break;
      case 'close':
        frame = { type: CLIENT_FRAME.close };
        break;
    }
    return JSON.stringify(frame);
  },
};

function decodeFrame(type: string, frame: AtomsServerFrame): AgentEvent[] {
  switch (type) {
    case SERVER_FRAME.created: {
      const rate = frame.sample_rate ?? DEFAULT_SAMPLE_RATE;
      if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 8000 || rate > 96000) {
        return [malformed(`session.created has an unusable sample_rate (${String(rate)})`)];
      }
      return [{ type: 'session-started', sessionId: text(frame.session_id), callId: text(frame.call_id), sampleRate: rate }];
    }
    case SERVER_FRAME.audio: {
      if (typeof frame.audio !== 'string') return [malformed('output_audio.delta has no audio')];
      try {
        return [{ type: 'audio', pcm: base64ToPcm16(frame.audio) }];
      } catch (error) {
        return [malformed(`output_audio.delta: ${(error as Error).message}`)];
      }
    }
    case SERVER_FRAME.transcriptDelta:
    case SERVER_FRAME.transcript: {
      const role = transcriptRole(frame.role);
      if (!role || typeof frame.text !== 'string') return [malformed(`${type} needs a role and a text`)];
      return [{ type: 'transcript', role, text: frame.text, final: type === SERVER_FRAME.transcript, merge: 'replace' }];
    }
    case SERVER_FRAME.interruption:
      return [{ type: 'interruption' }];
    // A newer revision of the docs spells these with a dot.
    case SERVER_FRAME.startTalking:
    case 'agent.start_talking':
      return [{ type: 'agent-speaking', speaking: true }];
    case SERVER_FRAME.stopTalking:
    case 'agent.stop_talking':
      return [{ type: 'agent-speaking', speaking: false }];
    case SERVER_FRAME.updated: {
      if (!Array.isArray(frame.tools)) return [malformed('session.updated has no tools list')];
      // Names, or tool objects with a name.
      const names = frame.tools.map((tool: unknown) => text(typeof tool === 'object' && tool !== null ? (tool as { name?: unknown }).name : tool));
      return [{ type: 'tools-accepted', names: names.filter((name) => name !== '') }];
    }
    case SERVER_FRAME.toolCall: {
      const callId = text(frame.call_id);
      if (!callId) return [malformed('function_call has no call_id')];
      return [{ type: 'tool-call', callId, name: text(frame.name), arguments: toolArguments(frame.arguments) }];
    }
    case SERVER_FRAME.closed:
    case 'session_ended':
      return [{ type: 'session-ended', reason: text(frame.reason) || 'ended' }];
    case SERVER_FRAME.error: {
      // Both the flat `{code, message}` and the nested `{error: {code, message}}` shapes are in use.
      const nested = typeof frame.error === 'object' && frame.error !== null ? (frame.error as Record<string, unknown>) : {};
      const code = text(frame.code) || text(nested.code) || 'unknown';
      const message = text(frame.message) || text(nested.message) || text(frame.error) || 'The agent server reported an error.';
      if (TOOLS_REJECTED_CODES.has(code)) return [{ type: 'tools-rejected', code, message }];
      return [{ type: 'error', code, message, fatal: FATAL_ERROR_CODE.test(code) }];
    }
    default:
      // Newer server events are not errors: skip them.
      return [];
  }
}

function transcriptRole(role: unknown): TranscriptRole | undefined {
  if (role === 'user') return 'user';
  // Older servers call the assistant `agent`.
  if (role === 'assistant' || role === 'agent') return 'assistant';
  return undefined;
}

/** A tool call's arguments: an object, or (as OpenAI sends them) a JSON string of one; none is `{}`. Undefined when unreadable. */
function toolArguments(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null || value === '') return {};
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function malformed(message: string): AgentEvent {
  return { type: 'malformed', message };
}
