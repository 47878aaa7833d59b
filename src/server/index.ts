/**
 * The site owner's side of `voice-agent-widget` (`voice-agent-widget/server`): {@link createTokenHandler},
 * the endpoint a site mounts on its backend to mint short-lived voice tokens with its secret Atoms key.
 */
export { createTokenHandler } from './token-handler.js';
export type { TokenErrorCode, TokenHandler, TokenHandlerOptions, VoiceTokenResponse } from './token-handler.js';
export type { CallMode, CallVariables } from './validation.js';
