/**
 * Typed errors of the syncer, on the SPIFFE library's model: each carries a
 * fixed `reason` (a named constant below, prefixed `syncer: `, or `keywhiz: `
 * for its Keywhiz client) and a message `<reason>: <detail>: <cause>`.
 * Messages name secrets, never their content or the content key.
 */
import { LambdaSvidError } from "../../lib/errors/index.ts";

/** Fixed reasons for the syncer's own failures and refusals. */
export const SyncerReason = {
  /** The run holds back its deletions; the report says why, and a forced re-sync performs them. */
  DELETION_REFUSED: "syncer: deletion refused",
  CONTENT_KEY: "syncer: the content key secret is not usable",
  NOT_OWNED: "syncer: the secret is not owned by the syncer",
  EMPTY_OPT_IN: "syncer: opt-in entries cannot be empty",
  RUN_FAILED: "syncer: sync run failed",
} as const;
export type SyncerReason = (typeof SyncerReason)[keyof typeof SyncerReason];

/** Reasons an invocation event is refused. */
export const SyncerEventReason = {
  NOT_ACCEPTED: "syncer: invocation event not accepted",
} as const;
export type SyncerEventReason = (typeof SyncerEventReason)[keyof typeof SyncerEventReason];

/** Fixed reasons for Keywhiz failures. */
export const KeywhizReason = {
  UNAVAILABLE: "keywhiz: server unavailable",
  UNEXPECTED_STATUS: "keywhiz: unexpected response status",
  FORBIDDEN: "keywhiz: not allowed to read a requested secret",
  NOT_FOUND: "keywhiz: a requested secret does not exist",
  MALFORMED: "keywhiz: malformed response",
  NOT_BASE64: "keywhiz: secret content is not base64",
  EMPTY_CONTENT: "keywhiz: secret content is empty",
  WRONG_LENGTH: "keywhiz: secret content length differs from secretLength",
  DUPLICATE_NAMES: "keywhiz: response lists a secret name more than once",
  TOO_LARGE: "keywhiz: response is larger than the limit",
} as const;
export type KeywhizReason = (typeof KeywhizReason)[keyof typeof KeywhizReason];

/**
 * Base class of every error the syncer throws; thrown as it is for the
 * syncer's own failures and refusals.
 *
 * @example
 * throw new SyncerError(SyncerReason.NOT_OWNED, JSON.stringify("keywhiz/db"));
 */
export class SyncerError extends LambdaSvidError {
  declare readonly reason: SyncerReason | SyncerEventReason | KeywhizReason;

  constructor(
    reason: SyncerReason | SyncerEventReason | KeywhizReason,
    detail?: string,
    options?: { cause?: unknown },
  ) {
    super(reason, detail, options);
    this.name = "SyncerError";
  }
}

/**
 * The event is none of the accepted shapes; the detail says what was expected and what was wrong.
 *
 * @example
 * new SyncerEventError("event: expected ...; got an event of another shape");
 */
export class SyncerEventError extends SyncerError {
  declare readonly reason: SyncerEventReason;

  constructor(detail: string) {
    super(SyncerEventReason.NOT_ACCEPTED, detail);
    this.name = "SyncerEventError";
  }
}

/**
 * A Keywhiz request or response that cannot be used, with the HTTP status
 * when there was one. A network or TLS cause is chained into the message; a
 * parser's never is (it would quote the body, which holds secrets).
 *
 * @example
 * new KeywhizError(KeywhizReason.FORBIDDEN, "GET /secret/db returned 403", { status: 403 });
 */
export class KeywhizError extends SyncerError {
  declare readonly reason: KeywhizReason;
  readonly status: number | undefined;

  constructor(
    reason: KeywhizReason,
    detail?: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(reason, detail, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KeywhizError";
    this.status = options?.status;
  }
}
