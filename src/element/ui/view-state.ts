import type { SessionSnapshot } from '../../session/session-types.js';

/**
 * What the widget shows, one look and one set of words each: derived from the session's snapshot,
 * never stored.
 */
export type ViewState =
  | 'idle'
  | 'microphone'
  | 'connecting'
  | 'reconnecting'
  | 'listening'
  | 'speaking'
  | 'muted'
  | 'paused'
  | 'chatting'
  | 'ending'
  | 'ended'
  | 'error';

export function viewState(snapshot: SessionSnapshot, muted: boolean, chat: boolean): ViewState {
  switch (snapshot.status) {
    case 'connecting':
      return snapshot.phase === 'microphone' ? 'microphone' : 'connecting';
    case 'reconnecting':
      return 'reconnecting';
    case 'disconnecting':
      return 'ending';
    case 'connected':
      if (chat) return 'chatting';
      if (snapshot.suspended) return 'paused';
      return snapshot.speaking ? 'speaking' : muted ? 'muted' : 'listening';
    case 'disconnected':
      if (snapshot.error?.fatal) return 'error';
      return snapshot.durationMs !== undefined ? 'ended' : 'idle';
  }
}

/** A call is set up or under way (the launcher shows it; the visualiser may run). */
export function isLive(state: ViewState): boolean {
  return state === 'listening' || state === 'speaking' || state === 'muted' || state === 'paused' || state === 'chatting' || state === 'reconnecting';
}
