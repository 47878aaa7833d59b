import type { VoiceAgentErrorCode } from '../errors.js';

/**
 * Every sentence the element shows, in one place (the seam for translations). Error sentences tell
 * the user what to do next; the technical detail goes to `va-error` for the page's developer.
 */
export const STRINGS = {
  start: 'Start call',
  startChat: 'Start chat',
  end: 'End call',
  endChat: 'End chat',
  connecting: 'Connecting…',
  cancel: 'Cancel',
  mute: 'Mute',
  muteLabel: 'Mute microphone',
  status: {
    disconnected: 'Ready to talk',
    disconnectedChat: 'Ready to chat',
    connecting: 'Connecting…',
    listening: 'Listening',
    muted: 'Microphone muted',
    speaking: 'Agent is speaking',
    chatting: 'Connected',
    disconnecting: 'Ending…',
    ended: 'Call ended',
  },
  transcriptLabel: 'Conversation',
  you: 'You',
  agent: 'Agent',
  messageLabel: 'Message',
  messagePlaceholder: 'Type a message',
  send: 'Send',
  errors: {
    'config-invalid': 'This widget is not set up correctly. If you run this site, check its token-endpoint and server-url.',
    'mic-denied': 'Microphone access is blocked. Allow it in your browser’s site settings, then try again.',
    'mic-unavailable': 'The microphone could not be used. Connect one, or close other apps using it, then try again.',
    'audio-failed': 'Sound could not start in this browser. Check that a speaker or headphones are connected, then start the call again.',
    'token-failed': 'The call could not be authorised right now. Please try again in a moment.',
    'socket-failed': 'The voice agent could not be reached. Check your connection and try again.',
    'session-timeout': 'The voice agent did not answer. Please try again.',
    'connection-lost': 'The connection to the agent was lost. Start a new call to continue.',
    'server-error': 'The voice agent ended the call because of an error. Please try again.',
    'protocol-error': 'Part of the agent’s answer could not be read.',
  } satisfies Record<VoiceAgentErrorCode, string>,
} as const;
