/**
 * What one call is allowed to be (agent, mode, variables, sample rate), read either from a
 * `register-call` body or, for a trusted (`sk_`) connection, from the WebSocket query string.
 */
import { parseJsonObject, validateVariables } from './http-util.js';
import type { CallMode, CallVariables } from './call-types.js';
import { MAX_TEXT_LENGTH } from '../protocol/atoms/call-facts.js';

const MAX_AGENT_ID_LENGTH = 128;
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

/** What a token or a trusted connection grants: one call with these settings. */
export interface CallGrant {
  agentId: string;
  mode: CallMode;
  variables: CallVariables;
  sampleRate: number;
}

export function parseRegisterCall(text: string): Omit<CallGrant, 'sampleRate'> | { error: string } {
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
export function trustedGrant(params: URLSearchParams, defaultRate: number): CallGrant | { status: 400; reason: string } {
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
