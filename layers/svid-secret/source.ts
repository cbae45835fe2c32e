/**
 * The SVID as the agent holds it: read from the account's own Secrets Manager,
 * verified against its own bundle, and re-read by the freshness rules.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  parseSvidSecret,
  SvidError,
  SvidReason,
  type SvidSecret,
  SvidSecretError,
  verifyX509Svid,
} from "../spiffe/index.ts";
import { SvidSourceError, SvidSourceReason } from "./errors.ts";
import { DEFAULT_FRESHNESS, type Freshness, type FreshnessPolicy, freshness } from "./freshness.ts";
import { DEFAULT_SVID_SECRET_NAME } from "./name.ts";

/** An SVID secret as read, with when it was read and which rotation it is. */
export interface HeldSvid extends SvidSecret {
  fetchedAt: Date;
  /** Goes up by one each time a read returns a different leaf; connection pools rebuild on a change. */
  generation: number;
}

/** The part of the Secrets Manager client the source uses. */
export interface SecretReader {
  send(command: GetSecretValueCommand): Promise<{
    SecretString?: string | undefined;
    SecretBinary?: Uint8Array | undefined;
  }>;
}

export interface SvidSourceOptions extends Partial<FreshnessPolicy> {
  /** Defaults to {@link DEFAULT_SVID_SECRET_NAME}. */
  secretName?: string;
  /** Defaults to a client from the AWS SDK's standard chain, built on first use. */
  client?: SecretReader;
  now?: () => Date;
  /** Told about background re-reads that failed; the held SVID stays in use meanwhile. */
  onRefreshError?: (err: SvidSourceError) => void;
  /** Told when a read returns a different SVID than the one held. */
  onRotate?: (held: HeldSvid) => void;
}

/**
 * Holds one SVID and re-reads it by the {@link freshness} rules: a stale SVID
 * keeps being served while a single background read runs; an expired one is
 * never returned.
 *
 * @example
 * const source = new SvidSource({ secretName: "lambda-svid/svid" });
 * const { svid, bundles } = await source.get();
 */
export class SvidSource {
  readonly secretName: string;
  private readonly policy: FreshnessPolicy;
  private readonly now: () => Date;
  private readonly onRefreshError: (err: SvidSourceError) => void;
  private readonly onRotate: (held: HeldSvid) => void;
  private client: SecretReader | undefined;
  private held: HeldSvid | undefined;
  private reading: Promise<HeldSvid> | undefined;

  constructor(options: SvidSourceOptions = {}) {
    this.secretName = options.secretName ?? DEFAULT_SVID_SECRET_NAME;
    this.policy = {
      refreshIntervalMs: options.refreshIntervalMs ?? DEFAULT_FRESHNESS.refreshIntervalMs,
      refreshThresholdMs: options.refreshThresholdMs ?? DEFAULT_FRESHNESS.refreshThresholdMs,
    };
    this.now = options.now ?? (() => new Date());
    this.onRefreshError = options.onRefreshError ?? (() => {});
    this.onRotate = options.onRotate ?? (() => {});
    this.client = options.client;
  }

  /** The state of the held SVID; `expired` when none is held. */
  freshness(): Freshness {
    return this.held === undefined
      ? "expired"
      : freshness(
          { notAfter: this.held.svid.notAfter, fetchedAt: this.held.fetchedAt },
          this.now(),
          this.policy,
        );
  }

  /**
   * The SVID to use now. Reads first only when none is held or it has expired;
   * when it is stale, starts a background read and returns the held one.
   *
   * @throws {SvidSourceError} when no unexpired SVID can be had.
   */
  async get(): Promise<HeldSvid> {
    const state = this.freshness();
    if (state === "expired") return this.read();
    if (state === "stale") this.refreshInBackground();
    return this.held as HeldSvid;
  }

  /**
   * Applies the freshness rules without serving anything (the extension calls
   * it on INVOKE). Waits only when the held SVID has expired; never throws.
   */
  async maintain(): Promise<void> {
    const state = this.freshness();
    if (state === "stale") this.refreshInBackground();
    if (state === "expired")
      await this.read().catch((err: SvidSourceError) => this.onRefreshError(err));
  }

  /**
   * Reads and verifies the secret now; concurrent callers share one read.
   * A read that fails keeps the held SVID.
   *
   * @throws {SvidSourceError} naming the cause: unreadable, malformed, unverifiable or expired.
   */
  read(): Promise<HeldSvid> {
    this.reading ??= this.fetch().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private refreshInBackground(): void {
    if (this.reading !== undefined) return;
    this.read().catch((err: SvidSourceError) => this.onRefreshError(err));
  }

  private async fetch(): Promise<HeldSvid> {
    this.client ??= new SecretsManagerClient({});
    let value: Awaited<ReturnType<SecretReader["send"]>>;
    try {
      value = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretName }));
    } catch (cause) {
      throw new SvidSourceError(
        SvidSourceReason.SECRET_UNREADABLE,
        JSON.stringify(this.secretName),
        {
          cause,
        },
      );
    }
    const fetchedAt = this.now();
    const secret = parse(this.secretName, value);
    try {
      verifyX509Svid(secret.svid.chainPem(), secret.bundles, { now: fetchedAt });
    } catch (cause) {
      const expired = cause instanceof SvidError && cause.reason === SvidReason.EXPIRED;
      throw new SvidSourceError(
        expired ? SvidSourceReason.SVID_EXPIRED : SvidSourceReason.SVID_NOT_VERIFIED,
        JSON.stringify(this.secretName),
        { cause },
      );
    }
    const previous = this.held;
    const same = previous?.svid.leaf.x509.fingerprint256 === secret.svid.leaf.x509.fingerprint256;
    const generation = previous === undefined ? 1 : previous.generation + (same ? 0 : 1);
    const held: HeldSvid = { ...secret, fetchedAt, generation };
    this.held = held;
    if (previous !== undefined && !same) this.onRotate(held);
    return held;
  }
}

function parse(secretName: string, value: Awaited<ReturnType<SecretReader["send"]>>): SvidSecret {
  try {
    return parseSvidSecret(value);
  } catch (cause) {
    if (!(cause instanceof SvidSecretError)) throw cause;
    throw new SvidSourceError(SvidSourceReason.SECRET_INVALID, JSON.stringify(secretName), {
      cause,
    });
  }
}
