/**
 * Checks that hold after every test of every browser test file that imports this module (the
 * harness does): no unhandled promise rejection, and nothing that looks like a token or a secret
 * key (`wct_…`, `sk_…`) written to any console method.
 */
import { expect } from '@open-wc/testing';

const SECRET = /\b(?:wct|sk)_[A-Za-z0-9]/;
const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table'] as const;

const unhandled: string[] = [];
const secretLines: string[] = [];

window.addEventListener('unhandledrejection', (event) => {
  const reason: unknown = event.reason;
  unhandled.push(reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason));
});

for (const method of METHODS) {
  const real = console[method] as (...args: unknown[]) => void;
  console[method] = (...args: unknown[]) => {
    const line = args.map((arg) => (typeof arg === 'string' ? arg : safeJson(arg))).join(' ');
    if (SECRET.test(line)) secretLines.push(`console.${method}: ${line.slice(0, 200)}`);
    real.apply(console, args);
  };
}

function safeJson(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}

afterEach(async () => {
  // Rejections are reported a task after they happen.
  await new Promise((resolve) => setTimeout(resolve));
  const rejections = unhandled.splice(0);
  const secrets = secretLines.splice(0);
  expect(rejections, 'unhandled promise rejections').to.deep.equal([]);
  expect(secrets, 'tokens or keys written to the console').to.deep.equal([]);
});
