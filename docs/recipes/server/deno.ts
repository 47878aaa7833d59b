// Deno: the token endpoint at /api/voice-token, on port 8000.
//   ATOMS_API_KEY=sk_… ATOMS_AGENT_ID=… ALLOWED_ORIGINS=https://your-site.example \
//     deno run --allow-net --allow-env=ATOMS_API_KEY,ATOMS_AGENT_ID,ALLOWED_ORIGINS,ATOMS_API_URL deno.ts
import { createTokenHandler, withClientAddress } from 'npm:voice-agent-widget/server';

const tokens = createTokenHandler({
  apiKey: Deno.env.get('ATOMS_API_KEY')!,
  agentId: Deno.env.get('ATOMS_AGENT_ID'),
  // The exact origins of the pages with the widget, comma-separated.
  allowedOrigins: (Deno.env.get('ALLOWED_ORIGINS') ?? '').split(',').map((origin) => origin.trim()).filter(Boolean),
  upstream: Deno.env.get('ATOMS_API_URL'),
});

Deno.serve((request, info) => {
  if (new URL(request.url).pathname !== '/api/voice-token') return new Response('Not found', { status: 404 });
  // Deno tells the client's address beside the request: the rate limit counts by it.
  return tokens(withClientAddress(request, info.remoteAddr.hostname));
});
