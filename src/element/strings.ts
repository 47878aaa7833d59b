import type { VoiceAgentError } from '../errors.js';

/**
 * Every word the widget shows or announces, in English. A page replaces any of them through the
 * `strings` property or its JSON attribute (missing keys fall back to these); the locale modules
 * (`voice-agent-widget/locales/es.js` …) hold the translations. `{name}` is the agent's name and
 * `{duration}` the length of the call that ended.
 *
 * Error sentences tell the user what to do next; the technical detail goes to `va-error`.
 */
export const DEFAULT_STRINGS = {
  /** The agent's name when `agent-name` is not set. */
  assistantName: 'Voice assistant',
  launcherOpen: 'Talk to {name}',
  launcherLive: 'Call with {name} in progress. Show it',
  launcherLiveMuted: 'Call with {name} in progress, microphone muted. Show it',
  launcherHide: 'Hide {name}',
  close: 'Close',

  callStart: 'Start call',
  callEnd: 'End call',
  callCancel: 'Cancel',
  chatStart: 'Start chat',
  chatEnd: 'End chat',
  mute: 'Mute microphone',
  /** The audio device menu: its button and its name. */
  devices: 'Audio devices',
  microphone: 'Microphone',
  speaker: 'Speaker',
  /** The menu's option that follows the system's default device. */
  deviceDefault: 'System default',
  retry: 'Try again',

  statusIdle: 'Ready to talk',
  statusIdleChat: 'Ready to chat',
  statusMicrophone: 'Waiting for the microphone…',
  statusMicrophoneHint: 'Your browser will ask to use the microphone. Choose Allow.',
  statusConnecting: 'Connecting…',
  statusReconnecting: 'Reconnecting…',
  /** While reconnecting, the browser is offline. */
  statusOffline: 'Offline. Waiting for the network…',
  /** The mark in the transcript where the call went on after a reconnect. */
  transcriptReconnected: 'Reconnected',
  statusListening: 'Listening',
  statusSpeaking: '{name} is speaking',
  statusMuted: 'Microphone muted',
  statusPaused: 'Audio paused. Tap to resume.',
  resumeAudio: 'Resume audio',
  statusChatting: 'Connected',
  statusEnding: 'Ending…',
  statusEnded: 'Call ended · {duration}',
  statusEndedChat: 'Chat ended',
  statusFailed: 'The call could not continue',

  transcriptLabel: 'Conversation',
  you: 'You',
  jumpToLatest: 'Jump to latest',
  messageLabel: 'Message',
  messagePlaceholder: 'Type a message…',
  send: 'Send',
  sendFailed: 'Not sent: the call is not connected. Your text is still here.',

  errorConfig: 'This widget is not set up correctly. If you run this site, check its settings.',
  errorMicDenied: 'Microphone access is blocked. Allow it in your browser’s site settings, then try again.',
  errorMicFrame: 'This page’s frame blocks the microphone. The site owner must add allow="microphone" to the iframe.',
  errorMicDeniedFramed: 'Microphone access is blocked. Allow it in your browser’s site settings. If this page is embedded in another site, its owner may need to add allow="microphone" to the iframe.',
  errorInsecure: 'The microphone only works on secure (https) pages. Open this page over https.',
  errorNoMic: 'No microphone was found. Connect one, then try again.',
  errorMicBusy: 'The microphone could not be used. Close other apps using it, then try again.',
  errorMicLost: 'The microphone stopped during the call. Check it is connected, then start a new call.',
  errorMicFallback: 'The chosen microphone is not available. The call goes on with the default microphone.',
  errorSpeakerFallback: 'The chosen speaker is not available. The call goes on with the default speaker.',
  errorAudio: 'Sound could not start in this browser. Check that a speaker or headphones are connected, then start the call again.',
  errorTokenRefused: 'This site refused to start the call. Reload the page and try again.',
  errorTokenBusy: 'The service is busy right now. Please try again in a minute.',
  errorTokenFailed: 'The call could not be set up right now. Please try again in a moment.',
  errorSocket: 'The voice agent could not be reached. Check your connection and try again.',
  errorTimeout: 'The voice agent did not answer. Please try again.',
  errorConnectionLost: 'The connection to the agent was lost. Start a new call to continue.',
  errorNetworkSlow: 'Your connection is slow. The agent may miss some of what you say.',
  errorServer: 'The voice agent ended the call because of an error. Please try again.',
};

export type VoiceAgentStrings = typeof DEFAULT_STRINGS;
export type StringKey = keyof VoiceAgentStrings;

/** Overrides merged over the English defaults; unknown keys and non-string values are ignored. */
export function mergeStrings(overrides: unknown): VoiceAgentStrings {
  const merged = { ...DEFAULT_STRINGS };
  if (typeof overrides !== 'object' || overrides === null) return merged;
  for (const [key, value] of Object.entries(overrides)) {
    if (Object.hasOwn(DEFAULT_STRINGS, key) && typeof value === 'string') merged[key as StringKey] = value;
  }
  return merged;
}

/** Reads the `strings` attribute: a JSON object of overrides; anything else overrides nothing. */
export function stringsFromAttribute(value: string | null): Partial<VoiceAgentStrings> {
  if (!value) return {};
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Partial<VoiceAgentStrings>) : {};
  } catch {
    return {};
  }
}

/** Fills `{name}`-style placeholders. */
export function format(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}

/** The sentence for a failed call: what happened, in the user's terms, and what to do. */
export function errorKey(error: VoiceAgentError): StringKey {
  switch (error.code) {
    case 'config-invalid':
      return 'errorConfig';
    case 'mic-denied':
      return error.reason === 'frame-policy' ? 'errorMicFrame' : error.reason === 'framed' ? 'errorMicDeniedFramed' : 'errorMicDenied';
    case 'mic-unavailable':
      return error.reason === 'insecure-context'
        ? 'errorInsecure'
        : error.reason === 'no-device'
          ? 'errorNoMic'
          : error.reason === 'ended'
            ? 'errorMicLost'
            : 'errorMicBusy';
    case 'device-lost':
      return error.reason === 'speaker' ? 'errorSpeakerFallback' : 'errorMicFallback';
    case 'audio-failed':
      return error.reason === 'worklets' ? 'errorConfig' : 'errorAudio';
    case 'token-failed':
      return error.status === 401 || error.status === 403 ? 'errorTokenRefused' : error.status === 429 || error.status === 503 ? 'errorTokenBusy' : 'errorTokenFailed';
    case 'socket-failed':
      return 'errorSocket';
    case 'session-timeout':
      return 'errorTimeout';
    case 'connection-lost':
      return 'errorConnectionLost';
    case 'network-slow':
      return 'errorNetworkSlow';
    case 'server-error':
    case 'protocol-error':
      return 'errorServer';
    case 'tools-rejected':
      // Never fatal, so never shown: the site's setup, should it ever be.
      return 'errorConfig';
  }
}

/** A call's length for people: `0:42`, `12:05`, `1:02:09`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
