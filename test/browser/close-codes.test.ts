import '../support/guards.js';
import { expect } from '@open-wc/testing';
import { VoiceAgentError } from '../../src/errors.js';
import { closeOutcome, type CloseOutcome } from '../../src/transport/close-codes.js';

/** An outcome as plain data: the reason, and the error's code, close code, fatality and message. */
function plain({ reason, error }: CloseOutcome) {
  if (!error) return { reason };
  expect(error).to.be.instanceOf(VoiceAgentError);
  return { reason, code: error.code, closeCode: error.closeCode, fatal: error.fatal, message: error.message };
}

describe('closeOutcome', () => {
  describe('during the call', () => {
    it('ends a normal close (1000) the server did not explain cleanly, as websocket_closed', () => {
      expect(plain(closeOutcome({ code: 1000, reason: '' }, 'live'))).to.deep.equal({ reason: 'websocket_closed' });
    });

    it('makes a bare 4000 (a setup failure) a server-error', () => {
      expect(plain(closeOutcome({ code: 4000, reason: 'Invalid API key.' }, 'live'))).to.deep.equal({
        reason: 'error',
        code: 'server-error',
        closeCode: 4000,
        fatal: true,
        message: 'The agent server ended the session (code 4000: Invalid API key.).',
      });
    });

    for (const code of [1001, 1005, 1006, 1011, 1012, 3000, 4001]) {
      it(`makes any other unexplained close (${code}) connection-lost`, () => {
        expect(plain(closeOutcome({ code, reason: '' }, 'live'))).to.deep.equal({
          reason: 'error',
          code: 'connection-lost',
          closeCode: code,
          fatal: true,
          message: `The connection to the agent was lost (code ${code}).`,
        });
      });
    }

    it("names the close's reason in the message when there is one", () => {
      expect(closeOutcome({ code: 1011, reason: 'restarting' }, 'live').error?.message).to.equal(
        'The connection to the agent was lost (code 1011: restarting).',
      );
    });

    it("ends cleanly with the server's session.closed reason, whatever the code", () => {
      for (const code of [1000, 1001, 1005, 1006, 1011, 4000, 4001]) {
        for (const serverReason of ['ended', 'client_requested', 'server_shutdown']) {
          expect(plain(closeOutcome({ code, reason: 'bye' }, 'live', serverReason)), `${code} ${serverReason}`).to.deep.equal({ reason: serverReason });
        }
      }
    });
  });

  describe('before the session started', () => {
    for (const code of [1000, 1001, 1005, 1006, 1011, 4000, 4001]) {
      it(`makes a close (${code}) socket-failed, with or without a session.closed`, () => {
        for (const serverReason of [undefined, 'ended']) {
          expect(plain(closeOutcome({ code, reason: 'going' }, 'starting', serverReason))).to.deep.equal({
            reason: 'error',
            code: 'socket-failed',
            closeCode: code,
            fatal: true,
            message: `The agent server closed the connection before the session started (code ${code}: going).`,
          });
        }
      });
    }
  });

  describe('during the handshake', () => {
    for (const code of [1000, 1006, 4000]) {
      it(`makes a close (${code}) a refused connection`, () => {
        expect(plain(closeOutcome({ code, reason: 'no' }, 'opening'))).to.deep.equal({
          reason: 'error',
          code: 'socket-failed',
          closeCode: code,
          fatal: true,
          message: `The agent server refused the connection (close code ${code}).`,
        });
      });
    }
  });
});
