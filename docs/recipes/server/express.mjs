// Express 5: the token endpoint for <voice-agent token-endpoint="https://your-site.example/api/voice-token">.
//   ATOMS_API_KEY=sk_… ATOMS_AGENT_ID=… ALLOWED_ORIGINS=https://your-site.example node express.mjs
import express from 'express';
import { createTokenHandler, toNodeHandler } from 'voice-agent-widget/server';

const tokens = toNodeHandler(
  createTokenHandler({
    apiKey: process.env.ATOMS_API_KEY,
    agentId: process.env.ATOMS_AGENT_ID,
    // The exact origins of the pages with the widget, comma-separated.
    allowedOrigins: (process.env.ALLOWED_ORIGINS ?? '').split(',').map((origin) => origin.trim()).filter(Boolean),
    upstream: process.env.ATOMS_API_URL,
    // Behind a load balancer or reverse proxy, count clients by X-Forwarded-For instead:
    // rateLimit: { trustProxy: 1 },
  }),
);

const app = express();
// OPTIONS answers the CORS preflight of pages on another origin.
app.route('/api/voice-token').post(tokens).options(tokens);

export const server = app.listen(Number(process.env.PORT ?? 3000));
