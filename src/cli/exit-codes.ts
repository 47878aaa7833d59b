/**
 * The CLI's exit codes, one per kind of failure, and the error that carries one. Scripts can tell a
 * mistake in the command (2, 3) from a refusal by Atoms (4) and from a failure worth retrying (5).
 */

/** Exit codes of `voice-agent-widget`. */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** An unexpected failure. */
  failed: 1,
  /** An unknown command or flag, or a flag with a bad value. */
  usage: 2,
  /** A required environment variable is missing, or one is not usable. */
  environment: 3,
  /** The agent service refused: the API key, the agent id, the credits or the request. */
  refused: 4,
  /** The agent service is unavailable: unreachable, too slow, rate limiting or failing. Worth retrying. */
  unavailable: 5,
  /** A package the command needs is not installed (`dev` needs `ws`). */
  missingDependency: 6,
  /** The dev server could not listen (the port is in use, or not allowed). */
  cannotListen: 7,
} as const;

/** The exit-code table printed by every `--help`. */
export const EXIT_CODES_HELP = `Exit codes:
  0  done
  1  unexpected failure
  2  unknown command or flag, or a bad flag value
  3  missing or unusable environment variable (ATOMS_API_KEY, ATOMS_AGENT_ID, ATOMS_API_URL)
  4  the agent service refused: API key, agent id, credits or request
  5  the agent service is unavailable: unreachable, timeout, rate limited or failing (retry later)
  6  a needed package is missing (dev needs ws: npm i -D ws)
  7  the dev server could not listen (port in use)`;

/** A failure the CLI reports as one line on stderr, ending the process with `exitCode`. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
