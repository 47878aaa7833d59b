import { LitElement, html, nothing, type PropertyValues } from 'lit';
import type { PlaybackMode } from '../audio/playback-route.js';
import { VoiceAgentError } from '../errors.js';
import { VaCloseEvent, VaDeviceChangeEvent, VaErrorEvent, VaOpenEvent } from '../events.js';
import { DEFAULT_SERVER_URL, MAX_TEXT_LENGTH, variablesFromAttribute } from '../session/call-config.js';
import type { CallMode, CallVariables, SessionStatus, TranscriptEntry } from '../session/session-types.js';
import type { ClientTools } from '../session/client-tools.js';
import type { TokenProvider } from '../session/token.js';
import type { SessionConfig } from '../session/ports.js';
import { SessionController } from './session-controller.js';
import { DEFAULT_STRINGS, errorKey, format, formatDuration, mergeStrings, stringsFromAttribute, type VoiceAgentStrings } from './strings.js';
import type { DeviceMenu } from './ui/device-menu.js';
import { closeIcon, devicesIcon, hangUpIcon, micIcon, micOffIcon, phoneIcon, sendIcon, waveIcon } from './ui/icons.js';
import { TranscriptScroller, renderTranscript, transcriptStyles } from './ui/transcript.js';
import { isLive, viewState, type ViewState } from './ui/view-state.js';
import { VisualizerController, renderVisualizer, visualizerStyles } from './ui/visualizer.js';
import { styles } from './voice-agent.styles.js';

export { DEFAULT_SERVER_URL };

export type Layout = 'floating' | 'inline';
export type Position = 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left';
export type TranscriptVisibility = 'auto' | 'always' | 'never';
export type Theme = 'auto' | 'light' | 'dark';
export type ReconnectMode = 'auto' | 'off';

/** On a mouse press, focus stays where it is (WebKit would first move it to the panel, closing an open menu). */
const preventDefault = (event: Event) => event.preventDefault();

/**
 * Talk with a realtime voice agent from any page. On start it asks the site's own token endpoint for
 * a short-lived token, opens the agent's WebSocket with it, and streams microphone audio while it
 * plays the agent's replies and shows the live transcript.
 *
 * @summary A drop-in voice (or text) conversation with an AI agent.
 *
 * @tagname voice-agent
 *
 * @fires {VaBeforeConnectEvent} va-before-connect - In `start()`, before anything opens. Cancelable: `preventDefault()` and no microphone, token request or socket is opened, the panel does not open, and no error is shown (an earlier failure's message is cleared). Listeners may change `detail.config` for this call only, synchronously: `variables`, `agentId`, `mode`, `serverUrl` and `tokenEndpoint` (unused with a `tokenProvider`); the changes are checked as the attributes are (`config-invalid`), and the element's own properties stay as they were.
 * @fires {VaStatusChangeEvent} va-status-change - `status` changed; `detail: {status, previous}`.
 * @fires {VaConnectEvent} va-connect - The agent started the session; `detail: {sessionId, callId, sampleRate}`.
 * @fires {VaTranscriptEvent} va-transcript - A transcript entry was added or updated; `detail: {role, text, final, mark?}` (`role` `system` with `mark: 'reconnected'` where a reconnect's new session begins).
 * @fires {VaErrorEvent} va-error - Something went wrong; `detail: {code, message, fatal}`. `code` is stable; fatal errors end the call.
 * @fires {VaReconnectingEvent} va-reconnecting - The connection dropped during the call and a try to restore it begins (a fresh token); `detail: {attempt}` from 1. `status` is `reconnecting` meanwhile.
 * @fires {VaReconnectedEvent} va-reconnected - The call goes on over a new connection, in a new session of the agent's server; `detail: {sessionId, callId}`. A `system` transcript entry (`mark: 'reconnected'`) marks where it begins.
 * @fires {VaDisconnectEvent} va-disconnect - A connected session ended; `detail: {reason}` (`client_requested`, `ended`, `websocket_closed` or `error`).
 * @fires {VaOpenEvent} va-open - The floating panel opened (launcher, `show()` or `open`).
 * @fires {VaCloseEvent} va-close - The floating panel closed (close button, Escape, launcher, `hide()` or `open`).
 * @fires {VaDeviceChangeEvent} va-device-change - The chosen microphone or speaker changed (the menu, the page, or back to the default after it went away); `detail: {kind, deviceId}`.
 * @fires {VaToolCallEvent} va-tool-call - The agent calls one of `tools`; its handler runs next. Cancelable: `preventDefault()` declines, and the agent is told so; `detail: {callId, name, arguments}`.
 * @fires {VaToolResultEvent} va-tool-result - A tool call settled, once for every call; `detail: {callId, name, output, error?}` (`output`: what the agent was told).
 *
 * @slot avatar - The agent's picture in the panel's header (an `<img>` fills the circle).
 * @slot launcher-icon - Replaces the launcher's icon.
 *
 * @csspart launcher - The round button that opens the floating panel.
 * @csspart launcher-badge - The muted-microphone mark on the launcher during a call.
 * @csspart panel - The panel: header, visualiser, transcript, text field and controls.
 * @csspart base - The panel (the name it had before the launcher existed).
 * @csspart header - The panel's top row: avatar, name and status.
 * @csspart avatar - The circle that holds the avatar slot.
 * @csspart name - The agent's name.
 * @csspart status - The status line: the one polite live region.
 * @csspart close-button - Closes the floating panel (the call goes on).
 * @csspart visualizer - Bars that follow the microphone while listening and the agent while it speaks.
 * @csspart hint - What to expect while the browser asks for the microphone.
 * @csspart error - What went wrong and what to do (announced once, assertively).
 * @csspart retry-button - Starts a fresh call after a failure.
 * @csspart resume-button - Resumes audio the browser suspended during a call.
 * @csspart transcript - The list of conversation turns.
 * @csspart message - One turn.
 * @csspart message-user - A turn spoken or typed by the user.
 * @csspart message-assistant - A turn of the agent.
 * @csspart jump-button - Scrolls back to the latest turn after the reader scrolled up.
 * @csspart text-form - The message form.
 * @csspart text-input - The message field: Enter sends, Shift+Enter starts a new line.
 * @csspart send-button - Sends the message.
 * @csspart send-note - Says a message was not sent (its text stays in the field).
 * @csspart controls - The row of call controls.
 * @csspart call-button - Starts and ends the call (cancels while connecting).
 * @csspart mute-button - Mutes the microphone during a voice call (`aria-pressed`).
 * @csspart device-button - Opens the menu of microphones and speakers (voice calls).
 * @csspart device-menu - The menu of microphones, and of speakers where the browser can choose one.
 * @csspart device-option - One device in the menu (`aria-checked` on the chosen one).
 * @csspart network-note - Says the connection is too slow and some of the user's words may not reach the agent.
 * @csspart transcript-mark - The mark in the transcript where the call went on after a reconnect.
 * @csspart device-note - Says the chosen microphone or speaker is not available and the default one is used.
 *
 * @cssprop [--va-accent=#4338ca] - Accent: launcher, call button, visualiser (dark: #a5b4fc).
 * @cssprop [--va-accent-contrast=#ffffff] - Text and icons on the accent (dark: #1e1b4b).
 * @cssprop [--va-danger=#b91c1c] - End call, muted microphone, error frame (dark: #fca5a5).
 * @cssprop [--va-danger-contrast=#ffffff] - Text and icons on the danger colour (dark: #450a0a).
 * @cssprop [--va-surface=#ffffff] - Background of the panel (dark: #111827).
 * @cssprop [--va-text=#111827] - Text (dark: #f3f4f6).
 * @cssprop [--va-muted-text=#4b5563] - Status line, placeholders and icons (dark: #a3adbd).
 * @cssprop [--va-border=#d1d5db] - Borders and idle visualiser bars (dark: #374151).
 * @cssprop [--va-bubble-user=#e0e7ff] - Background of the user's turns (dark: #312e81).
 * @cssprop [--va-bubble-assistant=#f3f4f6] - Background of the agent's turns (dark: #1f2937).
 * @cssprop [--va-shadow=0 12px 32px rgb(17 24 39 / 0.18), 0 2px 6px rgb(17 24 39 / 0.12)] - Shadow of the launcher and the floating panel.
 * @cssprop [--va-focus=var(--va-accent)] - Focus ring colour.
 * @cssprop [--va-radius=16px] - Corner radius of the panel.
 * @cssprop [--va-button-radius=9999px] - Corner radius of the call button.
 * @cssprop [--va-font=400 15px/1.45 system-ui, sans-serif] - Font shorthand; set `inherit` on the element to use the page's font.
 * @cssprop [--va-transcript-max-height=18rem] - Height after which the transcript scrolls.
 * @cssprop [--va-launcher-size=3.5rem] - Diameter of the launcher.
 * @cssprop [--va-panel-width=23rem] - Width of the floating panel (phones: the whole screen width).
 * @cssprop [--va-panel-height=36rem] - Tallest the floating panel grows.
 * @cssprop [--va-z-index=2147483000] - Stacking order of the floating widget.
 * @cssprop [--va-offset-x=1.25rem] - Distance of the floating widget from the side of the screen.
 * @cssprop [--va-offset-y=1.25rem] - Distance of the floating widget from the top or bottom of the screen.
 *
 * @cssstate open - The floating panel is open (always set inline).
 * @cssstate connecting - A call is being set up.
 * @cssstate connected - A call is in progress.
 * @cssstate reconnecting - The connection dropped during the call and is being restored.
 * @cssstate listening - In a voice call, the agent is listening.
 * @cssstate speaking - The agent is audible (the player is playing its reply).
 * @cssstate muted - The microphone is muted.
 * @cssstate paused - The browser suspended the call's audio (a phone call, a background tab); a tap resumes it.
 * @cssstate error - The last call failed; the `error` part says why.
 */
export class VoiceAgentElement extends LitElement {
  static override styles = [styles, visualizerStyles, transcriptStyles];

  /** The reactive properties and their attributes; each field below says what it does. */
  static override properties = {
    agentId: { attribute: 'agent-id' },
    tokenEndpoint: { attribute: 'token-endpoint' },
    serverUrl: { attribute: 'server-url' },
    mode: {},
    variables: { converter: { fromAttribute: variablesFromAttribute } },
    muted: { type: Boolean, reflect: true },
    inputDeviceId: { attribute: 'input-device-id' },
    outputDeviceId: { attribute: 'output-device-id' },
    playback: {},
    workletBaseUrl: { attribute: 'worklet-base-url' },
    layout: { reflect: true },
    position: { reflect: true },
    open: { type: Boolean, reflect: true },
    agentName: { attribute: 'agent-name' },
    showTranscript: { attribute: 'show-transcript' },
    theme: { reflect: true },
    prebufferMs: { type: Number, attribute: 'prebuffer-ms' },
    maxBufferMs: { type: Number, attribute: 'max-buffer-ms' },
    reconnect: {},
    tokenProvider: { attribute: false },
    tools: { attribute: false },
    strings: { converter: { fromAttribute: stringsFromAttribute }, noAccessor: true },
  };

  /** The agent to talk to; sent to the token endpoint as `agent_id`. */
  agentId = '';

  /**
   * The site's own endpoint that mints a short-lived token (POST, JSON). It holds the API key; the page
   * never does: what looks like a secret key (`sk_` and 8 or more key characters, also inside a longer
   * text) in this or any setting the call sends or loads from (`agent-id`, `server-url`, `mode`,
   * `variables` keys and values, `worklet-base-url`, `tools`, a `va-before-connect` edit), or in the
   * token answer, stops the start with `config-invalid` before it is sent anywhere.
   */
  tokenEndpoint = '';

  /** The agent WebSocket URL, used unless the token endpoint answers with its own `url`: `wss:` (`ws:` only on localhost). */
  serverUrl = DEFAULT_SERVER_URL;

  /** `webcall` (voice, the default) or `chat` (text only, no microphone). */
  mode: CallMode = 'webcall';

  /** Per-call variables for the agent's prompt: a JSON object as attribute, an object as property. */
  variables: CallVariables = {};

  /** Mutes the microphone (the call goes on; the agent hears silence). */
  muted = false;

  /**
   * The microphone: a `deviceId` from `navigator.mediaDevices.enumerateDevices()`; empty (the default)
   * for the system's default. Set during a call, it switches the microphone and the call goes on. A
   * device that is not there, or goes away, gives way to the default with a non-fatal `device-lost`
   * error, and this becomes empty again.
   */
  inputDeviceId = '';

  /** The speaker, likewise, where the browser can play on a chosen output (Chromium); elsewhere the default output plays. */
  outputDeviceId = '';

  /**
   * Where the agent's voice plays: `direct` (Web Audio's own output, which the echo cancellers of
   * Chromium and Firefox hear), `echo-safe` (through a loopback WebRTC connection into an `<audio>`
   * element, for an echo canceller that ignores Web Audio, such as Chromium's with chrome-wide echo
   * cancellation off; adds 60–90 ms), or `auto` (the default: `direct`). Read when a call starts.
   */
  playback: PlaybackMode = 'auto';

  /**
   * A folder holding the audio worklet files (`capture-processor.js`, `playback-processor.js`) for a
   * site that hosts them somewhere else than beside the script (relative to the page). Read when a call starts.
   */
  workletBaseUrl = '';

  /** `floating` (the default: a launcher in a corner opens the panel) or `inline` (the panel in the page flow). */
  layout: Layout = 'floating';

  /** Corner of the floating launcher: `bottom-right` (default), `bottom-left`, `top-right`, `top-left`; mirrored right-to-left. */
  position: Position = 'bottom-right';

  /** Whether the floating panel is open. */
  open = false;

  /** The agent's name in the header and the launcher's label. */
  agentName = '';

  /** `auto` (the default: once there is a turn), `always`, or `never` for voice-only widgets. */
  showTranscript: TranscriptVisibility = 'auto';

  /** `auto` (the default: follows the user's light or dark preference), `light` or `dark`. */
  theme: Theme = 'auto';

  /** The jitter buffer's floor: ms of agent audio held back before a reply starts (default 40). */
  prebufferMs = 40;

  /** The most the adaptive jitter buffer grows to, in ms, when agent audio arrives late (default 400). */
  maxBufferMs = 400;

  /**
   * `auto` (the default): a connection that drops during a call (close 1001, 1006, 1011, a network
   * change) is restored with a fresh token, up to 4 tries 0.5–8 s apart, waiting while the browser is
   * offline; meanwhile `status` is `reconnecting` and the microphone stays open. `off`: the call ends
   * with `connection-lost`. Read when a call starts.
   */
  reconnect: ReconnectMode = 'auto';

  /** Replaces the token endpoint with custom code that returns `{token, url?}`. */
  tokenProvider?: TokenProvider;

  /**
   * Client tools: functions of the page the agent may call during a call, by name
   * (`{name: {description, parameters, handler, timeoutMs?, expectsResponse?}}`). Declared to the agent
   * once the call starts; assign a new object during a call to replace the whole set (`{}` clears it).
   * Each handler's value (a string, or anything else as JSON) is sent back as the call's output; a
   * throw, a rejection or a timeout is sent as a sentence saying what failed. Invalid definitions
   * are left out with a non-fatal `config-invalid` error; the agent refusing them gives `tools-rejected`.
   */
  tools: ClientTools = {};

  /** @internal Extra session settings (audio context rate, worklet sources, timeouts). */
  sessionOptions?: Partial<SessionConfig>;

  /** The text field's content, kept across renders (and after a failed send). */
  private _draft = '';
  private _sendFailed = false;
  private _stringOverrides: Partial<VoiceAgentStrings> = {};
  private _merged: VoiceAgentStrings = DEFAULT_STRINGS;
  private _focusOnRender?: 'panel' | 'launcher';

  private readonly _session = new SessionController(this);
  private readonly _scroller = new TranscriptScroller(this);
  private readonly _visualizer = new VisualizerController(this);
  /** The device menu, once its button was first used (its code loads then). */
  private _devices?: DeviceMenu;
  private readonly _internals: ElementInternals = this.attachInternals();

  /**
   * Every word the widget shows: English defaults with the page's overrides merged over them.
   * Set an object (for example a locale module's default export) or, as an attribute, JSON; missing
   * keys stay English. Reading it returns the merged table.
   */
  get strings(): VoiceAgentStrings {
    return this._merged;
  }
  set strings(overrides: Partial<VoiceAgentStrings> | null | undefined) {
    const old = this._merged;
    this._stringOverrides = overrides ?? {};
    this._merged = mergeStrings(this._stringOverrides);
    this.requestUpdate('strings', old);
  }

  /** `disconnected`, `connecting`, `connected`, `reconnecting` (the connection dropped and is being restored) or `disconnecting`. */
  get status(): SessionStatus {
    return this._session.snapshot.status;
  }

  /** Whether the agent is audible: in a voice call, while the player plays its reply (not only while the server says it talks). */
  get speaking(): boolean {
    return this._session.snapshot.speaking;
  }

  /** The conversation so far: `{role: 'user' | 'assistant', text, final}` entries, oldest first. */
  get transcript(): readonly TranscriptEntry[] {
    return this._session.snapshot.transcript;
  }

  /** The names of the client tools the agent accepted in this call (its last confirmation); empty before. */
  get acceptedTools(): readonly string[] {
    return this._session.snapshot.acceptedTools;
  }

  /** Microphone level (RMS, 0..1) right now; poll it, e.g. once per animation frame. */
  get inputLevel(): number {
    return this._session.inputLevel;
  }

  /** Agent playback level (RMS, 0..1) right now. */
  get outputLevel(): number {
    return this._session.outputLevel;
  }

  /** @internal The audio settings the attributes hold, for the session. */
  get audioSettings() {
    const { prebufferMs, maxBufferMs, inputDeviceId, outputDeviceId, playback, workletBaseUrl } = this;
    return { prebufferMs, maxBufferMs, inputDeviceId, outputDeviceId, playback, ...(workletBaseUrl && { worklets: { baseUrl: workletBaseUrl } }) };
  }

  /** @internal Which level the visualiser follows now. */
  get meterSource(): 'input' | 'output' | undefined {
    const state = this._viewState;
    return state === 'speaking' ? 'output' : state === 'listening' ? 'input' : undefined;
  }

  /** @internal Whether the panel is on screen. */
  get panelVisible(): boolean {
    return this.layout === 'inline' || this.open;
  }

  /** @internal The visualiser is drawing frames. */
  get animating(): boolean {
    return this._visualizer.running;
  }

  private get _viewState(): ViewState {
    return viewState(this._session.snapshot, this.muted, this.mode === 'chat');
  }

  /**
   * Starts a call. Call it from a user gesture (a click): browsers only start audio from one.
   * Resolves when connected, when the attempt has failed (a `va-error` says why) or when a
   * `va-before-connect` listener cancelled it; never rejects. A floating widget opens its panel,
   * unless the start was cancelled. While a call is connecting or connected, it joins that call; right
   * after `stop()`, it starts a new one: at once if the old one never connected, else as soon as the
   * old one has closed and fired its `va-disconnect` (meanwhile `status` is already `connecting`).
   */
  start(): Promise<void> {
    // Properties a framework set before the element was defined are applied at the first update:
    // run it now if it is still pending, so this call uses them.
    if (!this.hasUpdated && this.isUpdatePending) this.performUpdate();
    const started = this._session.start();
    if (this.layout !== 'inline' && !this._session.cancelled) this.open = true;
    return started;
  }

  /** Ends the call and releases the microphone. Resolves once everything is closed. */
  stop(): Promise<void> {
    return this._session.stop();
  }

  /** Sends typed text to the agent (both modes). Returns false when no call is connected. */
  sendText(text: string): boolean {
    return this._session.sendText(text);
  }

  /** Opens the floating panel and moves focus into it. */
  show(): void {
    this._focusOnRender = 'panel';
    this.open = true;
  }

  /** Closes the floating panel (a call goes on) and gives focus back to the launcher. */
  hide(): void {
    if (this.open && this.shadowRoot?.activeElement) this._focusOnRender = 'launcher';
    this.open = false;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('muted')) this._session.setMuted(this.muted);
    if (changed.has('tools')) this._session.setTools(this.tools);
    for (const kind of ['input', 'output'] as const) {
      const key = `${kind}DeviceId` as const;
      if (!changed.has(key)) continue;
      this._session.setDevice(kind, this[key]);
      if (changed.get(key) === undefined) continue; // like va-open: the first render announces nothing
      // Through a variable: the manifest takes this event from its @fires line, not from the call.
      const event = new VaDeviceChangeEvent({ kind, deviceId: this[key] });
      this.dispatchEvent(event);
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    const state = this._viewState;
    const { status, speaking } = this._session.snapshot;
    this._setState('open', this.panelVisible);
    this._setState('connecting', status === 'connecting');
    this._setState('connected', status === 'connected');
    this._setState('reconnecting', status === 'reconnecting');
    this._setState('listening', state === 'listening');
    this._setState('speaking', speaking);
    this._setState('muted', this.muted);
    this._setState('paused', state === 'paused');
    this._setState('error', state === 'error');
    // Changes after the first render only: an element that starts open announces nothing.
    if (changed.has('open') && changed.get('open') !== undefined) {
      this.dispatchEvent(this.open ? new VaOpenEvent() : new VaCloseEvent());
    }
    this._moveFocus();
  }

  override render() {
    const state = this._viewState;
    const floating = this.layout !== 'inline';
    const vertical = this.position.startsWith('top') ? 'top' : 'bottom';
    const side = this.position.endsWith('left') ? 'left' : 'right';
    return html`<div class="root ${floating ? `floating ${vertical} ${side}` : 'inline'}">
      ${floating ? this._renderLauncher(state) : nothing} ${this._renderPanel(state, floating)}
    </div>`;
  }

  private _renderLauncher(state: ViewState) {
    const s = this._merged;
    const live = isLive(state);
    const label = this.open ? s.launcherHide : live ? (this.muted && this.mode !== 'chat' ? s.launcherLiveMuted : s.launcherLive) : s.launcherOpen;
    return html`<button
      part="launcher"
      class="launcher ${live ? 'live' : ''}"
      type="button"
      aria-expanded=${this.open ? 'true' : 'false'}
      aria-controls="panel"
      aria-label=${format(label, { name: this._displayName })}
      @click=${this._handleLauncherClick}
    >
      <slot name="launcher-icon">${this.open ? closeIcon : live ? waveIcon : micIcon}</slot>
      ${live && this.muted && this.mode !== 'chat' ? html`<span part="launcher-badge" class="launcher-badge">${micOffIcon}</span>` : nothing}
    </button>`;
  }

  private _renderPanel(state: ViewState, floating: boolean) {
    const s = this._merged;
    const { snapshot } = this._session;
    const chat = this.mode === 'chat';
    const error = state === 'error' ? snapshot.error : undefined;
    const notice = snapshot.status === 'disconnected' ? undefined : this._session.notice;
    const transcript = snapshot.transcript;
    const showTranscript = this.showTranscript === 'always' || (this.showTranscript !== 'never' && transcript.length > 0);
    const composer = chat || state === 'listening' || state === 'speaking' || state === 'muted' || state === 'paused';
    return html`<section
      part="panel base"
      id="panel"
      class="panel ${state}"
      role=${floating ? 'dialog' : 'region'}
      aria-label=${this._displayName}
      tabindex="-1"
      ?hidden=${floating && !this.open}
      @keydown=${this._handlePanelKeydown}
    >
      <div part="header" class="header">
        <span part="avatar" class="avatar"><slot name="avatar">${micIcon}</slot></span>
        <div class="heading">
          <p part="name" class="name">${this._displayName}</p>
          <p part="status" class="status" role="status">${this._statusText(state)}</p>
        </div>
        ${floating
          ? html`<button part="close-button" class="icon-button" type="button" aria-label=${s.close} @click=${this._handleCloseClick}>${closeIcon}</button>`
          : nothing}
      </div>
      ${chat ? nothing : renderVisualizer(state)}
      ${state === 'microphone' ? html`<p part="hint" class="hint">${s.statusMicrophoneHint}</p>` : nothing}
      ${state === 'paused'
        ? html`<button part="resume-button" class="pill retry-button" type="button" @click=${this._handleResumeClick}>${s.resumeAudio}</button>`
        : nothing}
      ${error
        ? html`<div class="problem">
            <p part="error" class="error" role="alert">${s[errorKey(error)]}</p>
            <button part="retry-button" class="pill retry-button" type="button" @click=${this._handleRetryClick}>${s.retry}</button>
          </div>`
        : nothing}
      ${notice ? html`<p part="device-note" class="hint" role="alert">${s[errorKey(notice)]}</p>` : nothing}
      ${snapshot.networkSlow && snapshot.status === 'connected' ? html`<p part="network-note" class="hint">${s.errorNetworkSlow}</p>` : nothing}
      ${showTranscript
        ? renderTranscript(
            transcript,
            { label: s.transcriptLabel, you: s.you, agent: this._displayName, jumpToLatest: s.jumpToLatest, reconnected: s.transcriptReconnected },
            this._scroller,
          )
        : nothing}
      ${composer ? this._renderComposer(state) : nothing}
      ${chat ? nothing : this._devices?.renderMenu(s)}
      <div part="controls" class="controls">
        ${this._renderMuteButton(state)} ${chat ? nothing : this._renderDeviceButton()} ${this._renderCallButton(state)}
      </div>
    </section>`;
  }

  private _renderComposer(state: ViewState) {
    const s = this._merged;
    const busy = state === 'connecting' || state === 'microphone' || state === 'ending';
    return html`<form part="text-form" class="composer" @submit=${this._handleSubmit}>
        <textarea
          part="text-input"
          class="text-input"
          name="message"
          rows="1"
          maxlength=${MAX_TEXT_LENGTH}
          autocomplete="off"
          aria-label=${s.messageLabel}
          aria-describedby=${this._sendFailed ? 'send-note' : nothing}
          placeholder=${s.messagePlaceholder}
          .value=${this._draft}
          @input=${this._handleInput}
          @keydown=${this._handleTextKeydown}
        ></textarea>
        <button part="send-button" class="send-button" type="submit" aria-label=${s.send} ?disabled=${busy || this._draft.trim() === ''}>
          ${sendIcon}
        </button>
      </form>
      ${this._sendFailed ? html`<p part="send-note" id="send-note" class="note">${s.sendFailed}</p>` : nothing}`;
  }

  private _renderMuteButton(state: ViewState) {
    if (this.mode === 'chat' || !isLive(state)) return nothing;
    return html`<button
      part="mute-button"
      class="pill mute-button"
      type="button"
      aria-label=${this._merged.mute}
      aria-pressed=${this.muted ? 'true' : 'false'}
      @click=${this._handleMuteClick}
    >
      ${this.muted ? micOffIcon : micIcon}
    </button>`;
  }

  private _renderDeviceButton() {
    const open = this._devices?.open;
    return html`<button
      part="device-button"
      class="pill device-button"
      type="button"
      aria-label=${this._merged.devices}
      aria-haspopup="menu"
      aria-expanded=${open ? 'true' : 'false'}
      aria-controls=${open ? 'device-menu' : nothing}
      @mousedown=${preventDefault}
      @click=${this._handleDevicesClick}
    >
      ${devicesIcon}
    </button>`;
  }

  private _renderCallButton(state: ViewState) {
    const s = this._merged;
    const chat = this.mode === 'chat';
    const { status } = this._session.snapshot;
    const ending = status === 'connected' || status === 'reconnecting' || status === 'disconnecting';
    const label = status === 'connecting' ? s.callCancel : ending ? (chat ? s.chatEnd : s.callEnd) : chat ? s.chatStart : s.callStart;
    return html`<button
      part="call-button"
      class="pill call-button ${ending ? 'end' : ''}"
      type="button"
      ?disabled=${state === 'ending'}
      @click=${this._handleCallClick}
    >
      ${chat ? nothing : ending ? hangUpIcon : phoneIcon}<span>${label}</span>
    </button>`;
  }

  private get _displayName(): string {
    return this.agentName.trim() || this._merged.assistantName;
  }

  private _statusText(state: ViewState): string {
    const s = this._merged;
    const values = { name: this._displayName, duration: formatDuration(this._session.snapshot.durationMs ?? 0) };
    const chat = this.mode === 'chat';
    const key = {
      idle: chat ? 'statusIdleChat' : 'statusIdle',
      microphone: 'statusMicrophone',
      connecting: 'statusConnecting',
      reconnecting: this._session.snapshot.offline ? 'statusOffline' : 'statusReconnecting',
      listening: 'statusListening',
      speaking: 'statusSpeaking',
      muted: 'statusMuted',
      paused: 'statusPaused',
      chatting: 'statusChatting',
      ending: 'statusEnding',
      ended: chat ? 'statusEndedChat' : 'statusEnded',
      error: 'statusFailed',
    }[state] as keyof VoiceAgentStrings;
    return format(s[key], values);
  }

  private _handleLauncherClick(event: MouseEvent): void {
    // The second click of a double click: the first one opened the panel (and started a call) already.
    if (event.detail > 1) return;
    if (this.open) {
      this.hide();
      return;
    }
    this.show();
    // One tap to talk: the launcher starts a voice call, inside the click (audio needs the gesture).
    if (this.mode !== 'chat' && this.status === 'disconnected' && this._viewState !== 'error') void this.start();
  }

  private _handleCloseClick(): void {
    this._focusOnRender = 'launcher';
    this.open = false;
  }

  private _handlePanelKeydown(event: KeyboardEvent): void {
    if (event.key !== 'Escape' || this.layout === 'inline' || !this.open) return;
    event.stopPropagation();
    this._focusOnRender = 'launcher';
    this.open = false;
  }

  private _handleCallClick(event: MouseEvent): void {
    // The second or third click of a double or triple click (the browser counts them): the first
    // one acted already, and the button it lands on now would undo that.
    if (event.detail > 1) return;
    void (this.status === 'disconnected' ? this.start() : this.stop());
  }

  private _handleRetryClick(): void {
    this._focusOnRender = 'panel';
    void this.start();
  }

  private async _handleDevicesClick(): Promise<void> {
    if (!this._devices) {
      try {
        const { DeviceMenu, deviceMenuStyles } = await import('./ui/device-menu.js');
        if (!this._devices) {
          const root = this.renderRoot as ShadowRoot;
          root.adoptedStyleSheets = [...root.adoptedStyleSheets, deviceMenuStyles.styleSheet!];
          this._devices = new DeviceMenu(this);
        }
      } catch (cause) {
        this.dispatchEvent(
          VaErrorEvent.from(new VoiceAgentError('config-invalid', 'The device menu could not be loaded: serve the files beside voice-agent.js.', { fatal: false, cause })),
        );
        return;
      }
    }
    await this._devices.toggle();
  }

  private _handleResumeClick(): void {
    this._session.resumeAudio();
  }

  private _handleMuteClick(): void {
    this.muted = !this.muted;
  }

  private _handleInput(event: InputEvent): void {
    this._draft = (event.target as HTMLTextAreaElement).value;
    this._sendFailed = false;
    this.requestUpdate();
  }

  private _handleTextKeydown(event: KeyboardEvent): void {
    // Enter sends; Shift+Enter is a new line; Enter that ends an IME composition is neither.
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    (event.target as HTMLTextAreaElement).form?.requestSubmit();
  }

  private async _handleSubmit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const field = (event.currentTarget as HTMLFormElement).elements.namedItem('message') as HTMLTextAreaElement;
    const text = field.value.trim();
    if (!text) return;
    if (this.status === 'disconnected' && this.mode === 'chat') await this.start();
    if (this.sendText(text)) {
      this._draft = field.value = '';
      this._sendFailed = false;
    } else {
      this._draft = field.value;
      this._sendFailed = true;
    }
    this.requestUpdate();
  }

  private _moveFocus(): void {
    const target = this._focusOnRender;
    this._focusOnRender = undefined;
    if (target === 'launcher') this.renderRoot.querySelector<HTMLElement>('.launcher')?.focus();
    // Into the panel itself, not its first button: that would be "End call" or "Cancel", which the
    // rest of the key press that opened the panel could activate (Firefox does).
    if (target === 'panel') this.renderRoot.querySelector<HTMLElement>('.panel')?.focus();
  }

  private _setState(state: string, on: boolean): void {
    try {
      if (on) this._internals.states.add(state);
      else this._internals.states.delete(state);
    } catch {
      // Browsers without CustomStateSet: styling by state is unavailable, nothing else is.
    }
  }
}
