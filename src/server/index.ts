/**
 * The site owner's side of `voice-agent-widget` (`voice-agent-widget/server`): {@link createTokenHandler},
 * the endpoint a site mounts on its backend to mint short-lived voice tokens with its secret Atoms key,
 * as a Fetch-API handler for any runtime, and {@link toNodeHandler} for Node's `http` and Express. No
 * dependencies and no Node built-ins.
 */
export { createTokenHandler } from './token-handler.js';
export type { TokenHandler, TokenHandlerOptions } from './token-handler.js';
export type { FetchFunction, VoiceTokenResponse } from './register-call.js';
export type { TokenErrorCode } from './reply.js';
export { MemoryRateLimitStore, withClientAddress } from './rate-limit.js';
export type { MemoryRateLimitStoreOptions, RateLimitHit, RateLimitOptions, RateLimitStore } from './rate-limit.js';
export { toNodeHandler } from './node-handler.js';
export type { FetchHandler, NodeHandler, NodeHandlerOptions } from './node-handler.js';
export type { CallMode, CallVariables } from './validation.js';
