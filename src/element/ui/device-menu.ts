import { css, html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit';
import { listDevices, outputSelectable, watchDevices } from '../../audio/devices.js';
import { checkIcon } from './icons.js';

/** What the menu reads and sets on its element. */
export interface DeviceMenuHost extends ReactiveControllerHost {
  inputDeviceId: string;
  outputDeviceId: string;
  readonly renderRoot: HTMLElement | DocumentFragment;
}

export interface DeviceMenuLabels {
  /** The button's and the menu's name. */
  devices: string;
  microphone: string;
  speaker: string;
  /** The option that follows the system's default device. */
  deviceDefault: string;
}

/** Ids that stand for the default device (Chromium lists them beside the devices); the menu's own option covers them. */
const ALIASES = ['', 'default', 'communications'];
/** On a mouse press, focus stays where it is: in the open menu (WebKit would move it to the panel, closing the menu before the click). */
const keepFocus = (event: Event) => event.preventDefault();

/**
 * The audio device menu, opened by the element's device button: microphones, and speakers where the
 * browser can choose one. Its code loads on the button's first use (a chunk of its own beside the
 * default bundle). Picking one sets the element's `inputDeviceId` or
 * `outputDeviceId`; the list follows devices plugged in or out while it is open. Keys: arrows, Home
 * and End move, Enter or Space picks, Escape closes and gives focus back to the button; focus
 * leaving the menu (Tab, a click elsewhere) closes it.
 */
export class DeviceMenu implements ReactiveController {
  open = false;
  private _inputs: MediaDeviceInfo[] = [];
  private _outputs: MediaDeviceInfo[] = [];
  private _unwatch?: () => void;

  constructor(private readonly _host: DeviceMenuHost) {
    _host.addController(this);
  }

  hostConnected(): void {
    this._unwatch = watchDevices(() => void (this.open && this._list()));
  }

  hostDisconnected(): void {
    this._unwatch?.();
    this.open = false;
  }

  /** The open menu (in the panel's flow, above the controls), or nothing. */
  renderMenu(labels: DeviceMenuLabels) {
    if (!this.open) return nothing;
    const host = this._host;
    return html`<div
      part="device-menu"
      id="device-menu"
      class="menu"
      role="menu"
      aria-label=${labels.devices}
      @mousedown=${keepFocus}
      @keydown=${this._handleKeydown}
      @focusout=${this._handleFocusOut}
    >
      ${this._group(labels.microphone, labels.deviceDefault, this._inputs, host.inputDeviceId, (id) => (host.inputDeviceId = id))}
      ${outputSelectable() ? this._group(labels.speaker, labels.deviceDefault, this._outputs, host.outputDeviceId, (id) => (host.outputDeviceId = id)) : nothing}
    </div>`;
  }

  private _group(label: string, defaultLabel: string, devices: MediaDeviceInfo[], chosen: string, pick: (id: string) => void) {
    const options = [{ deviceId: '', label: defaultLabel }, ...devices.filter((device) => !ALIASES.includes(device.deviceId))];
    // A chosen device that is not listed (gone, or not yet revealed) leaves the default checked.
    const current = options.some((device) => device.deviceId === chosen) ? chosen : '';
    return html`<div role="group" aria-label=${label}>
      <p class="menu-heading" aria-hidden="true">${label}</p>
      ${options.map(
        (device, i) =>
          html`<button
            part="device-option"
            class="menu-item"
            type="button"
            role="menuitemradio"
            tabindex="-1"
            aria-checked=${device.deviceId === current ? 'true' : 'false'}
            @click=${() => {
              pick(device.deviceId);
              this._close(true);
            }}
          >
            ${checkIcon}<span>${device.label || `${label} ${i}`}</span>
          </button>`,
      )}
    </div>`;
  }

  /** Opens the menu (listing the devices first, focus on the chosen one), or closes it. */
  readonly toggle = async (): Promise<void> => {
    if (this.open) return this._close(true);
    await this._list();
    this.open = true;
    this._focus('.menu-item[aria-checked="true"]');
  };

  private async _list(): Promise<void> {
    [this._inputs, this._outputs] = await Promise.all([listDevices('audioinput'), listDevices('audiooutput')]);
    this._host.requestUpdate();
  }

  private _close(returnFocus: boolean): void {
    this.open = false;
    if (returnFocus) this._focus('.device-button');
    else this._host.requestUpdate();
  }

  private async _focus(selector: string): Promise<void> {
    this._host.requestUpdate();
    await this._host.updateComplete;
    this._host.renderRoot.querySelector<HTMLElement>(selector)?.focus();
  }

  private readonly _handleKeydown = (event: KeyboardEvent): void => {
    const items = [...this._host.renderRoot.querySelectorAll<HTMLElement>('.menu-item')];
    const at = items.indexOf(event.target as HTMLElement);
    const to = ({ ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: -1 } as Record<string, number>)[event.key];
    if (event.key === 'Escape') {
      event.stopPropagation(); // the menu closes, not the floating panel
      this._close(true);
    } else if (to !== undefined) {
      items.at(to % items.length)?.focus();
    } else {
      return;
    }
    event.preventDefault();
  };

  private readonly _handleFocusOut = (event: FocusEvent): void => {
    if (this.open && !(event.currentTarget as Node).contains(event.relatedTarget as Node | null)) this._close(false);
  };
}

export const deviceMenuStyles = css`
  .menu {
    display: grid;
    min-height: 0;
    max-height: 15rem;
    padding: 0.25rem;
    border: 1px solid var(--_border);
    border-radius: 0.75rem;
    overflow-y: auto;
    overscroll-behavior: contain;
  }
  .menu-heading {
    margin: 0.5rem 0.75rem 0.25rem;
    color: var(--_muted-text);
    font-size: 0.8125em;
    font-weight: 600;
  }
  .menu-item {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    width: 100%;
    min-height: 2.75rem;
    padding: 0.5rem 0.75rem;
    border: none;
    border-radius: 0.5rem;
    background: transparent;
    text-align: start;
    overflow-wrap: anywhere;
  }
  .menu-item:hover {
    background: var(--_bubble-assistant);
  }
  .menu-item:focus-visible {
    outline-offset: -3px;
  }
  .menu-item .icon {
    color: var(--_accent);
  }
  .menu-item[aria-checked='false'] .icon {
    visibility: hidden;
  }
`;
