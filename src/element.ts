/**
 * `voice-agent-widget/element`: the element class and everything public, without side effects (no
 * `customElements.define`): for a tag name of your own or a scoped registry. `voice-agent-widget`
 * itself registers `<voice-agent>`.
 */
export { VoiceAgentElement, DEFAULT_SERVER_URL } from './element/voice-agent-element.js';
export * from './events.js';
export { VoiceAgentError, type VoiceAgentErrorCode } from './errors.js';
export type {
  CallMode,
  CallVariable,
  CallVariables,
  DisconnectReason,
  SessionInfo,
  SessionStatus,
  TranscriptEntry,
  TranscriptMark,
} from './session/session-types.js';
export {
  endpointTokenProvider,
  parseTokenResponse,
  type SessionCredentials,
  type TokenProvider,
  type TokenRequest,
} from './session/token.js';
export type { ClientTool, ClientTools, ToolCallContext, ToolCallError, ToolHandler } from './session/client-tools.js';
export type { AgentEvent, ClientCommand, ProtocolAdapter, ToolDeclaration, TranscriptRole } from './protocol/agent-events.js';
export { atomsAdapter } from './protocol/atoms/atoms-adapter.js';
export { setDefaultWorkletSources, type WorkletSources } from './audio/worklet-loader.js';
