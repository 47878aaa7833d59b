/**
 * `voice-agent-widget token`: mints one token from the environment's Atoms key and agent, through the
 * package's own token handler (the same validation, `register-call` call and error mapping a site's
 * endpoint uses), and prints it.
 */
import { createTokenHandler } from 'voice-agent-widget/server';
import type { TokenErrorCode, TokenHandler, VoiceTokenResponse } from 'voice-agent-widget/server';
import { parseFlags } from './args.js';
import { CliError, EXIT, EXIT_CODES_HELP } from './exit-codes.js';

/** `voice-agent-widget token --help`. */
export const TOKEN_HELP = `Usage: voice-agent-widget token [--json] [--mode webcall|chat] [--variables '{"name":"Ada"}']

Prints a fresh single-use voice token (wct_…, valid for about 30 s) minted by Atoms
POST /conversation/register-call, for trying an agent from a script or a test.

Environment:
  ATOMS_API_KEY    the secret Atoms API key (sk_…), required
  ATOMS_AGENT_ID   the agent to call, required
  ATOMS_API_URL    the Atoms REST base (default https://api.smallest.ai/atoms/v1)

Options:
  --json               print {"access_token", "expires_in", "sample_rate"} instead of the token alone
  --mode <mode>        webcall (the default: voice) or chat (text only)
  --variables <json>   per-call prompt variables, a JSON object
  -h, --help           show this help

${EXIT_CODES_HELP}
`;

const FLAGS = {
  json: { type: 'boolean' },
  mode: { type: 'string' },
  variables: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Which exit code each handler error means for the command line. */
const EXIT_FOR: Partial<Record<TokenErrorCode, number>> = {
  invalid_request: EXIT.usage,
  upstream_unauthorized: EXIT.refused,
  upstream_bad_request: EXIT.refused,
  upstream_no_credits: EXIT.refused,
  upstream_agent_not_found: EXIT.refused,
  upstream_rate_limited: EXIT.unavailable,
  upstream_failed: EXIT.unavailable,
  upstream_unreachable: EXIT.unavailable,
  upstream_invalid_response: EXIT.unavailable,
  upstream_timeout: EXIT.unavailable,
};

/**
 * Runs `token` with `args` (after the command name) and `env`; writes the token to `write`.
 * @throws CliError on a bad flag, a missing variable or a refused request.
 */
export async function runToken(args: string[], env: Record<string, string | undefined>, write: (text: string) => void): Promise<number> {
  const flags = parseFlags('token', args, FLAGS);
  if (flags.help) {
    write(TOKEN_HELP);
    return EXIT.ok;
  }
  const mode = flags.mode ?? 'webcall';
  if (mode !== 'webcall' && mode !== 'chat') throw new CliError(EXIT.usage, `--mode must be webcall or chat, not ${JSON.stringify(mode)}`);
  const variables = flags.variables === undefined ? {} : parseVariables(flags.variables);

  const handler = handlerFromEnvironment(env);
  const response = await handler(
    new Request('http://localhost/voice-token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ mode, variables }),
    }),
  );
  const body = (await response.json()) as VoiceTokenResponse | { error: { code: TokenErrorCode; message: string } };
  if ('error' in body) {
    const retryAfter = response.headers.get('retry-after');
    const message = `${body.error.message}${retryAfter ? ` (Retry-After: ${retryAfter})` : ''} [${body.error.code}]`;
    throw new CliError(EXIT_FOR[body.error.code] ?? EXIT.failed, message);
  }
  const { access_token, expires_in, sample_rate } = body;
  write(flags.json ? `${JSON.stringify({ access_token, expires_in, sample_rate })}\n` : `${access_token}\n`);
  return EXIT.ok;
}

function parseVariables(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(EXIT.usage, `--variables must be a JSON object, such as '{"name":"Ada"}' (got ${JSON.stringify(text.slice(0, 80))})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(EXIT.usage, `--variables must be a JSON object, such as '{"name":"Ada"}'`);
  }
  return value as Record<string, unknown>;
}

/** The token handler for the environment's key, agent and REST base; the caller is this process, with no Origin. */
function handlerFromEnvironment(env: Record<string, string | undefined>): TokenHandler {
  const apiKey = env['ATOMS_API_KEY']?.trim();
  const agentId = env['ATOMS_AGENT_ID']?.trim();
  const upstream = env['ATOMS_API_URL']?.trim() || undefined;
  const missing = [!apiKey && 'ATOMS_API_KEY (the secret Atoms key, sk_…)', !agentId && 'ATOMS_AGENT_ID (the agent to call)'].filter(Boolean);
  if (missing.length > 0) throw new CliError(EXIT.environment, `set ${missing.join(' and ')} in the environment`);
  try {
    return createTokenHandler({ apiKey: apiKey!, agentId: agentId!, upstream, allowedOrigins: [], allowRequestsWithoutOrigin: true, rateLimit: false });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const variable = /`agentId`/.test(message) ? 'ATOMS_AGENT_ID' : /`upstream`/.test(message) ? 'ATOMS_API_URL' : 'the environment';
    throw new CliError(EXIT.environment, `${variable} is not usable: ${message.replace(/^createTokenHandler: /, '').replace(/`agentId`|`upstream`/, 'it')}`);
  }
}
