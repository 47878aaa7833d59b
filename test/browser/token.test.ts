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

  it('refuses answers without a token, or with a url that is not wss: (ws: only on localhost), as token-failed', () => {
    for (const body of [null, 'wct_x', {}, { data: {} }, { token: '' }, { token: 'wct', url: 'https://x.test' }, { token: 'wct', url: 'ws://agent.example/connect' }]) {
      expect(() => parseTokenResponse(body), JSON.stringify(body)).to.throw(VoiceAgentError).with.property('code', 'token-failed');
    }
    expect(parseTokenResponse({ token: 'wct', url: 'ws://localhost:9/x' })).to.deep.equal({ token: 'wct', url: 'ws://localhost:9/x' });
  });

  it('refuses an answer with a secret key anywhere as config-invalid', () => {
    for (const body of [{ token: 'sk_live_12345678' }, 'sk_live_12345678', { token: 'wct', data: { key: 'sk_abcdefgh' } }, { token: 'wct', notes: [{ text: 'minted with sk_test_abcdefgh1' }] }]) {
      expect(() => parseTokenResponse(body), JSON.stringify(body)).to.throw(VoiceAgentError).with.property('code', 'config-invalid');
    }
  });

  it('never puts a refused secret key in its message', () => {
    expect(() => parseTokenResponse({ access_token: 'sk_live_secret123' }))
      .to.throw(VoiceAgentError)
      .with.property('message')
      .that.does.not.match(/secret123|sk_[a-z]/);
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
    for (const answer of [{ token: 'sk_live_12345678' }, { token: 'wct_1', extra: { key: 'sk_live_12345678' } }, { key: 'sk_live_12345678' }]) {
      const error = await failure(ask(async () => answer as never));
      expect(error.code).to.equal('config-invalid');
      expect(error.message).to.match(/^A secret API key \(sk_…\) was found in the token provider's answer/);
      expect(error.message).not.to.contain('live_1');
    }
  });
});

describe('refuseSecretKey', () => {
  it('lets an answer without a secret key through, and names who answered with one', () => {
    expect(() => refuseSecretKey({ token: 'wct_1', data: { note: 'a sk_ inside, sk_short, task_description_field' } }, 'endpoint')).not.to.throw();
    expect(() => refuseSecretKey({ data: { access_token: 'sk_12345678' } }, 'endpoint')).to.throw(VoiceAgentError, /found in the token endpoint's answer/);
    expect(() => refuseSecretKey(['sk_12345678'], 'provider')).to.throw(VoiceAgentError, /found in the token provider's answer/);
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
    ['does-not-exist', /HTTP 404/],
  ] as const) {
    it(`fails with token-failed on ${kind}`, async () => {
      const error = await failure(endpointTokenProvider(`/api/token/${kind}`)(request, signal()));
      expect(error.code).to.equal('token-failed');
      expect(error.message).to.match(pattern);
    });
  }

  for (const kind of ['secret-key', 'secret-key-nested', 'secret-key-deep']) {
    it(`fails with config-invalid on ${kind}, without the key in the message`, async () => {
      const error = await failure(endpointTokenProvider(`/api/token/${kind}`)(request, signal()));
      expect(error.code).to.equal('config-invalid');
      expect(error.message).to.match(/^A secret API key \(sk_…\) was found in the token endpoint's answer: .* See the token endpoint docs: https:\/\//);
      expect(error.message).not.to.match(/sk_[a-z0-9]/);
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

  it('fails with token-failed when the endpoint cannot be reached; on another origin, the message names CORS', async () => {
    const error = await failure(endpointTokenProvider('http://127.0.0.1:1/token')(request, signal()));
    expect(error.code).to.equal('token-failed');
    expect(error.message).to.equal(
      `The token endpoint could not be reached: it is on another origin (http://127.0.0.1:1), which may not allow this page's origin (${location.origin}) by CORS, or it is down.`,
    );
    const failingFetch = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    const sameOrigin = await failure(endpointTokenProvider('/api/voice-token', { fetch: failingFetch })(request, signal()));
    expect([sameOrigin.code, sameOrigin.message]).to.deep.equal(['token-failed', 'The token endpoint could not be reached.']);
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
