/**
 * Microphone and speaker choice: the attributes pick the devices when a call starts, a change during
 * the call switches the device and keeps the session, a chosen device that goes away gives way to the
 * default (the call goes on and the panel says so), and the device menu in the panel.
 *
 * The devices, per engine: Chromium's fake devices ("Fake Default Audio Input", "Fake Audio Input 1"
 * and "2", and the same outputs), which cannot be unplugged: there a loss is driven through the
 * signals the browser gives when one is (the track's `ended`; a `devicechange` after which the list
 * lacks the device). Firefox and WebKit record from the suite's PulseAudio server, where a test plugs
 * a microphone in and unplugs it for real (test/support/device-plugin.mjs).
 */
import { expect, fixture, html } from '@open-wc/testing';
import { AudioEngine } from '../../src/audio/audio-engine.js';
import { DEFAULT_STRINGS } from '../../src/element/strings.js';
import { VoiceAgentError } from '../../src/errors.js';
import type { SessionEvent } from '../../src/session/ports.js';
import { VoiceSession } from '../../src/session/voice-session.js';
import { FakeAudio, fakeDeps, settle } from '../support/fakes.js';
import { amplitudeAt } from '../support/signals.js';
import {
  ENGINE,
  agentSession,
  expectAllReleased,
  installSpies,
  loadBundle,
  nextEvent,
  part,
  parts,
  recordEvents,
  serverCommand,
  type VoiceAgentElement,
  waitUntil,
} from '../support/harness.js';

const spies = installSpies();
await loadBundle();

const QUIET = JSON.stringify({ greeting: '' });
/** Firefox and WebKit: devices are PulseAudio's, and can be plugged in and out. */
const PULSE = ENGINE !== 'chromium';
const DEFAULT_MICROPHONE = PULSE ? 'Microphone' : 'Fake Default Audio Input';
const plugged: string[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  for (const cleanup of cleanups.splice(0)) cleanup();
  for (const module of plugged.splice(0)) await serverCommand('pulse-unplug', { module });
  await expectAllReleased(spies);
});

const track = (stream: MediaStream) => stream.getAudioTracks()[0]!;
const latestTrack = () => track(spies.streams.at(-1)!);
const focused = (el: VoiceAgentElement) => el.shadowRoot!.activeElement as HTMLElement | null;
const press = (target: Element, key: string) => target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, composed: true, cancelable: true }));

/** The devices of a kind, with ids and labels: the browser lists them once the page may use the microphone. */
async function devices(kind: MediaDeviceKind): Promise<MediaDeviceInfo[]> {
  let list = await navigator.mediaDevices.enumerateDevices();
  if (!list.some((device) => device.label)) {
    for (const t of (await navigator.mediaDevices.getUserMedia({ audio: true })).getTracks()) t.stop();
    list = await navigator.mediaDevices.enumerateDevices();
  }
  return list.filter((device) => device.kind === kind);
}

/** Plugs a device into PulseAudio for this test (unplugged after it, if the test did not). */
async function plug(kind: 'microphone' | 'speaker', label: string): Promise<string> {
  const module = await serverCommand<string>('pulse-plug', { kind, description: label });
  plugged.push(module);
  return module;
}

async function unplug(module: string): Promise<void> {
  plugged.splice(plugged.indexOf(module), 1);
  await serverCommand('pulse-unplug', { module });
}

/** A second microphone: Chromium's "Fake Audio Input 1"; in Firefox and WebKit, one plugged in for the test. */
async function secondMicrophone(): Promise<{ id: string; label: string; module?: string }> {
  if (!PULSE) {
    const fake = (await devices('audioinput')).find((device) => device.label === 'Fake Audio Input 1')!;
    return { id: fake.deviceId, label: fake.label };
  }
  const label = `USB Microphone ${Date.now() % 1000}`;
  const module = await plug('microphone', label);
  let found: MediaDeviceInfo | undefined;
  await waitUntil(async () => (found = (await devices('audioinput')).find((device) => device.label === label)), `${label} is listed`);
  return { id: found!.deviceId, label, module };
}

/** Replaces what `enumerateDevices()` answers for the rest of the test (restored after it). */
function listOnly(filter: (devices: MediaDeviceInfo[]) => MediaDeviceInfo[]): void {
  const media = navigator.mediaDevices;
  const real = media.enumerateDevices;
  media.enumerateDevices = async () => filter(await real.call(media));
  cleanups.push(() => (media.enumerateDevices = real));
}

async function call(inputDeviceId = '', outputDeviceId = '', layout = 'inline') {
  const el = await fixture<VoiceAgentElement>(html`<voice-agent
    layout=${layout}
    agent-id="a1"
    token-endpoint="/api/voice-token"
    variables=${QUIET}
    input-device-id=${inputDeviceId}
    output-device-id=${outputDeviceId}
  ></voice-agent>`);
  const events = recordEvents(el);
  const connected = nextEvent<CustomEvent>(el, 'va-connect');
  void el.start();
  const { detail } = await connected;
  await el.updateComplete;
  return { el, events, sessionId: detail.sessionId as string, socket: spies.sockets.at(-1)!, context: spies.contexts.at(-1)!, stream: spies.streams.at(-1)! };
}

const sinkId = (context: AudioContext) => (context as AudioContext & { sinkId?: string }).sinkId;
const framesHeard = async (sessionId: string) => (await agentSession(sessionId))!.appendFrames;

describe('choosing the microphone and the speaker', () => {
  it('input-device-id picks the microphone when the call starts', async () => {
    const mic = await secondMicrophone();
    const { el, events, stream } = await call(mic.id);
    expect(track(stream).label).to.equal(mic.label);
    expect(track(stream).getSettings().deviceId).to.equal(mic.id);
    expect(el.inputDeviceId).to.equal(mic.id);
    expect(events.filter((e) => e.type === 'va-error' || e.type === 'va-device-change')).to.deep.equal([]);
  });

  it(`output-device-id picks the speaker where an AudioContext can play on a chosen one (${ENGINE})`, async () => {
    if (ENGINE === 'chromium') {
      const speaker = (await devices('audiooutput')).find((device) => device.label === 'Fake Audio Output 1')!;
      const { el, events, context } = await call('', speaker.deviceId);
      await waitUntil(() => sinkId(context) === speaker.deviceId, 'the context plays on the chosen speaker');
      expect(el.outputDeviceId).to.equal(speaker.deviceId);
      expect(events.filter((e) => e.type === 'va-error')).to.deep.equal([]);
    } else {
      // No AudioContext.setSinkId in Firefox 153 or WebKitGTK 2.50: the default output plays, and
      // the attribute is kept for browsers that can use it, without an error.
      expect('setSinkId' in AudioContext.prototype).to.equal(false);
      const label = `USB Speaker ${Date.now() % 1000}`;
      await plug('speaker', label);
      const id = (await devices('audiooutput')).find((device) => device.label === label)?.deviceId ?? 'a-speaker';
      const { el, events, context } = await call('', id);
      expect(sinkId(context)).to.equal(undefined);
      expect(el.outputDeviceId).to.equal(id);
      expect(events.filter((e) => e.type === 'va-error')).to.deep.equal([]);
    }
  });

  it(`takes the speaker choice to the echo-safe playback route's <audio> element too (${ENGINE})`, async () => {
    const proto = HTMLMediaElement.prototype;
    const real = proto.setSinkId;
    const asked: string[] = [];
    proto.setSinkId = function (id: string) {
      asked.push(id);
      return real.call(this, id);
    };
    cleanups.push(() => (proto.setSinkId = real));
    const el = await fixture<VoiceAgentElement>(
      html`<voice-agent layout="inline" agent-id="a1" token-endpoint="/api/voice-token" variables=${QUIET} playback="echo-safe"></voice-agent>`,
    );
    const outputs = await devices('audiooutput');
    el.outputDeviceId = outputs.find((device) => device.label === 'Fake Audio Output 1')?.deviceId ?? outputs.at(-1)?.deviceId ?? 'a-speaker';
    await el.start();
    if (ENGINE === 'chromium') {
      const [first, second] = [outputs[1]!.deviceId, outputs[2]!.deviceId];
      await waitUntil(() => asked.includes(first), 'the route plays on the chosen speaker');
      el.outputDeviceId = second;
      await waitUntil(() => asked.at(-1) === second && sinkId(spies.contexts.at(-1)!) === second, 'and on the next one, with the context');
    } else {
      // No AudioContext.setSinkId: no speaker choice is offered, and the route's element keeps the default output.
      expect(asked).to.deep.equal([]);
    }
    expect(el.status).to.equal('connected');
  });

  it('a chosen microphone that is not there when the call starts gives way to the default, and the panel says so', async () => {
    const el = await fixture<VoiceAgentElement>(
      html`<voice-agent layout="inline" agent-id="a1" token-endpoint="/api/voice-token" variables=${QUIET} input-device-id="no-such-microphone"></voice-agent>`,
    );
    const events = recordEvents(el);
    const connected = nextEvent(el, 'va-connect');
    void el.start();
    await connected;
    await el.updateComplete;
    expect(events.filter((e) => e.type === 'va-error').map((e) => [e.detail.code, e.detail.fatal])).to.deep.equal([['device-lost', false]]);
    expect(events.filter((e) => e.type === 'va-device-change').map((e) => e.detail)).to.deep.equal([{ kind: 'input', deviceId: '' }]);
    expect(el.inputDeviceId).to.equal('');
    expect(latestTrack().label).to.equal(DEFAULT_MICROPHONE);
    expect(part(el, 'device-note')!.textContent).to.equal(DEFAULT_STRINGS.errorMicFallback);
    expect(part(el, 'device-note')!.getAttribute('role')).to.equal('alert');
    expect(el.status).to.equal('connected');
  });

  it(`a chosen speaker that is not there when the call starts gives way to the default (${ENGINE})`, async () => {
    const { el, events, context } = await call('', 'no-such-speaker');
    if (ENGINE === 'chromium') {
      const lost = events.find((e) => e.type === 'va-error') ?? (await nextEvent<CustomEvent>(el, 'va-error'));
      expect([lost.detail.code, lost.detail.fatal]).to.deep.equal(['device-lost', false]);
      await waitUntil(() => el.outputDeviceId === '', 'the speaker choice goes back to the default');
      await el.updateComplete;
      expect(sinkId(context)).to.equal('');
      expect(part(el, 'device-note')!.textContent).to.equal(DEFAULT_STRINGS.errorSpeakerFallback);
    } else {
      // Without AudioContext.setSinkId the context never tries the device: nothing to fall back from.
      expect(events.filter((e) => e.type === 'va-error')).to.deep.equal([]);
      expect(el.outputDeviceId).to.equal('no-such-speaker');
      expect(part(el, 'device-note')).to.equal(null);
    }
    expect(el.status).to.equal('connected');
  });

  it('switches the microphone during a call: same session, socket, AudioContext and capture node; the old track stops', async () => {
    const { el, events, sessionId, socket, context, stream } = await call();
    const from = events.length;
    const mic = await secondMicrophone();
    const before = track(stream);
    const counts = () => [spies.sockets.length, spies.contexts.length, spies.workletNodes.length];
    const opened = counts();
    const changed = nextEvent<CustomEvent>(el, 'va-device-change');
    el.inputDeviceId = mic.id;
    expect((await changed).detail).to.deep.equal({ kind: 'input', deviceId: mic.id });
    await waitUntil(() => before.readyState === 'ended', 'the old microphone stops');
    const now = latestTrack();
    expect([now.label, now.readyState]).to.deep.equal([mic.label, 'live']);
    expect(counts(), 'no new socket, context or worklet node').to.deep.equal(opened);
    expect([el.status, socket.readyState, context.state]).to.deep.equal(['connected', WebSocket.OPEN, 'running']);
    const heard = await framesHeard(sessionId);
    await waitUntil(async () => (await framesHeard(sessionId)) > heard + 25, 'the agent keeps receiving frames in the same session');
    await waitUntil(() => el.inputLevel > 0.01, 'the new microphone is heard');

    // Muted, and back to the default: the new track starts muted too.
    el.muted = true;
    el.inputDeviceId = '';
    await waitUntil(() => now.readyState === 'ended', 'the second microphone stops');
    expect([latestTrack().label, latestTrack().enabled]).to.deep.equal([DEFAULT_MICROPHONE, false]);
    const after = events.slice(from).map((e) => e.type);
    expect(after.filter((type) => type !== 'va-transcript')).to.deep.equal(['va-device-change', 'va-device-change']);
  });

  it(`switches the speaker during a call where an AudioContext can choose one (${ENGINE})`, async () => {
    const { el, events, context } = await call();
    const contexts = spies.contexts.length;
    const outputs = await devices('audiooutput');
    if (ENGINE === 'chromium') {
      // A running context's setSinkId passes through `suspended` by itself; the widget must not take that for
      // the browser suspending the call, with its paused state and resume button.
      const states: AudioContextState[] = [];
      context.addEventListener('statechange', () => states.push(context.state));
      const resumeShown: boolean[] = [];
      const observer = new MutationObserver(() => resumeShown.push(part(el, 'resume-button') !== null || el.matches(':state(paused)')));
      observer.observe(el.shadowRoot!, { subtree: true, childList: true, attributes: true });
      const speaker = outputs.find((device) => device.label === 'Fake Audio Output 2')!;
      el.outputDeviceId = speaker.deviceId;
      await waitUntil(() => sinkId(context) === speaker.deviceId && context.state === 'running', 'the same context plays on the chosen speaker');
      el.outputDeviceId = '';
      await waitUntil(() => sinkId(context) === '' && context.state === 'running', 'and back on the default one');
      await el.updateComplete;
      observer.disconnect();
      expect(states.filter((state) => state === 'suspended').length, 'Chromium suspends the context for each sink change').to.equal(2);
      expect(resumeShown.filter(Boolean), 'no paused state shown').to.deep.equal([]);
    } else {
      // Firefox 153 and WebKitGTK 2.50 have no AudioContext.setSinkId: the context stays on the default output.
      el.outputDeviceId = outputs.at(-1)?.deviceId || 'a-speaker';
      await el.updateComplete;
      expect(sinkId(context)).to.equal(undefined);
    }
    expect([spies.contexts.length, context.state, el.status]).to.deep.equal([contexts, 'running', 'connected']);
    expect(events.filter((e) => e.type === 'va-error')).to.deep.equal([]);
  });

  it(`a chosen microphone unplugged during the call gives way to the default; the call goes on and the panel says so (${ENGINE}: ${
    PULSE ? 'unplugged from PulseAudio' : "fake devices cannot be unplugged: its track's ended event"
  })`, async () => {
    const mic = await secondMicrophone();
    const { el, events, sessionId, stream } = await call(mic.id);
    const chosen = track(stream);
    expect(chosen.label).to.equal(mic.label);
    const lost = nextEvent<CustomEvent>(el, 'va-error');
    if (mic.module) await unplug(mic.module);
    else chosen.dispatchEvent(new Event('ended'));
    expect((await lost).detail).to.include({ code: 'device-lost', fatal: false });
    await el.updateComplete;
    expect(el.inputDeviceId).to.equal('');
    expect(part(el, 'device-note')!.textContent).to.equal(DEFAULT_STRINGS.errorMicFallback);
    expect(chosen.readyState).to.equal('ended');
    expect([latestTrack().label, latestTrack().readyState]).to.deep.equal([DEFAULT_MICROPHONE, 'live']);
    const heard = await framesHeard(sessionId);
    await waitUntil(async () => (await framesHeard(sessionId)) > heard + 25, 'the same session goes on with the default microphone');
    expect(el.status).to.equal('connected');
    expect(events.filter((e) => e.type === 'va-error').length).to.equal(1);
    expect(events.some((e) => e.type === 'va-disconnect')).to.equal(false);
    // Choosing a device again settles what the note said.
    el.inputDeviceId = mic.module ? (await secondMicrophone()).id : mic.id;
    await el.updateComplete;
    expect(part(el, 'device-note')).to.equal(null);
  });

  it(`follows devicechange: a chosen device no longer listed gives way to the default (${ENGINE}: ${
    PULSE ? 'a PulseAudio speaker unplugged, which no AudioContext here can have chosen' : 'fake devices cannot be unplugged: the list without them'
  })`, async () => {
    if (ENGINE === 'chromium') {
      const [mic, speaker] = [(await devices('audioinput'))[1]!, (await devices('audiooutput'))[1]!];
      const { el, events, context } = await call(mic.deviceId, speaker.deviceId);
      await waitUntil(() => sinkId(context) === speaker.deviceId);
      const chosen = latestTrack();
      listOnly((list) => list.filter((device) => device.deviceId !== mic.deviceId && device.deviceId !== speaker.deviceId));
      navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
      await waitUntil(() => events.filter((e) => e.type === 'va-error').length === 2, 'both losses are reported');
      expect(events.filter((e) => e.type === 'va-error').map((e) => [e.detail.code, e.detail.fatal])).to.deep.equal([
        ['device-lost', false],
        ['device-lost', false],
      ]);
      await waitUntil(() => sinkId(context) === '' && chosen.readyState === 'ended' && latestTrack().label === DEFAULT_MICROPHONE);
      expect([el.inputDeviceId, el.outputDeviceId, el.status]).to.deep.equal(['', '', 'connected']);
    } else {
      const label = `USB Speaker ${Date.now() % 1000}`;
      // Firefox tells of a change in what it has shown the page: unplugged before the page heard of the
      // plugging in, the speaker would be no change at all, and no devicechange would come.
      const pluggedIn = nextEvent(navigator.mediaDevices, 'devicechange');
      const module = await plug('speaker', label);
      if (ENGINE === 'firefox') await pluggedIn;
      const id = (await devices('audiooutput')).find((device) => device.label === label)?.deviceId ?? 'a-speaker';
      const { el, events } = await call('', id);
      const changed = nextEvent(navigator.mediaDevices, 'devicechange');
      await unplug(module);
      if (ENGINE === 'firefox') await changed; // WebKit may not tell about outputs at all
      await waitUntil(async () => !(await devices('audiooutput')).some((device) => device.label === label), 'the speaker is gone');
      expect(events.filter((e) => e.type === 'va-error')).to.deep.equal([]);
      expect([el.outputDeviceId, el.status]).to.deep.equal([id, 'connected']);
    }
  });
});

describe('the device menu', () => {
  const labelsOf = (nodes: Element[]) => nodes.map((node) => node.textContent!.trim());

  it('lists the microphones, and the speakers where the browser can choose one; picking one switches it', async () => {
    const { el } = await call();
    const button = part(el, 'device-button')!;
    expect([button.getAttribute('aria-label'), button.getAttribute('aria-haspopup'), button.getAttribute('aria-expanded')]).to.deep.equal([
      'Audio devices',
      'menu',
      'false',
    ]);
    button.click();
    await waitUntil(() => focused(el)?.getAttribute('part') === 'device-option', 'the menu opens with focus on the chosen device');
    const menu = part(el, 'device-menu')!;
    expect([menu.getAttribute('role'), button.getAttribute('aria-expanded'), button.getAttribute('aria-controls')]).to.deep.equal(['menu', 'true', menu.id]);
    const groups = [...menu.querySelectorAll('[role="group"]')];
    expect(groups.map((g) => g.getAttribute('aria-label'))).to.deep.equal(ENGINE === 'chromium' ? ['Microphone', 'Speaker'] : ['Microphone']);
    const listed = (await devices('audioinput')).filter((d) => !['default', 'communications'].includes(d.deviceId)).map((d) => d.label);
    expect(labelsOf([...groups[0]!.querySelectorAll('[role="menuitemradio"]')])).to.deep.equal(['System default', ...listed]);
    expect(focused(el)!.textContent!.trim()).to.equal('System default');
    expect(focused(el)!.getAttribute('aria-checked')).to.equal('true');
    await expect(el).to.be.accessible();

    // Arrows move (and wrap), Home and End jump; the chosen item is picked by its button.
    const items = parts(el, 'device-option');
    press(focused(el)!, 'ArrowDown');
    expect(focused(el)).to.equal(items[1]);
    press(focused(el)!, 'ArrowUp');
    press(focused(el)!, 'ArrowUp');
    expect(focused(el)).to.equal(items.at(-1));
    press(focused(el)!, 'Home');
    expect(focused(el)).to.equal(items[0]);
    press(focused(el)!, 'End');
    press(focused(el)!, 'ArrowDown');
    expect(focused(el)).to.equal(items[0]);
    press(focused(el)!, 'ArrowDown');
    const picked = listed[0];
    const switched = nextEvent<CustomEvent>(el, 'va-device-change');
    focused(el)!.click();
    expect((await switched).detail.kind).to.equal('input');
    await el.updateComplete;
    expect(part(el, 'device-menu')).to.equal(null);
    expect(focused(el)).to.equal(part(el, 'device-button'));
    await waitUntil(() => latestTrack().label === picked && latestTrack().readyState === 'live', 'the picked microphone is in use');

    // Open again: the picked one is checked.
    part(el, 'device-button')!.click();
    await waitUntil(() => focused(el)?.getAttribute('part') === 'device-option');
    expect(focused(el)!.textContent!.trim()).to.equal(picked);
  });

  it('closes on Escape (not the floating panel), giving focus back to its button, and when focus leaves it', async () => {
    const { el } = await call('', '', 'floating');
    el.show();
    await el.updateComplete;
    part(el, 'device-button')!.click();
    await waitUntil(() => focused(el)?.getAttribute('part') === 'device-option');
    const closed = nextEvent(el, 'va-close');
    let panelClosed = false;
    void closed.then(() => (panelClosed = true));
    press(focused(el)!, 'Escape');
    await el.updateComplete;
    await el.updateComplete;
    expect(part(el, 'device-menu')).to.equal(null);
    expect(focused(el)).to.equal(part(el, 'device-button'));
    expect([el.open, panelClosed]).to.deep.equal([true, false]);

    part(el, 'device-button')!.click();
    await waitUntil(() => focused(el)?.getAttribute('part') === 'device-option');
    part(el, 'call-button')!.focus(); // as Tab or a click elsewhere moves it
    await el.updateComplete;
    expect(part(el, 'device-menu')).to.equal(null);
    expect(part(el, 'device-button')!.getAttribute('aria-expanded')).to.equal('false');
  });

  it(`shows devices plugged in while it is open, and drops those unplugged (${ENGINE}: ${
    PULSE ? 'plugged into PulseAudio' : 'fake devices cannot be plugged in: the list with one more'
  })`, async () => {
    const { el } = await call();
    part(el, 'device-button')!.click();
    await waitUntil(() => focused(el)?.getAttribute('part') === 'device-option');
    const options = () => labelsOf(parts(el, 'device-option'));
    const label = `Headset ${Date.now() % 1000}`;
    let unplugIt: () => Promise<void>;
    if (PULSE) {
      const module = await plug('microphone', label);
      unplugIt = () => unplug(module);
    } else {
      const real = (await devices('audioinput'))[1]!;
      const added = { ...real.toJSON(), deviceId: 'headset', label } as MediaDeviceInfo;
      let present = true;
      listOnly((list) => (present ? [...list, added] : list));
      navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
      unplugIt = async () => {
        present = false;
        navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
      };
    }
    await waitUntil(() => options().includes(label), 'the new device appears in the open menu');
    await unplugIt();
    await waitUntil(() => !options().includes(label), 'and goes when it is unplugged');
  });

  it('before the microphone is allowed (no ids or labels listed), offers the default devices', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" token-endpoint="/api/voice-token"></voice-agent>`);
    // What the browsers list before permission: one entry per kind, without an id or a label.
    listOnly((list) => [...new Map(list.map((d) => [d.kind, { kind: d.kind, deviceId: '', label: '', groupId: '' } as MediaDeviceInfo])).values()]);
    part(el, 'device-button')!.click();
    await waitUntil(() => focused(el)?.getAttribute('part') === 'device-option');
    expect(labelsOf(parts(el, 'device-option'))).to.deep.equal(ENGINE === 'chromium' ? ['System default', 'System default'] : ['System default']);
    await expect(el).to.be.accessible();
  });

  it('is not there in chat mode', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" mode="chat" token-endpoint="/api/voice-token"></voice-agent>`);
    expect(part(el, 'device-button')).to.equal(null);
  });
});

describe('AudioEngine device switching (real graph, tone microphones)', () => {
  /** A microphone per device id: each plays its own tone, made by another AudioContext. */
  function toneMicrophones(tones: Record<string, number>) {
    const contexts: AudioContext[] = [];
    const asked: string[] = [];
    cleanups.push(() => contexts.forEach((c) => void c.close()));
    const getUserMedia = async ({ audio }: MediaStreamConstraints) => {
      const id = ((audio as MediaTrackConstraints).deviceId as ConstrainDOMStringParameters | undefined)?.exact as string | undefined;
      asked.push(id ?? '');
      const frequency = tones[id ?? ''];
      if (frequency === undefined) throw new DOMException('no such device', 'OverconstrainedError');
      // One context makes every tone (a stream per device), as one sound card would; a suspended one would
      // make silence.
      const context = (contexts[0] ??= new AudioContext());
      if (context.state !== 'running') await context.resume();
      const destination = new MediaStreamAudioDestinationNode(context, { channelCount: 2 });
      const oscillator = new OscillatorNode(context, { frequency });
      oscillator.connect(new GainNode(context, { gain: 0.5 })).connect(destination);
      oscillator.start();
      return destination.stream;
    };
    return { getUserMedia, asked };
  }

  /**
   * Which tone the captured frames carry, read in 10-frame runs until `expected` is clearly the one
   * (amplitude 0.1 or more, the other tones under a quarter of it; the tones are at 0.5), for up to
   * 500 frames; the last run's tone if it never is (and its levels, in the browser's log). A new stream can take a while to flow, and
   * WebKit's stream path still delivers 200–400 ms of the previous stream's audio after a switch.
   */
  async function dominantTone(engine: AudioEngine, frequencies: number[], expected: number): Promise<number> {
    let tone = NaN;
    // Up to 10 s: WebKit on a busy machine can take seconds to feed a switched microphone steadily.
    for (let run = 0; run < 50 && tone !== expected; run++) {
      const frames: Int16Array[] = [];
      await new Promise<void>((resolve) => {
        const stop = engine.onFrame((pcm) => {
          if (frames.push(pcm) < 10) return;
          stop();
          resolve();
        });
      });
      const signal = new Float32Array(frames.flatMap((f) => [...f].map((v) => v / 32768)));
      const levels = frequencies.map((f) => amplitudeAt(signal, f, 24000));
      const loudest = Math.max(...levels);
      const clear = loudest >= 0.1 && levels.every((l) => l === loudest || l < loudest / 4);
      tone = clear ? frequencies[levels.indexOf(loudest)]! : NaN;
      if (run === 49 && tone !== expected) {
        console.log(`no clear ${expected} Hz: levels ${levels.map((l) => l.toFixed(3))} at ${frequencies}; engine context ${engine.context.state}`);
      }
    }
    return tone;
  }

  it('feeds the new microphone into the same capture node; the old stream stops; a device that fails gives way to the default', async () => {
    const microphones = toneMicrophones({ '': 500, b: 1500 });
    const engine = AudioEngine.prepare({ worklets: { baseUrl: '/dist/worklets/' }, getUserMedia: microphones.getUserMedia, inputDeviceId: 'gone' });
    cleanups.push(() => void engine.close());
    const lost: VoiceAgentError[] = [];
    engine.onDeviceLost((error) => lost.push(error));
    await engine.openMicrophone();
    expect(microphones.asked).to.deep.equal(['gone', '']);
    expect(lost.map((e) => [e.code, e.reason, e.fatal])).to.deep.equal([['device-lost', 'microphone', false]]);
    await engine.start(24000);
    expect(await dominantTone(engine, [500, 1500], 500)).to.equal(500);
    const first = (engine as unknown as { _stream: MediaStream })._stream;
    const nodes = spies.workletNodes.length;
    await engine.setInputDevice('b');
    expect(track(first).readyState).to.equal('ended');
    expect(await dominantTone(engine, [500, 1500], 1500)).to.equal(1500);
    expect(await dominantTone(engine, [500, 1500], 1500), 'and the old one does not come back').to.equal(1500);
    expect(spies.workletNodes.length, 'the same capture node').to.equal(nodes);
    await engine.setInputDevice('also-gone');
    expect(await dominantTone(engine, [500, 1500], 500)).to.equal(500);
    expect(lost.length).to.equal(2);
  });
});

describe('VoiceSession device switching', () => {
  async function connected() {
    const audio = new FakeAudio();
    const deps = fakeDeps(audio);
    const session = new VoiceSession({ agentId: 'a', mode: 'webcall', variables: {}, serverUrl: 'wss://agent.test/c', tokenProvider: async () => ({ token: 'wct_1' }) }, deps);
    const events: SessionEvent[] = [];
    session.subscribe((event) => events.push(event));
    const started = session.start();
    await settle();
    deps.sockets.at(-1)!.serverSend({ type: 'session.created', session_id: 's1', call_id: 'CALL-1', sample_rate: 24000, channels: 1 });
    await started;
    cleanups.push(() => void session.stop());
    return { session, audio, errors: () => events.flatMap((e) => (e.type === 'error' ? [e.error] : [])) };
  }

  it('reports a lost device without ending the call, and forwards switches to the engine', async () => {
    const { session, audio, errors } = await connected();
    audio.loseDevice('speaker');
    session.setDevice('input', 'mic-2');
    session.setDevice('output', 'speaker-2');
    await settle();
    expect(errors().map((e) => [e.code, e.reason, e.fatal])).to.deep.equal([['device-lost', 'speaker', false]]);
    expect(audio.log).to.include.members(['input:mic-2', 'output:speaker-2']);
    expect(session.snapshot.status).to.equal('connected');
  });

  it('reports a microphone that would not switch, non-fatally: the call goes on with the one it had', async () => {
    const { session, audio, errors } = await connected();
    audio.deviceError = new VoiceAgentError('mic-unavailable', 'busy');
    session.setDevice('input', 'busy-mic');
    await settle();
    expect(errors().map((e) => [e.code, e.fatal])).to.deep.equal([['mic-unavailable', false]]);
    expect(session.snapshot.status).to.equal('connected');
  });
});
