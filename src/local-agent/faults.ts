/**
 * Faults the local agent can put into its next connections, so that a client's recovery (reconnects,
 * error handling, backpressure) is tested against a real socket: `LocalAgent.injectFaults(agentId,
 * faults)` queues them for one agent id, and each new connection for that agent takes the next.
 */

/** One connection's fault. */
export type LocalAgentFault =
  /** A healthy connection: to place faults after it in the queue. */
  | { type: 'none' }
  /** Answers the WebSocket upgrade with this HTTP status (the token is spent), as a proxy or an overloaded server would. */
  | { type: 'refuse'; status: number }
  /** Accepts the connection and never announces a session. */
  | { type: 'silent' }
  /** A fatal setup failure: an `error` frame with `code` (default `'401'`) and `message`, then close code 4000. */
  | { type: 'setup-error'; code?: string; message?: string }
  /**
   * Runs the session, then cuts the connection: `afterMs` after `session.created`, or (`midReply`) as the
   * agent's first reply goes out, audio in a voice call and text in a chat. Without `closeCode` the TCP
   * connection is destroyed without a close frame (the browser reports 1006); with one, it closes with it.
   */
  | { type: 'drop'; afterMs?: number; midReply?: boolean; closeCode?: number }
  /** Runs the session, then ends it `afterMs` after `session.created`: `session.closed` with `reason`, then close 1000. */
  | { type: 'end'; reason: string; afterMs?: number }
  /** Runs the session but stops reading from the socket (the client's send buffer fills up), for `resumeAfterMs` or for good. */
  | { type: 'stop-reading'; resumeAfterMs?: number };

/** Whether `value` is a fault the agent knows. */
export function isLocalAgentFault(value: unknown): value is LocalAgentFault {
  if (typeof value !== 'object' || value === null) return false;
  const fault = value as Record<string, unknown>;
  const optionalNumber = (key: string): boolean => fault[key] === undefined || (typeof fault[key] === 'number' && Number.isFinite(fault[key]) && (fault[key] as number) >= 0);
  switch (fault['type']) {
    case 'none':
    case 'silent':
      return true;
    case 'stop-reading':
      return optionalNumber('resumeAfterMs');
    case 'refuse':
      return Number.isInteger(fault['status']) && (fault['status'] as number) >= 400 && (fault['status'] as number) <= 599;
    case 'setup-error':
      return (fault['code'] === undefined || typeof fault['code'] === 'string') && (fault['message'] === undefined || typeof fault['message'] === 'string');
    case 'drop':
      return optionalNumber('afterMs') && optionalNumber('closeCode') && (fault['midReply'] === undefined || typeof fault['midReply'] === 'boolean');
    case 'end':
      return typeof fault['reason'] === 'string' && optionalNumber('afterMs');
    default:
      return false;
  }
}

/** The queues of faults by agent id. */
export class FaultPlan {
  private readonly queues = new Map<string, LocalAgentFault[]>();

  /** Queues `faults` for the next connections for `agentId`, after those already queued. */
  add(agentId: string, faults: readonly LocalAgentFault[]): void {
    const bad = faults.find((fault) => !isLocalAgentFault(fault));
    if (bad !== undefined) throw new TypeError(`LocalAgent: unknown fault ${JSON.stringify(bad)}`);
    this.queues.set(agentId, [...(this.queues.get(agentId) ?? []), ...faults]);
  }

  /** The next connection's fault for `agentId`: the first queued one (taken from the queue), else none. */
  take(agentId: string): LocalAgentFault {
    const queue = this.queues.get(agentId);
    const fault = queue?.shift() ?? { type: 'none' };
    if (queue?.length === 0) this.queues.delete(agentId);
    return fault;
  }

  /** Forgets every queued fault. */
  clear(): void {
    this.queues.clear();
  }
}
