/**
 * The single-use `wct_` tokens that `register-call` mints and the agent WebSocket redeems, each
 * standing for one call's grant until it is used or expires.
 */
import { randomUUID } from 'node:crypto';
import type { CallGrant } from './call-grant.js';

/** Single-use tokens with a lifetime; expired ones are dropped whenever the store is used. */
export class TokenStore {
  private readonly grants = new Map<string, { grant: CallGrant; expiresAt: number }>();

  constructor(private readonly ttlMs: number) {}

  issue(grant: CallGrant): string {
    this.purge();
    const token = `wct_${randomUUID()}`;
    this.grants.set(token, { grant, expiresAt: performance.now() + this.ttlMs });
    return token;
  }

  /** The token's grant if it is known and unexpired; the token is spent either way. */
  redeem(token: string): CallGrant | undefined {
    this.purge();
    const entry = this.grants.get(token);
    this.grants.delete(token);
    return entry?.grant;
  }

  private purge(): void {
    const now = performance.now();
    for (const [token, { expiresAt }] of this.grants) if (expiresAt <= now) this.grants.delete(token);
  }
}
