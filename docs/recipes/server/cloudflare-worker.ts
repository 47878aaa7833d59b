// Cloudflare Workers: the token endpoint at /api/voice-token, configured in wrangler.toml. The key is a
// secret, never a var: `npx wrangler secret put ATOMS_API_KEY`.
import { createTokenHandler } from 'voice-agent-widget/server';
import type { TokenHandler } from 'voice-agent-widget/server';

export interface Env {
  ATOMS_API_KEY: string;
  ATOMS_AGENT_ID: string;
  /** The exact origins of the pages with the widget, comma-separated. */
  ALLOWED_ORIGINS: string;
  ATOMS_API_URL?: string;
}

// The bindings come with each request: the handler is made on the first one and kept for the isolate's
// life, so its rate limit counts across requests (per isolate).
const handlers = new WeakMap<Env, TokenHandler>();

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (new URL(request.url).pathname !== '/api/voice-token') return new Response('Not found', { status: 404 });
    let tokens = handlers.get(env);
    if (!tokens) {
      tokens = createTokenHandler({
        apiKey: env.ATOMS_API_KEY,
        agentId: env.ATOMS_AGENT_ID,
        allowedOrigins: (env.ALLOWED_ORIGINS ?? '').split(',').map((origin) => origin.trim()).filter(Boolean),
        upstream: env.ATOMS_API_URL,
      });
      handlers.set(env, tokens);
    }
    return tokens(request);
  },
};
