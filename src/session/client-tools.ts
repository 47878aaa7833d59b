/**
 * Client tools: functions of the page that the agent may call during a call. Checking the page's
 * definitions, what the agent is told about them, and turning whatever a handler does (returns,
 * throws, rejects, takes too long) into the one output string the agent gets back. No DOM, no wire JSON.
 */
import type { ToolDeclaration } from '../protocol/agent-events.js';
import { holdsSecretKey } from './call-config.js';

/** What a handler gets besides the arguments. */
export interface ToolCallContext {
  /** The agent's id for this call. */
  readonly callId: string;
  /** The tool's name. */
  readonly name: string;
  /** Aborted when nobody waits for the result any more: the tool timed out, or the call ended. */
  readonly signal: AbortSignal;
}

/**
 * Runs the tool. Its return value (or what its promise resolves to) is the output the agent gets: a
 * string as it is, anything else JSON-encoded. A throw or a rejection is answered as a failure.
 */
export type ToolHandler = (args: Record<string, unknown>, call: ToolCallContext) => unknown;

/** One client tool, as the page defines it in `tools`. */
export interface ClientTool {
  /** What the tool does and when to use it, for the agent's model. */
  description: string;
  /** The arguments, as a JSON Schema object (`{type: 'object', properties: {…}, required: […]}`). Default: no arguments. */
  parameters?: Record<string, unknown>;
  handler: ToolHandler;
  /**
   * How long the agent waits for the result, 1000 to 60000 ms (default 15000). The handler has this
   * less a margin for the answer's trip (a quarter of it, at most 1 s); a slower one is answered as timed out.
   */
  timeoutMs?: number;
  /**
   * Default true. False: the agent does not wait (fire-and-forget). The handler still runs and
   * `va-tool-result` still fires, but no result is sent.
   */
  expectsResponse?: boolean;
}

/** The page's client tools by name: 1 to 64 letters, digits, `_` or `-`. */
export type ClientTools = Readonly<Record<string, ClientTool>>;

/**
 * Why a tool call did not give the handler's value: `unknown-tool` (the page has no tool of that
 * name), `invalid-arguments` (not a JSON object), `declined` (a `va-tool-call` listener called
 * `preventDefault()`), `failed` (the handler threw or rejected, or returned something JSON cannot
 * encode), `timeout` (the handler took too long), `ended` (the call ended first; nothing was sent).
 */
export type ToolCallError = 'unknown-tool' | 'invalid-arguments' | 'declined' | 'failed' | 'timeout' | 'ended';

export interface ToolCall {
  callId: string;
  name: string;
  arguments: Record<string, unknown>;
}

export interface ToolResult {
  callId: string;
  name: string;
  /** What the agent was told (or, for a fire-and-forget tool or a call that ended, would have been). */
  output: string;
  error?: ToolCallError;
}

/** A tool ready to run: what the agent is told, and the page's handler. */
export interface PreparedTool {
  declaration: ToolDeclaration;
  handler: ToolHandler;
}

export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
export const DEFAULT_TOOL_TIMEOUT_MS = 15_000;
export const MIN_TOOL_TIMEOUT_MS = 1000;
export const MAX_TOOL_TIMEOUT_MS = 60_000;
/** The most output the agent takes, in UTF-8 bytes. */
export const MAX_TOOL_OUTPUT_BYTES = 64 * 1024;
/** What a handler that returned nothing tells the agent. */
export const NO_VALUE_OUTPUT = 'Done: the tool returned no value.';
const NO_PARAMETERS: Readonly<Record<string, unknown>> = Object.freeze({ type: 'object', properties: {} });

/**
 * Checks the page's tools. The valid ones are kept; each invalid one is left out with a sentence
 * saying why, so one typo does not take the other tools away. A tool whose name or definition holds
 * what looks like a secret key (`sk_…`) is left out too, and its sentence does not name it.
 */
export function prepareTools(tools: unknown): { tools: Map<string, PreparedTool>; problems: string[] } {
  const prepared = new Map<string, PreparedTool>();
  if (tools === undefined || tools === null) return { tools: prepared, problems: [] };
  if (!isPlainObject(tools)) return { tools: prepared, problems: ['tools must be an object that maps each tool name to its definition'] };
  const problems: string[] = [];
  for (const [name, tool] of Object.entries(tools)) {
    if (holdsSecretKey([name, tool])) {
      problems.push('a tool holds a secret API key (sk_…), which must stay on your server');
      continue;
    }
    const problem = toolProblem(name, tool);
    if (problem) {
      problems.push(`"${name.slice(0, 80)}": ${problem}`);
      continue;
    }
    const { description, parameters, handler, timeoutMs, expectsResponse } = tool as ClientTool;
    prepared.set(name, {
      handler,
      declaration: {
        name,
        description,
        parameters: parameters === undefined ? { ...NO_PARAMETERS } : parameters,
        timeoutMs: timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS,
        expectsResponse: expectsResponse ?? true,
      },
    });
  }
  return { tools: prepared, problems };
}

function toolProblem(name: string, tool: unknown): string | undefined {
  if (!TOOL_NAME.test(name)) return 'a tool name is 1 to 64 letters, digits, _ or -';
  if (typeof tool !== 'object' || tool === null || Array.isArray(tool)) return 'a tool is an object with a description and a handler';
  const { description, parameters, handler, timeoutMs, expectsResponse } = tool as Partial<Record<keyof ClientTool, unknown>>;
  if (typeof handler !== 'function') return 'handler must be a function';
  if (typeof description !== 'string') return 'description must be a string';
  if (parameters !== undefined) {
    if (!isPlainObject(parameters) || (parameters['type'] !== undefined && parameters['type'] !== 'object')) {
      return 'parameters must be a JSON Schema object ({type: "object", properties: {…}})';
    }
    try {
      JSON.stringify(parameters);
    } catch {
      return 'parameters cannot be encoded as JSON';
    }
  }
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && Number.isInteger(timeoutMs) && timeoutMs >= MIN_TOOL_TIMEOUT_MS && timeoutMs <= MAX_TOOL_TIMEOUT_MS)) {
    return `timeoutMs must be a whole number of ms from ${MIN_TOOL_TIMEOUT_MS} to ${MAX_TOOL_TIMEOUT_MS}`;
  }
  if (expectsResponse !== undefined && typeof expectsResponse !== 'boolean') return 'expectsResponse must be true or false';
  return undefined;
}

/** How long a handler may take: the agent's wait less a margin for the answer's trip to it. */
export function handlerDeadlineMs(timeoutMs: number): number {
  return timeoutMs - Math.min(1000, timeoutMs / 4);
}

/**
 * Runs a handler and turns whatever it does into the output for the agent. Never rejects. `signal`
 * aborts the wait (the call ended); the handler's own signal also aborts when it times out.
 */
export async function runTool(tool: PreparedTool, call: ToolCall, signal: AbortSignal): Promise<Omit<ToolResult, 'callId' | 'name'>> {
  const { name, timeoutMs } = tool.declaration;
  const deadlineMs = handlerDeadlineMs(timeoutMs);
  const abort = new AbortController();
  const stop = () => abort.abort(signal.reason);
  signal.addEventListener('abort', stop, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), deadlineMs);
  });
  const ended = new Promise<'ended'>((resolve) => abort.signal.addEventListener('abort', () => resolve('ended'), { once: true }));
  try {
    const settled = (async () => {
      try {
        return { value: await tool.handler(call.arguments, { callId: call.callId, name, signal: abort.signal }) };
      } catch (error) {
        return { error };
      }
    })();
    const outcome = await Promise.race([settled, timedOut, ended]);
    if (outcome === 'ended') return { output: refusal('ended', name), error: 'ended' };
    if (outcome === 'timeout') {
      abort.abort(new DOMException(`The tool "${name}" timed out.`, 'TimeoutError'));
      return { output: `Error: the tool "${name}" did not finish within ${Math.round(deadlineMs)} ms.`, error: 'timeout' };
    }
    if ('error' in outcome) return { output: `Error: the tool "${name}" failed: ${describe(outcome.error)}`, error: 'failed' };
    const output = toolOutput(outcome.value);
    if (output === undefined) return { output: `Error: the tool "${name}" returned a value that cannot be encoded as JSON.`, error: 'failed' };
    return { output };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', stop);
  }
}

/** What the agent is told when a call cannot run (`unknown-tool`, `invalid-arguments`, `declined`), or would be when the call ended first. */
export function refusal(error: 'unknown-tool' | 'invalid-arguments' | 'declined' | 'ended', name: string): string {
  switch (error) {
    case 'unknown-tool':
      return `Error: this page has no tool named "${name.slice(0, 80)}".`;
    case 'invalid-arguments':
      return `Error: the arguments for the tool "${name}" are not a JSON object.`;
    case 'declined':
      return `The page declined to run the tool "${name}".`;
    case 'ended':
      return `The call ended before the tool "${name}" finished.`;
  }
}

/** A handler's value as output: strings as they are, nothing as {@link NO_VALUE_OUTPUT}, the rest as JSON; undefined when JSON cannot encode it. */
export function toolOutput(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value === undefined) return NO_VALUE_OUTPUT;
  try {
    return JSON.stringify(value) ?? NO_VALUE_OUTPUT; // a function or a symbol: nothing JSON can say
  } catch {
    return undefined;
  }
}

/**
 * The output as the agent takes it: well-formed (a lone surrogate becomes U+FFFD) and at most
 * {@link MAX_TOOL_OUTPUT_BYTES} UTF-8 bytes, cut between characters, with a note saying it was cut.
 */
export function limitOutput(output: string): string {
  const bytes = new TextEncoder().encode(output);
  if (bytes.length <= MAX_TOOL_OUTPUT_BYTES) return new TextDecoder().decode(bytes);
  const note = `\n[Output truncated: the tool returned ${bytes.length} bytes; the limit is ${MAX_TOOL_OUTPUT_BYTES}.]`;
  let end = MAX_TOOL_OUTPUT_BYTES - utf8Length(note);
  // Back to the first byte of a character: continuation bytes are 10xxxxxx.
  while ((bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end)) + note;
}

/** UTF-8 length of a string (a lone surrogate counts as the three bytes of U+FFFD). */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

function describe(error: unknown): string {
  try {
    if (error instanceof Error) return error.message || error.name;
    return String(error);
  } catch {
    return 'an error that could not be described';
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
