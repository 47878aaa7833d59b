/**
 * Client tools on the agent's side (PROTOCOLS §1.7): `session.update {tools}` declares the page's
 * tools (answered with `session.updated` or a refusal), the agent calls one when a user turn contains
 * the call's trigger, waits for its `function_call.result` up to the tool's `timeout_ms`, and refuses
 * results it cannot take (`unknown_call_id`, `result_too_large`) as Atoms does.
 *
 * Call variables drive it, since the agent has no model to decide:
 * - `tool_trigger`: text that, found in a user turn (case-insensitive), makes the agent call a tool.
 *   A spoken turn's text is its transcript, `(1.4 s of speech)`: the trigger `speech` matches any.
 * - `tool_name`: the tool to call (default: the first one declared). It is called even when the page
 *   has not declared it, to see what a client does with a tool it does not have.
 * - `tool_arguments`: the arguments, a JSON object as text (default `{}`); `tool_arguments_as: "string"`
 *   sends them as a JSON string, as OpenAI does, instead of an object.
 * - `dashboard_tools`: names, comma-separated, of tools enabled in the agent's dashboard: a page tool
 *   with one of them is refused with `tool_name_conflict`.
 * - `tools_managed_by_config`: `true` refuses every `session.update` of tools with `client_tools_managed_by_config`.
 */
import { randomBytes } from 'node:crypto';
import type { CallVariables, SessionStats, ToolCallRecord, ToolDeclarationRecord } from './call-types.js';
import { isPlainObject, parseJsonObject } from './http-util.js';
import { MAX_TOOL_OUTPUT_BYTES } from './protocol.js';
import type { ServerEvent, ToolErrorCode } from './protocol.js';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const DEFAULT_TIMEOUT_MS = 15_000;
const MIN_TIMEOUT_MS = 1000;
const MAX_TIMEOUT_MS = 60_000;

/** What the tool desk needs from its session. */
export interface ToolSessionHost {
  send(event: ServerEvent): void;
  /** A call settled: answered, timed out, or (fire-and-forget) sent. The session says so to the user. */
  settled(call: ToolCallRecord): void;
}

/** The client tools of one session. */
export class ToolCalls {
  private readonly declared = new Map<string, ToolDeclarationRecord>();
  /** Calls waiting for their result, by call id, with the timer that ends the wait. */
  private readonly waiting = new Map<string, { call: ToolCallRecord; timer: NodeJS.Timeout }>();

  constructor(
    private readonly stats: SessionStats,
    private readonly variables: CallVariables,
    private readonly host: ToolSessionHost,
  ) {}

  /** `session.update`: without `tools` a no-op (reserved); with them, replaces the declared set or refuses it. */
  update(event: Record<string, unknown>): void {
    if (!('tools' in event)) return;
    this.stats.toolUpdates++;
    if (this.variables['tools_managed_by_config'] === true || this.variables['tools_managed_by_config'] === 'true') {
      return this.fail('client_tools_managed_by_config', "This agent's client tools are managed by its configuration.");
    }
    const parsed = parseDeclarations(event['tools']);
    if ('error' in parsed) return this.fail('invalid_tools', parsed.error);
    const dashboard = new Set(
      String(this.variables['dashboard_tools'] ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    );
    const conflict = parsed.tools.find((tool) => dashboard.has(tool.name));
    if (conflict) return this.fail('tool_name_conflict', `The tool name "${conflict.name}" is already used by an enabled dashboard tool.`);
    this.declared.clear();
    for (const tool of parsed.tools) this.declared.set(tool.name, tool);
    this.stats.tools = parsed.tools;
    this.host.send({ type: 'session.updated', tools: parsed.tools.map((tool) => tool.name) });
  }

  /** A user turn: calls the configured tool when the turn holds the trigger. Returns whether it did. */
  onUserTurn(text: string): boolean {
    const trigger = this.variables['tool_trigger'];
    if (typeof trigger !== 'string' || trigger === '' || !text.toLowerCase().includes(trigger.toLowerCase())) return false;
    const configured = this.variables['tool_name'];
    const name = typeof configured === 'string' && configured !== '' ? configured : this.declared.keys().next().value;
    if (name === undefined) return false;
    const declaration = this.declared.get(name);
    const argumentsText = this.variables['tool_arguments'];
    const args = typeof argumentsText === 'string' ? (parseJsonObject(argumentsText) ?? {}) : {};
    const call: ToolCallRecord = {
      callId: `call_${randomBytes(8).toString('hex')}`,
      name,
      arguments: args,
      outcome: declaration?.expectsResponse === false ? 'fire-and-forget' : 'waiting',
    };
    this.stats.toolCalls.push(call);
    const wire = this.variables['tool_arguments_as'] === 'string' ? JSON.stringify(args) : args;
    this.host.send({ type: 'function_call', call_id: call.callId, name, arguments: wire });
    if (call.outcome === 'fire-and-forget') {
      this.host.settled(call);
      return true;
    }
    const timeoutMs = declaration?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(() => {
      this.waiting.delete(call.callId);
      call.outcome = 'timed-out';
      this.fail('tool_timeout', `The tool "${name}" (call ${call.callId}) did not answer within ${timeoutMs} ms.`);
      this.host.settled(call);
    }, timeoutMs);
    this.waiting.set(call.callId, { call, timer });
    return true;
  }

  /** `function_call.result`. Returns an error message for a malformed frame (an `invalid_event`). */
  onResult(event: Record<string, unknown>): string | undefined {
    const callId = event['call_id'];
    const output = event['output'];
    if (typeof callId !== 'string' || callId === '') return 'call_id is required';
    if (typeof output !== 'string') return 'output is required: a string';
    const pending = this.waiting.get(callId);
    if (!pending) {
      this.fail('unknown_call_id', `No tool call ${JSON.stringify(callId.slice(0, 80))} is waiting for a result.`);
      return undefined;
    }
    const bytes = Buffer.byteLength(output, 'utf8');
    if (bytes > MAX_TOOL_OUTPUT_BYTES) {
      // Refused; the call keeps waiting for a result that fits, until its timeout.
      this.fail('result_too_large', `The result of call ${callId} is ${bytes} bytes; the limit is ${MAX_TOOL_OUTPUT_BYTES}.`);
      return undefined;
    }
    clearTimeout(pending.timer);
    this.waiting.delete(callId);
    pending.call.outcome = 'answered';
    pending.call.output = output;
    this.host.settled(pending.call);
    return undefined;
  }

  /** The session ended: nothing is waited for any more. */
  close(): void {
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
  }

  private fail(code: ToolErrorCode, message: string): void {
    this.stats.toolErrors.push(code);
    this.host.send({ type: 'error', code, message });
  }
}

/** What the agent says once a call settled, so the transcript shows it read the output. */
export function toolReplyText(call: ToolCallRecord): string {
  switch (call.outcome) {
    case 'answered': {
      const output = call.output ?? '';
      const excerpt = output.length > 100 ? `${output.slice(0, 100)}…` : output;
      return `The tool ${call.name} answered (${Buffer.byteLength(output, 'utf8')} bytes): ${excerpt}`;
    }
    case 'timed-out':
      return `The tool ${call.name} did not answer in time.`;
    case 'fire-and-forget':
      return `I asked the page to run ${call.name}.`;
    case 'waiting':
      return `Waiting for the tool ${call.name}.`;
  }
}

function parseDeclarations(tools: unknown): { tools: ToolDeclarationRecord[] } | { error: string } {
  if (!Array.isArray(tools)) return { error: 'tools must be an array' };
  const parsed: ToolDeclarationRecord[] = [];
  for (const [index, tool] of tools.entries()) {
    const where = `tools[${index}]`;
    if (!isPlainObject(tool)) return { error: `${where} must be an object` };
    const { type, name, description = '', parameters = { type: 'object', properties: {} }, timeout_ms = DEFAULT_TIMEOUT_MS, expectsResponse = true } = tool;
    if (type !== 'function') return { error: `${where}.type must be "function"` };
    if (typeof name !== 'string' || !TOOL_NAME.test(name)) return { error: `${where}.name must be 1 to 64 letters, digits, _ or -` };
    if (parsed.some((other) => other.name === name)) return { error: `${where}.name "${name}" is declared twice` };
    if (typeof description !== 'string') return { error: `${where}.description must be a string` };
    if (!isPlainObject(parameters)) return { error: `${where}.parameters must be a JSON Schema object` };
    if (typeof timeout_ms !== 'number' || !Number.isInteger(timeout_ms) || timeout_ms < MIN_TIMEOUT_MS || timeout_ms > MAX_TIMEOUT_MS) {
      return { error: `${where}.timeout_ms must be an integer from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}` };
    }
    if (typeof expectsResponse !== 'boolean') return { error: `${where}.expectsResponse must be a boolean` };
    parsed.push({ name, description, parameters, timeoutMs: timeout_ms, expectsResponse });
  }
  return { tools: parsed };
}
