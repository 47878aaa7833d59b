/**
 * A private PulseAudio server for the browser tests: real audio in and out for engines that have no
 * fake devices of their own worth using (Firefox, WebKit).
 *
 * - `speaker`: a null sink, the default output. Firefox keeps an AudioContext suspended without one.
 * - `mic`: the default input, a remapped source over the monitor of a second null sink that
 *   `paplay` feeds with the suite's speech WAV in a loop (WebKit ignores monitor sources as inputs,
 *   so the monitor is remapped into an ordinary source).
 * - The speaker is paced like a sound card: a listener on its monitor asks for 20 ms blocks.
 *
 * Everything lives in its own runtime directory with its own socket; nothing touches a user's sound
 * setup. `stop()` ends every process it started.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export async function startPulse({ dir, microphoneWav }) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const socket = `${dir}/native`;
  const env = { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir, XDG_CONFIG_HOME: dir, PULSE_SERVER: `unix:${socket}` };
  delete env.DISPLAY; // no X11 session: keeps pulseaudio from autolaunching helpers
  const server = spawn(
    'pulseaudio',
    [
      '--daemonize=no',
      '--exit-idle-time=-1',
      '--disallow-exit',
      '-n',
      '--log-level=error',
      `--load=module-native-protocol-unix socket=${socket} auth-anonymous=1`,
      '--load=module-null-sink sink_name=speaker sink_properties=device.description=Speaker',
      '--load=module-null-sink sink_name=micfeed sink_properties=device.description=MicrophoneFeed',
      '--load=module-remap-source master=micfeed.monitor source_name=mic channels=1 source_properties=device.description=Microphone',
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let log = '';
  server.stderr.on('data', (chunk) => (log += chunk));
  const exited = new Promise((resolve) => server.once('exit', resolve));

  const pactl = (...args) => spawnSync('pactl', args, { env, encoding: 'utf8' });
  for (let i = 0; !existsSync(socket) || pactl('info').status !== 0; i++) {
    if (server.exitCode !== null || i > 100) {
      throw new Error(`PulseAudio did not start: ${log.trim() || `exit code ${server.exitCode}`}`);
    }
    await delay(50);
  }
  pactl('set-default-sink', 'speaker');
  pactl('set-default-source', 'mic');

  let running = true;
  /** Runs `args` for as long as the server runs, again whenever it ends. */
  const keep = (args) => {
    const handle = { child: undefined };
    const start = () => {
      if (!running) return;
      handle.child = spawn(args[0], args.slice(1), { env, stdio: 'ignore' });
      handle.child.once('exit', (code) => (code === 0 ? start() : setTimeout(start, 200)));
    };
    start();
    return handle;
  };
  // The microphone: the speech loop played into the feed sink, over and over.
  const feeder = keep(['paplay', '--device=micfeed', microphoneWav]);
  // The speaker's clock. A null sink renders as much audio at once as its streams allow: Firefox's
  // output stream sets no limit, so the sink took 2 s blocks, and every AudioContext waited up to
  // 2 s to start and 2 s to close. A listener on its monitor asking for 20 ms keeps it to 20 ms
  // blocks, as a sound card's period would.
  const pacer = keep(['parec', '--device=speaker.monitor', '--latency-msec=20', '--raw']);

  return {
    /** Environment for a browser process that should use this server. */
    env: { PULSE_SERVER: env.PULSE_SERVER },
    async stop() {
      running = false;
      feeder.child?.kill('SIGKILL');
      pacer.child?.kill('SIGKILL');
      if (server.exitCode === null) {
        process.kill(-server.pid, 'SIGTERM');
        await Promise.race([exited, delay(3000)]);
        if (server.exitCode === null) process.kill(-server.pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
