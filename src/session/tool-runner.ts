/**
 * The client tools of one session: declares the page's tools to the agent, runs the agent's calls and
 * answers each one, and reports both. Loaded on first use (a session whose page sets tools, or whose
 * agent calls one), so pages without tools do not download it.
 */
import { VoiceAgentError } from '../errors.js';
import type { AgentEvent, ClientCommand } from '../protocol/agent-events.js';
import { limitOutput, prepareTools, refusal, runTool, type PreparedTool, type ToolCall, type ToolResult } from './client-tools.js';

/** What the runner needs from its session. */
export interface ToolHost {
  /** Sends a command to the agent; false when the session is no longer live (nothing is sent). */
  send(command: ClientCommand): boolean;
  /** Whether the session is live (connected and not ending). */
  live(): boolean;
  toolCall(call: ToolCall, decline: () => void): void;
  toolResult(result: ToolResult): void;
  /** A problem the call goes on with. */
  warn(error: VoiceAgentError): void;
}

export class ToolRunner {
  private _tools = new Map<string, PreparedTool>();
  /** Tool calls whose handler is still running: aborted when the session ends. */
  private readonly _running = new Set<{ call: ToolCall; abort: AbortController }>();

  constructor(private readonly _host: ToolHost) {}

  /**
   * Checks the page's tools and tells the agent about the valid ones. `always`: also an empty set (it
   * clears what was declared before); at the session's start there is nothing to clear.
   */
  declare(definitions: unknown, always: boolean): void {
    const { tools, problems } = prepareTools(definitions);
    this._tools = tools;
    if (problems.length > 0) {
      this._host.warn(new VoiceAgentError('config-invalid', `Client tools left out: ${problems.join('; ')}.`, { fatal: false }));
    }
    if (always || tools.size > 0) this._host.send({ type: 'tools', tools: [...tools.values()].map((tool) => tool.declaration) });
  }

  /**
   * Every tool call is answered, whatever the handler does: its value, or a sentence saying what
   * failed. A fire-and-forget tool runs without an answer. Calls that arrive once the session is
   * ending are dropped: nobody is left to answer.
   */
  call({ callId, name, arguments: args }: Extract<AgentEvent, { type: 'tool-call' }>): void {
    if (!this._host.live()) return;
    const tool = this._tools.get(name);
    if (!tool) return this._answer({ callId, name, output: refusal('unknown-tool', name), error: 'unknown-tool' }, true);
    if (!args) return this._answer({ callId, name, output: refusal('invalid-arguments', name), error: 'invalid-arguments' }, true);
    const call: ToolCall = { callId, name, arguments: args };
    const answers = tool.declaration.expectsResponse;
    let declined = false;
    this._host.toolCall(call, () => (declined = true));
    if (!this._host.live()) return; // a listener ended the call
    if (declined) return this._answer({ callId, name, output: refusal('declined', name), error: 'declined' }, answers);
    const running = { call, abort: new AbortController() };
    this._running.add(running);
    void runTool(tool, call, running.abort.signal).then((outcome) => {
      // Gone from the set: the session ended first and has reported the call.
      if (this._running.delete(running)) this._answer({ callId, name, ...outcome }, answers);
    });
  }

  /** The session is ending: running handlers are told (their signal aborts) and their calls reported as ended. */
  abandon(): void {
    const running = [...this._running];
    this._running.clear();
    for (const { call, abort } of running) {
      abort.abort(new DOMException('The call ended.', 'AbortError'));
      const { callId, name } = call;
      this._host.toolResult({ callId, name, output: refusal('ended', name), error: 'ended' });
    }
  }

  /** Sends the result (unless `send` is false: a fire-and-forget tool) and reports it. */
  private _answer(result: ToolResult, send: boolean): void {
    const answered: ToolResult = { ...result, output: limitOutput(result.output) };
    if (send) this._host.send({ type: 'tool-result', callId: answered.callId, output: answered.output });
    this._host.toolResult(answered);
  }
}
