import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property } from 'lit/decorators.js';
import { VoiceAgentError } from '../errors.js';
import type { ConnectConfig } from '../events.js';
import type { CallMode, CallVariables, SessionStatus, TranscriptEntry } from '../session/session-types.js';
import type { TokenProvider } from '../session/token.js';
import type { SessionConfig } from '../session/voice-session.js';
import { SessionController } from './session-controller.js';
import { STRINGS } from './strings.js';
import { styles } from './voice-agent.styles.js';

export const DEFAULT_SERVER_URL = 'wss://api.smallest.ai/atoms/v1/agent/connect';

/** Values the `variables` attribute could not be read into; reported when a call starts. */
const invalidVariables = new WeakSet<object>();

const variablesConverter = {
  fromAttribute(value: string | null): CallVariables {
    if (value === null || value.trim() === '') return {};
    try {
      const parsed: unknown = JSON.parse(value);
      if (isPlainObject(parsed)) return parsed as CallVariables;
    } catch {
      // reported on start
    }
    const invalid = {};
    invalidVariables.add(invalid);
    return invalid;
  },
};

/**
 * Talk with a realtime voice agent from any page. On start it asks the site's own token endpoint for
 * a short-lived token, opens the agent's WebSocket with it, and streams microphone audio while it
 * plays the agent's replies and shows the live transcript.
 *
 * @summary A drop-in voice (or text) conversation with an AI agent.
 *
 * @tagname voice-agent
 *
 * @fires {VaBeforeConnectEvent} va-before-connect - Before connecting. Cancelable; listeners may edit `detail.config` (`agentId`, `mode`, `variables`, `serverUrl`, `tokenEndpoint`).
 * @fires {VaStatusChangeEvent} va-status-change - `status` changed; `detail: {status, previous}`.
 * @fires {VaConnectEvent} va-connect - The agent started the session; `detail: {sessionId, callId, sampleRate}`.
 * @fires {VaTranscriptEvent} va-transcript - A transcript entry was added or updated; `detail: {role, text, final}`.
 * @fires {VaErrorEvent} va-error - Something went wrong; `detail: {code, message, fatal}`. `code` is stable; fatal errors end the call.
 * @fires {VaDisconnectEvent} va-disconnect - A connected session ended; `detail: {reason}` (`client_requested`, `ended`, `websocket_closed` or `error`).
 *
 * @csspart base - The widget's frame.
 * @csspart call-button - Starts and ends the call (cancels while connecting).
 * @csspart mute-button - Mutes the microphone during a voice call.
 * @csspart status - The live status line (a polite live region).
 * @csspart error - What went wrong and what to do, after a failure.
 * @csspart transcript - The list of conversation turns.
 * @csspart message - One transcript entry.
 * @csspart message-user - A transcript entry spoken or typed by the user.
 * @csspart message-assistant - A transcript entry from the agent.
 * @csspart text-form - The message form (chat mode).
 * @csspart text-input - The message field (chat mode).
 * @csspart send-button - The send button (chat mode).
 *
 * @cssprop [--va-accent=#4338ca] - Call button and accent colour.
 * @cssprop [--va-accent-contrast=#ffffff] - Text on the accent colour.
 * @cssprop [--va-danger=#b91c1c] - End-call button, muted state and error text.
 * @cssprop [--va-surface=#ffffff] - Background of the widget.
 * @cssprop [--va-text=#111827] - Text colour.
 * @cssprop [--va-muted-text=#4b5563] - Status line and in-progress transcript text.
 * @cssprop [--va-border=#d1d5db] - Borders of the frame, the mute button and the text field.
 * @cssprop [--va-radius=12px] - Corner radius of the frame.
 * @cssprop [--va-button-radius=9999px] - Corner radius of buttons and the text field.
 * @cssprop [--va-font=inherit] - Font shorthand for the widget.
 * @cssprop [--va-transcript-max-height=16rem] - Height after which the transcript scrolls.
 *
 * @cssstate connecting - A call is being set up.
 * @cssstate connected - A call is in progress.
 * @cssstate speaking - The agent is talking.
 * @cssstate muted - The microphone is muted.
 * @cssstate error - The last call failed; the `error` part says why.
 */
export class VoiceAgentElement extends LitElement {
  static override styles = styles;
  static override shadowRootOptions: ShadowRootInit = { ...LitElement.shadowRootOptions, delegatesFocus: true };

  /** The agent to talk to; sent to the token endpoint as `agent_id`. */
  @property({ attribute: 'agent-id' }) agentId = '';

  /** The site's own endpoint that mints a short-lived token (POST, JSON). It holds the API key; the page never does. */
  @property({ attribute: 'token-endpoint' }) tokenEndpoint = '';

  /** The agent WebSocket URL, used unless the token endpoint answers with its own `url`. */
  @property({ attribute: 'server-url' }) serverUrl = DEFAULT_SERVER_URL;

  /** `webcall` (voice, the default) or `chat` (text only, no microphone). */
  @property() mode: CallMode = 'webcall';

  /** Per-call variables for the agent's prompt: a JSON object as attribute, an object as property. */
  @property({ converter: variablesConverter }) variables: CallVariables = {};

  /** Mutes the microphone (the call goes on; the agent hears silence). */
  @property({ type: Boolean, reflect: true }) muted = false;

  /** Replaces the token endpoint with custom code that returns `{token, url?}`. */
  @property({ attribute: false }) tokenProvider?: TokenProvider;

  /** @internal Extra session settings (audio context rate, worklet sources, timeouts). */
  @property({ attribute: false }) sessionOptions?: Partial<SessionConfig>;

  private readonly session = new SessionController(this);
  private readonly internals: ElementInternals = this.attachInternals();

  /** `disconnected`, `connecting`, `connected` or `disconnecting`. */
  get status(): SessionStatus {
    return this.session.snapshot.status;
  }

  /** Whether the agent is talking. */
  get speaking(): boolean {
    return this.session.snapshot.speaking;
  }

  /** The conversation so far: `{role: 'user' | 'assistant', text, final}` entries, oldest first. */
  get transcript(): readonly TranscriptEntry[] {
    return this.session.snapshot.transcript;
  }

  /** Microphone level (RMS, 0..1) right now; poll it, e.g. once per animation frame. */
  get inputLevel(): number {
    return this.session.inputLevel;
  }

  /** Agent playback level (RMS, 0..1) right now. */
  get outputLevel(): number {
    return this.session.outputLevel;
  }

  /**
   * Starts a call. Call it from a user gesture (a click): browsers only start audio from one.
   * Resolves when connected or when the attempt has failed (a `va-error` says why); never rejects.
   */
  start(): Promise<void> {
    return this.session.start();
  }

  /** Ends the call and releases the microphone. Resolves once everything is closed. */
  stop(): Promise<void> {
    return this.session.stop();
  }

  /** Sends typed text to the agent (both modes). Returns false when no call is connected. */
  sendText(text: string): boolean {
    return this.session.sendText(text);
  }

  /** @internal Used by SessionController. */
  connectConfig(): ConnectConfig | VoiceAgentError {
    if (invalidVariables.has(this.variables) || !isPlainObject(this.variables)) {
      return new VoiceAgentError('config-invalid', 'The variables attribute must be a JSON object.');
    }
    const badKey = Object.entries(this.variables).find(([, v]) => !['string', 'number', 'boolean'].includes(typeof v));
    if (badKey) return new VoiceAgentError('config-invalid', `Variable "${badKey[0]}" must be a string, number or boolean.`);
    if (this.mode !== 'webcall' && this.mode !== 'chat') {
      return new VoiceAgentError('config-invalid', `mode must be "webcall" or "chat" (got "${String(this.mode)}").`);
    }
    return {
      agentId: this.agentId,
      mode: this.mode,
      variables: { ...this.variables },
      serverUrl: this.serverUrl,
      tokenEndpoint: this.tokenEndpoint,
    };
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('muted')) this.session.setMuted(this.muted);
  }

  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    const { status, speaking, error } = this.session.snapshot;
    this.setState('connecting', status === 'connecting');
    this.setState('connected', status === 'connected');
    this.setState('speaking', speaking);
    this.setState('muted', this.muted);
    this.setState('error', status === 'disconnected' && error !== undefined && error.fatal);
    const list = this.renderRoot.querySelector('.transcript');
    if (list) list.scrollTop = list.scrollHeight;
  }

  override render() {
    const { status, error } = this.session.snapshot;
    const chat = this.mode === 'chat';
    return html`
      <div part="base" class="base">
        <div class="controls">${this.renderCallButton(status, chat)} ${this.renderMuteButton(status, chat)}</div>
        <p part="status" class="status" role="status">${this.statusText(status, chat)}</p>
        ${error?.fatal && status === 'disconnected'
          ? html`<p part="error" class="error" role="alert">${STRINGS.errors[error.code]}</p>`
          : nothing}
        ${this.renderTranscript(this.session.snapshot.transcript)} ${chat ? this.renderTextForm(status) : nothing}
      </div>
    `;
  }

  protected renderCallButton(status: SessionStatus, chat: boolean) {
    const label =
      status === 'connecting' ? STRINGS.cancel : status === 'disconnected' ? (chat ? STRINGS.startChat : STRINGS.start) : chat ? STRINGS.endChat : STRINGS.end;
    return html`<button
      part="call-button"
      class="call-button"
      type="button"
      ?disabled=${status === 'disconnecting'}
      @click=${this.handleCallClick}
    >
      ${label}
    </button>`;
  }

  protected renderMuteButton(status: SessionStatus, chat: boolean) {
    if (chat || status !== 'connected') return nothing;
    return html`<button
      part="mute-button"
      class="mute-button"
      type="button"
      aria-label=${STRINGS.muteLabel}
      aria-pressed=${this.muted ? 'true' : 'false'}
      @click=${this.handleMuteClick}
    >
      ${STRINGS.mute}
    </button>`;
  }

  protected renderTranscript(transcript: readonly TranscriptEntry[]) {
    const lastReply = this.mode === 'chat' ? [...transcript].reverse().find((e) => e.role === 'assistant' && e.final) : undefined;
    return html`
      <ol part="transcript" class="transcript" aria-label=${STRINGS.transcriptLabel} ?hidden=${transcript.length === 0}>
        ${transcript.map(
          (entry) =>
            html`<li part="message message-${entry.role}" class="message ${entry.final ? '' : 'live'}">
              <span class="speaker">${entry.role === 'user' ? STRINGS.you : STRINGS.agent}:</span>
              <span class="text">${entry.text}</span>
            </li>`,
        )}
      </ol>
      ${lastReply ? html`<p class="visually-hidden" aria-live="polite">${lastReply.text}</p>` : nothing}
    `;
  }

  protected renderTextForm(status: SessionStatus) {
    return html`<form part="text-form" class="text-form" @submit=${this.handleSubmit}>
      <input
        part="text-input"
        class="text-input"
        name="message"
        autocomplete="off"
        maxlength="4000"
        aria-label=${STRINGS.messageLabel}
        placeholder=${STRINGS.messagePlaceholder}
        ?disabled=${status === 'connecting' || status === 'disconnecting'}
      />
      <button part="send-button" class="send-button" type="submit" ?disabled=${status === 'disconnecting'}>${STRINGS.send}</button>
    </form>`;
  }

  private statusText(status: SessionStatus, chat: boolean): string {
    const { speaking, info } = this.session.snapshot;
    switch (status) {
      case 'disconnected':
        return info ? STRINGS.status.ended : chat ? STRINGS.status.disconnectedChat : STRINGS.status.disconnected;
      case 'connecting':
        return STRINGS.status.connecting;
      case 'disconnecting':
        return STRINGS.status.disconnecting;
      case 'connected':
        if (speaking) return STRINGS.status.speaking;
        if (chat) return STRINGS.status.chatting;
        return this.muted ? STRINGS.status.muted : STRINGS.status.listening;
    }
  }

  private handleCallClick(): void {
    void (this.status === 'disconnected' ? this.start() : this.stop());
  }

  private handleMuteClick(): void {
    this.muted = !this.muted;
  }

  private async handleSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem('message') as HTMLInputElement;
    const text = input.value.trim();
    if (!text) return;
    if (this.status === 'disconnected') await this.start();
    if (this.sendText(text)) input.value = '';
  }

  private setState(state: string, on: boolean): void {
    try {
      if (on) this.internals.states.add(state);
      else this.internals.states.delete(state);
    } catch {
      // Browsers without CustomStateSet: styling by state is unavailable, nothing else is.
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
