/**
 * Credentials of a route's role, one STS session per (role, caller) so
 * CloudTrail names the mesh caller behind each request (the session name is
 * derived from the caller's SPIFFE ID). Sessions are kept in a bounded
 * least-recently-used cache and renewed in the background from
 * `refreshBeforeMs` before expiry: requests keep using the still-valid
 * session meanwhile, and only a missing or lapsed one makes a request wait.
 */
import {
  AssumeRoleCommand,
  type AssumeRoleCommandOutput,
  type STSClient,
} from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@smithy/types";
import { BackendError, BackendReason } from "./errors.ts";
import { sessionNameFor } from "./session-name.ts";

/** Sessions kept by default: one per (role, caller) pair a busy ingress serves at once. */
export const DEFAULT_MAX_SESSIONS = 1_000;

export interface AssumedRolesOptions {
  /** The STS client that assumes roles in a Region, signed with the ingress's own credentials. */
  sts: (region: string) => STSClient;
  maxSessions: number;
  refreshBeforeMs: number;
  /** Reports a background renewal that failed (the held session is kept while it lasts). */
  onRenewalFailure: (error: BackendError) => void;
  now?: () => number;
}

interface Session {
  credentials?: AwsCredentialIdentity;
  pending?: Promise<AwsCredentialIdentity>;
}

/**
 * The cache of assumed-role sessions.
 *
 * @example
 * const roles = new AssumedRoles({ sts: (region) => new STSClient({ region }), maxSessions: 1000,
 *   refreshBeforeMs: 300_000, onRenewalFailure: (e) => log.warn(e.message) });
 * const credentials = await roles.credentialsFor(roleArn, "eu-west-1", "spiffe://example.org/web");
 */
export class AssumedRoles {
  readonly #options: AssumedRolesOptions;
  readonly #now: () => number;
  /** Map order is recency order: a hit moves its key to the end, the first key is evicted. */
  readonly #sessions = new Map<string, Session>();

  constructor(options: AssumedRolesOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Sessions held now (at most `maxSessions`). */
  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Credentials of `roleArn` for `callerId`.
   *
   * @throws {BackendError} `ASSUME_ROLE` when STS refuses or cannot be reached and no valid session is held.
   */
  async credentialsFor(
    roleArn: string,
    region: string,
    callerId: string,
  ): Promise<AwsCredentialIdentity> {
    const key = `${roleArn} ${callerId}`;
    let session = this.#sessions.get(key);
    if (session === undefined) {
      session = {};
      if (this.#sessions.size >= this.#options.maxSessions) {
        this.#sessions.delete(this.#sessions.keys().next().value as string);
      }
    } else {
      this.#sessions.delete(key);
    }
    this.#sessions.set(key, session);

    const held = session.credentials;
    const left = held?.expiration === undefined ? -1 : held.expiration.getTime() - this.#now();
    if (held !== undefined && left > this.#options.refreshBeforeMs) return held;
    const renewal = this.#renew(session, roleArn, region, callerId);
    if (held !== undefined && left > 0) {
      renewal.catch(this.#options.onRenewalFailure);
      return held;
    }
    return renewal;
  }

  #renew(
    session: Session,
    roleArn: string,
    region: string,
    callerId: string,
  ): Promise<AwsCredentialIdentity> {
    session.pending ??= this.#assume(roleArn, region, callerId)
      .then((credentials) => {
        session.credentials = credentials;
        return credentials;
      })
      .finally(() => {
        session.pending = undefined;
      });
    return session.pending;
  }

  async #assume(roleArn: string, region: string, callerId: string): Promise<AwsCredentialIdentity> {
    let output: AssumeRoleCommandOutput;
    try {
      output = await this.#options
        .sts(region)
        .send(
          new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionNameFor(callerId) }),
        );
    } catch (cause) {
      throw new BackendError(BackendReason.ASSUME_ROLE, roleArn, { cause });
    }
    const c = output.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || c.Expiration === undefined) {
      throw new BackendError(BackendReason.ASSUME_ROLE, `${roleArn}: STS answered no credentials`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  }
}
