/**
 * Who signs each request: the model's long-term keys name their account in
 * the key id itself; keys from AssumeRole are remembered until they expire.
 * The handler asks for the account of every request's signing key, as AWS
 * derives the caller from the credentials.
 */
import { randomBytes } from "node:crypto";

const LONG_TERM = /^AKIASIM(\d{12})$/;
/** The account of a request signed with a key the model never issued. */
export const UNKNOWN_ACCOUNT = "000000000000";

export interface IssuedKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/**
 * The model's credentials.
 *
 * @example
 * const principals = new Principals();
 * const credentials = principals.longTerm("111111111111");
 * principals.accountOf(credentials.accessKeyId); // "111111111111"
 */
export class Principals {
  /** Temporary keys in issue order, which is expiry order: they all last as long. */
  private readonly temporary = new Map<string, { account: string; expiresAt: number }>();

  /** Long-term credentials of `account` (the central account's Lambda role, a test's caller). */
  longTerm(account: string): { accessKeyId: string; secretAccessKey: string } {
    return { accessKeyId: `AKIASIM${account}`, secretAccessKey: "sim-secret-access-key" };
  }

  /** Temporary credentials acting in `account` until `lifetimeMs` from now (virtual time). */
  issue(account: string, lifetimeMs: number): IssuedKey {
    this.forgetExpired();
    const accessKeyId = `ASIA${randomBytes(8).toString("hex").toUpperCase()}`;
    const expiresAt = Date.now() + lifetimeMs;
    this.temporary.set(accessKeyId, { account, expiresAt });
    return {
      accessKeyId,
      secretAccessKey: randomBytes(20).toString("base64"),
      sessionToken: randomBytes(32).toString("base64"),
      expiration: new Date(expiresAt),
    };
  }

  /** The account a key acts in; {@link UNKNOWN_ACCOUNT} for a key the model never issued or that expired. */
  accountOf(accessKeyId: string): string {
    const long = LONG_TERM.exec(accessKeyId);
    if (long) return long[1] as string;
    const key = this.temporary.get(accessKeyId);
    return key !== undefined && key.expiresAt > Date.now() ? key.account : UNKNOWN_ACCOUNT;
  }

  private forgetExpired(): void {
    const now = Date.now();
    for (const [id, key] of this.temporary) {
      if (key.expiresAt > now) break;
      this.temporary.delete(id);
    }
  }
}
