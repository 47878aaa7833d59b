// Next.js App Router: app/api/voice-token/route.ts. Set the variables in .env.local or the host's
// settings, never with a NEXT_PUBLIC_ prefix (that would put the key in the browser bundle):
//   ATOMS_API_KEY=sk_…  ATOMS_AGENT_ID=…  ALLOWED_ORIGINS=https://your-site.example
import { createTokenHandler } from 'voice-agent-widget/server';
import type { TokenHandler } from 'voice-agent-widget/server';

// 'edge' works as well: the handler needs nothing but the Fetch API.
export const runtime = 'nodejs';

let tokens: TokenHandler | undefined;

// Made on the first request, so `next build` runs without the variables.
function handle(request: Request): Promise<Response> {
  tokens ??= createTokenHandler({
    apiKey: process.env.ATOMS_API_KEY!,
    agentId: process.env.ATOMS_AGENT_ID,
    // The exact origins of the pages with the widget, comma-separated. List the site's own origin too:
    // browsers send Origin with every POST.
    allowedOrigins: (process.env.ALLOWED_ORIGINS ?? '').split(',').map((origin) => origin.trim()).filter(Boolean),
    upstream: process.env.ATOMS_API_URL,
  });
  return tokens(request);
}

// OPTIONS answers the CORS preflight of pages on another origin.
export { handle as POST, handle as OPTIONS };
