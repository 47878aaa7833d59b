/**
 * The `voice-agent-widget` command line, run as users run it (a child process of the built
 * dist/cli/index.js): `token` against a local agent standing in for Atoms, its errors and exit codes,
 * and `dev` serving a snippet whose token endpoint opens a call.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { firstFrame, localAgentFixture } from '../support/local-agent-fixture.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist/cli/index.js');
const KEY = 'sk_cli_test_key';
const TIMEOUT = { timeout: 20_000 };

/** The real upstream: a local agent that answers register-call like Atoms. */
const local = localAgentFixture({ apiKey: KEY, greeting: '' });

/** The environment of a run: nothing from this process's Atoms settings, only what the test gives. */
function environment(env) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ATOMS_')));
  return { ...base, ...env };
}

/** Runs the CLI to its end; resolves with its exit code and output. */
function run(args, env = {}, nodeArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { cwd: tmpdir(), env: environment(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment that mints from the local agent. */
const atoms = (extra = {}) => ({ ATOMS_API_KEY: KEY, ATOMS_AGENT_ID: 'cli-agent', ATOMS_API_URL: local.agent.restBaseUrl, ...extra });

/** An HTTP request; resolves with status, headers and text. */
function http(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts `dev` and resolves once it has printed its snippet, with the process and what it printed. */
function startDev(t, args = ['--port', '0'], nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'dev', ...args], { cwd: tmpdir(), env: environment({}), stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  const ready = new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
      if (/<voice-agent [^\n]*<\/voice-agent>\n/.test(stdout)) resolve({ child, stdout, exited });
    });
    void exited.then(({ code }) => reject(new Error(`dev exited (${code}) before printing its snippet: ${stdout}${stderr}`)));
  });
  return { ready, exited };
}

test('token prints a fresh token from the environment that opens a call with the agent it names', TIMEOUT, async (t) => {
  const { code, stdout, stderr } = await run(['token'], atoms());
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
  assert.match(stdout, /^wct_[\w-]+\n$/);
  const created = await firstFrame(t, local.agent.connectUrl, stdout.trim());
  assert.equal(created.type, 'session.created');
  const session = local.agent.sessions.find((s) => s.sessionId === created.session_id);
  assert.deepEqual({ agentId: session.agentId, mode: session.mode, variables: session.variables }, { agentId: 'cli-agent', mode: 'webcall', variables: {} });

  const again = await run(['token'], atoms());
  assert.notEqual(again.stdout, stdout, 'every run mints a new token');
});

test('token --json --mode chat --variables prints the token answer and mints a chat call with those variables', TIMEOUT, async (t) => {
  const { code, stdout, stderr } = await run(['token', '--json', '--mode', 'chat', '--variables', '{"name":"Ada","vip":true,"visits":3}'], atoms());
  assert.equal(code, 0, stderr);
  const answer = JSON.parse(stdout);
  assert.deepEqual(Object.keys(answer), ['access_token', 'expires_in', 'sample_rate']);
  assert.equal(answer.expires_in, 30);
  assert.equal(answer.sample_rate, 24000);
  const created = await firstFrame(t, local.agent.connectUrl, answer.access_token);
  const session = local.agent.sessions.find((s) => s.sessionId === created.session_id);
  assert.deepEqual({ mode: session.mode, variables: session.variables }, { mode: 'chat', variables: { name: 'Ada', vip: true, visits: 3 } });

  const equals = await run(['token', '--mode=webcall', '--json'], atoms());
  assert.equal(equals.code, 0, equals.stderr);
  assert.match(JSON.parse(equals.stdout).access_token, /^wct_/);
});

test('token names each missing or unusable variable and exits 3', TIMEOUT, async () => {
  const cases = [
    [{}, ['ATOMS_API_KEY', 'ATOMS_AGENT_ID']],
    [{ ATOMS_API_KEY: KEY }, ['ATOMS_AGENT_ID']],
    [{ ATOMS_AGENT_ID: 'cli-agent', ATOMS_API_KEY: '  ' }, ['ATOMS_API_KEY']],
    [atoms({ ATOMS_AGENT_ID: 'has spaces' }), ['ATOMS_AGENT_ID']],
    [atoms({ ATOMS_API_URL: 'ftp://atoms.example' }), ['ATOMS_API_URL']],
  ];
  for (const [env, names] of cases) {
    const { code, stdout, stderr } = await run(['token'], env);
    assert.equal(code, 3, `${JSON.stringify(env)}: ${stderr}`);
    assert.equal(stdout, '');
    for (const name of ['ATOMS_API_KEY', 'ATOMS_AGENT_ID', 'ATOMS_API_URL']) {
      assert.equal(stderr.includes(name), names.includes(name), `${name} in ${stderr}`);
    }
    assert.ok(!stderr.includes(KEY));
  }
});

test('a bad command, flag or flag value exits 2 with a message naming it', TIMEOUT, async () => {
  const cases = [
    [['token', '--nope'], /--nope/],
    [['token', '--mode'], /--mode/],
    [['token', '--mode', 'video'], /--mode must be webcall or chat/],
    [['token', '--json=yes'], /--json/],
    [['token', 'extra'], /extra/],
    [['token', '--variables', '{"name":'], /--variables must be a JSON object/],
    [['token', '--variables', '["Ada"]'], /--variables must be a JSON object/],
    [['token', '--variables', '{"nested":{"a":1}}'], /variable "nested"/],
    [['tokn'], /unknown command "tokn"/],
    [['dev', '--port', 'eighty'], /--port must be a port number/],
    [['dev', '--port', '70000'], /--port must be a port number/],
    [[], /Usage: voice-agent-widget <command>/],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await run(args, atoms());
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.equal(stdout, '');
    assert.match(stderr, message);
  }
});

test('a refusal by the agent service exits 4, an unreachable one 5, and the key is never printed', TIMEOUT, async () => {
  const refused = await run(['token'], atoms({ ATOMS_API_KEY: 'sk_wrong_key_for_this_agent' }));
  assert.equal(refused.code, 4, refused.stderr);
  assert.match(refused.stderr, /upstream_unauthorized/);
  assert.match(refused.stderr, /HTTP 401/);
  assert.ok(!(refused.stdout + refused.stderr).includes('sk_wrong_key_for_this_agent'));

  const closed = createServer();
  await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address();
  await new Promise((resolve) => closed.close(resolve));
  const unreachable = await run(['token'], atoms({ ATOMS_API_URL: `http://127.0.0.1:${port}/atoms/v1` }));
  assert.equal(unreachable.code, 5, unreachable.stderr);
  assert.match(unreachable.stderr, /upstream_unreachable/);
});

test('--help on each level lists the options and the exit codes, and exits 0', TIMEOUT, async () => {
  for (const [args, options] of [
    [['--help'], ['token', 'dev']],
    [['token', '--help'], ['--json', '--mode', '--variables', 'ATOMS_API_KEY', 'ATOMS_AGENT_ID', 'ATOMS_API_URL']],
    [['dev', '-h'], ['--port', 'npm i -D ws']],
  ]) {
    const { code, stdout } = await run(args);
    assert.equal(code, 0);
    for (const option of options) assert.ok(stdout.includes(option), `${args.join(' ')} mentions ${option}`);
    for (const exit of [2, 3, 4, 5, 6, 7]) assert.match(stdout, new RegExp(`^  ${exit}  \\S`, 'm'));
  }
  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
  assert.equal((await run(['--version'])).stdout, `${version}\n`);
});

test('the CLI runs the built token handler and local agent rather than copies of them', async () => {
  const source = await readFile(CLI, 'utf8');
  assert.match(source, /^#!\/usr\/bin\/env node\n/);
  assert.match(source, /from ['"]voice-agent-widget\/server['"]/);
  assert.match(source, /import\(['"]voice-agent-widget\/local-agent['"]\)/);
  assert.ok(!/Bearer |usable token|rejected the server's API key/.test(source), 'no second register-call implementation');
  assert.ok(!source.includes('WebSocketServer'), 'no local agent inside');
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.bin, { 'voice-agent-widget': './dist/cli/index.js' });
});

test('dev prints the snippet, serves the widget, and its token endpoint opens a call', TIMEOUT, async (t) => {
  const { ready, exited } = startDev(t);
  const { child, stdout } = await ready;
  const script = /<script type="module" src="([^"]+)"><\/script>/.exec(stdout)?.[1];
  const endpoint = /<voice-agent agent-id="[^"]+" token-endpoint="([^"]+)"><\/voice-agent>/.exec(stdout)?.[1];
  assert.ok(script && endpoint, stdout);
  const base = new URL(script).origin;
  assert.equal(script, `${base}/voice-agent.js`);
  assert.equal(endpoint, `${base}/api/voice-token`);

  const bundle = await http(script);
  assert.equal(bundle.status, 200);
  assert.equal(bundle.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(bundle.headers['access-control-allow-origin'], '*');
  assert.equal(bundle.text, await readFile(join(ROOT, 'dist/cdn/voice-agent.js'), 'utf8'));
  assert.equal((await http(`${base}/worklets/capture-processor.js`)).status, 200);
  assert.equal((await http(`${base}/voice-agent.iife.js`, { method: 'HEAD' })).status, 200);
  assert.equal((await http(`${base}/%2e%2e/cli/index.js`)).status, 404);
  assert.equal((await http(`${base}/no-such-file.js`)).status, 404);
  const page = await http(`${base}/`);
  assert.match(page.text, /<voice-agent [^>]*token-endpoint="\/api\/voice-token"/);

  // A page being developed on another loopback port asks for a token, as the element does.
  const pageOrigin = 'http://localhost:5173';
  const answer = await http(endpoint, {
    method: 'POST',
    headers: { origin: pageOrigin, 'content-type': 'application/json' },
    body: JSON.stringify({ agent_id: 'local-agent', mode: 'webcall', variables: { greeting: '' } }),
  });
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.headers['access-control-allow-origin'], pageOrigin);
  const { access_token: token, url } = JSON.parse(answer.text);
  assert.ok(!answer.text.includes('sk_'));
  assert.equal(url, `${base.replace('http', 'ws')}/atoms/v1/agent/connect`);
  const created = await firstFrame(t, url, token);
  assert.equal(created.type, 'session.created');
  assert.equal(created.sample_rate, 24000);

  const preflight = await http(endpoint, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:3000', 'access-control-request-method': 'POST' } });
  assert.equal(preflight.status, 204);
  const foreign = await http(endpoint, {
    method: 'POST',
    headers: { origin: 'https://elsewhere.example', 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(foreign.status, 403);

  child.kill('SIGTERM');
  const end = await exited;
  assert.deepEqual({ code: end.code, signal: end.signal }, { code: 0, signal: null });
  assert.ok(!(end.stdout + end.stderr).includes('sk_'), 'no key printed');
});

test('dev on a port in use exits 7', TIMEOUT, async (t) => {
  const busy = createServer();
  await new Promise((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => busy.close(resolve)));
  const { code, stderr } = await run(['dev', '--port', String(busy.address().port)]);
  assert.equal(code, 7, stderr);
  assert.match(stderr, new RegExp(`port ${busy.address().port} is in use`));
});

test('dev without the ws package exits 6 and says how to install it', TIMEOUT, async (t) => {
  // A resolve hook that makes `ws` missing, as in a project that never installed it.
  const dir = await mkdtemp(join(tmpdir(), 'va-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'hooks.mjs'),
    `export async function resolve(specifier, context, next) {
      if (specifier === 'ws') {
        const error = new Error("Cannot find package 'ws' imported from " + context.parentURL);
        error.code = 'ERR_MODULE_NOT_FOUND';
        throw error;
      }
      return next(specifier, context);
    }\n`,
  );
  await writeFile(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  const { code, stdout, stderr } = await run(['dev', '--port', '0'], {}, ['--import', pathToFileURL(join(dir, 'register.mjs')).href]);
  assert.equal(code, 6, stdout + stderr);
  assert.match(stderr, /npm i -D ws/);
  assert.equal(stdout, '');
});
