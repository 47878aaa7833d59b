import '../support/guards.js';
import { expect } from '@open-wc/testing';
import { VoiceAgentError } from '../../src/errors.js';
import { endpointTokenProvider, parseTokenResponse, refuseSecretKey, requestCredentials, type TokenProvider } from '../../src/session/token.js';

const request = { agent_id: 'agent-1', mode: 'webcall', variables: { greeting: '' } } as const;

async function failure(promise: Promise<unknown>): Promise<VoiceAgentError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(VoiceAgentError);
    return error as VoiceAgentError;
  }
  throw new Error('expected a failure');
}

describe('parseTokenResponse', () => {
  it('reads the Atoms shape', () => {
    expect(parseTokenResponse({ status: true, data: { access_token: 'wct_1', expires_in: 30, sample_rate: 24000 } })).to.deep.equal({
      token: 'wct_1',
      expiresIn: 30,
      sampleRate: 24000,
    });
  });

  it('reads flat shapes and an overriding url', () => {
    expect(parseTokenResponse({ access_token: 'wct_2' })).to.deep.equal({ token: 'wct_2' });
    expect(parseTokenResponse({ token: 'wct_3', url: 'ws://127.0.0.1:9/x' })).to.deep.equal({ token: 'wct_3', url: 'ws://127.0.0.1:9/x' });
  });

  it('refuses answers without a token, with a bad url, or with a secret key anywhere', () => {
    for (const body of [null, 'wct_x', {}, { data: {} }, { token: '' }, { token: 'wct', url: 'https://x.test' }, { token: 'sk_live_1' }, { token: 'wct', data: { key: 'sk_1' } }]) {
      expect(() => parseTokenResponse(body), JSON.stringify(body)).to.throw(VoiceAgentError).with.property('code', 'token-failed');
    }
  });

  it('never puts a refused secret key in its message', () => {
    expect(() => parseTokenResponse({ access_token: 'sk_live_secret123' }))
      .to.throw(VoiceAgentError)
      .with.property('message')
      .that.does.not.contain('secret123');
  });
});

describe('requestCredentials', () => {
  const ask = (provider: TokenProvider) => requestCredentials(provider, request, new AbortController().signal);

  it("passes the provider the request and its signal, and returns its answer as it is", async () => {
    const abort = new AbortController();
    const answer = { token: 'wct_1', url: 'wss://agent.test/connect', sampleRate: 16000 };
    let asked: unknown[] = [];
    const credentials = await requestCredentials(
      async (...args) => {
        asked = args;
        return answer;
      },
      request,
      abort.signal,
    );
    expect(credentials).to.equal(answer);
    expect(asked).to.deep.equal([request, abort.signal]);
  });

  it('makes whatever a provider throws a token-failed, keeping it as the cause', async () => {
    const bug = new TypeError('provider bug');
    const error = await failure(
      ask(async () => {
        throw bug;
      }),
    );
    expect(error).to.include({ code: 'token-failed', cause: bug });
  });

  it('lets an abort through as it is', async () => {
    const aborted = new DOMException('stopped', 'AbortError');
    let caught: unknown;
    await ask(async () => {
      throw aborted;
    }).catch((error: unknown) => (caught = error));
    expect(caught).to.equal(aborted);
  });

  it('refuses an answer without a token', async () => {
    for (const answer of [undefined, {}, { token: '' }, { token: 42 }]) {
      const error = await failure(ask(async () => answer as never));
      expect(error.message, JSON.stringify(answer)).to.equal('The token provider returned no token.');
    }
  });

  it("refuses a provider's answer holding a secret key anywhere, without naming the key", async () => {
    for (const answer of [{ token: 'sk_live_123' }, { token: 'wct_1', extra: { key: 'sk_live_123' } }]) {
      const error = await failure(ask(async () => answer));
      expect(error.code).to.equal('token-failed');
      expect(error.message).to.match(/token provider returned a secret API key/);
      expect(error.message).not.to.contain('live_123');
    }
  });
});

describe('refuseSecretKey', () => {
  it('lets an answer without a secret key through, and names who answered with one', () => {
    expect(() => refuseSecretKey({ token: 'wct_1', data: { note: 'a sk_ inside' } }, 'endpoint')).not.to.throw();
    expect(() => refuseSecretKey({ data: { access_token: 'sk_1' } }, 'endpoint')).to.throw(VoiceAgentError, /token endpoint answered/);
    expect(() => refuseSecretKey(['sk_1'], 'provider')).to.throw(VoiceAgentError, /token provider returned/);
  });
});

describe('endpointTokenProvider against real HTTP endpoints', () => {
  const signal = () => new AbortController().signal;

  it('POSTs the request as JSON and returns a fresh token each time', async () => {
    const provide = endpointTokenProvider('/api/voice-token');
    const first = await provide(request, signal());
    const second = await provide(request, signal());
    expect(first.token).to.match(/^wct_/);
    expect(second.token).to.match(/^wct_/);
    expect(second.token).not.to.equal(first.token);
    expect(first.url).to.match(/^ws:\/\/127\.0\.0\.1:\d+\/atoms\/v1\/agent\/connect$/);
  });

  for (const [kind, pattern] of [
    ['http-500', /HTTP 500/],
    ['not-json', /JSON/],
    ['no-token', /no access_token/],
    ['secret-key', /secret API key/],
    ['secret-key-nested', /secret API key/],
    ['does-not-exist', /HTTP 404/],
  ] as const) {
    it(`fails with token-failed on ${kind}`, async () => {
      const error = await failure(endpointTokenProvider(`/api/token/${kind}`)(request, signal()));
      expect(error.code).to.equal('token-failed');
      expect(error.message).to.match(pattern);
    });
  }

  it('gives up on the endpoint after the documented 10 s by default', async () => {
    const realTimeout = AbortSignal.timeout;
    const asked: number[] = [];
    AbortSignal.timeout = (ms: number) => {
      asked.push(ms);
      return realTimeout.call(AbortSignal, ms);
    };
    try {
      await endpointTokenProvider('/api/voice-token')(request, signal());
    } finally {
      AbortSignal.timeout = realTimeout;
    }
    expect(asked).to.deep.equal([10_000]);
  });

  it('fails with token-failed when the endpoint is too slow', async () => {
    const error = await failure(endpointTokenProvider('/api/token/slow', { timeoutMs: 200 })(request, signal()));
    expect(error.code).to.equal('token-failed');
    expect(error.message).to.match(/within 200 ms/);
  });

  it('fails with token-failed when the endpoint cannot be reached', async () => {
    const error = await failure(endpointTokenProvider('http://127.0.0.1:1/token')(request, signal()));
    expect(error.code).to.equal('token-failed');
  });

  it('stops at once when aborted', async () => {
    const abort = new AbortController();
    const pending = endpointTokenProvider('/api/token/slow')(request, abort.signal);
    abort.abort();
    let caught: unknown;
    await pending.catch((error: unknown) => (caught = error));
    expect((caught as DOMException).name).to.equal('AbortError');
  });
});
