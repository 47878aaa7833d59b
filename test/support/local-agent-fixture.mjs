/**
 * For Node tests that mint tokens and open calls: a local agent shared by a test file, and the first
 * frame of a call opened with a token.
 */
import { after, before } from 'node:test';
import { WebSocket } from 'ws';
import { LocalAgent } from '../../dist/local-agent/index.js';

/** Starts a local agent (built dist/local-agent) before the file's tests and closes it after them; read it as `fixture.agent`. */
export function localAgentFixture(options) {
  const fixture = { agent: undefined };
  before(async () => {
    fixture.agent = await LocalAgent.start(options);
  });
  after(() => fixture.agent?.close());
  return fixture;
}

/** Connects to `url` with a token and resolves with the agent's first frame; the socket goes when the test ends. */
export async function firstFrame(t, url, token) {
  const ws = new WebSocket(`${url}?token=${token}`);
  t.after(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data))));
    ws.once('error', reject);
  });
}
