/**
 * Typed errors of the SVID secret's reader. Like the SPIFFE library's, each
 * carries a fixed `reason` and a message `<reason>: <detail>: <cause>`; none
 * ever holds key material or a secret value.
 */
import { SpiffeError } from "../spiffe/index.ts";

/** Reasons a reader has no SVID it may use. */
export const SvidSourceReason = {
  SECRET_UNREADABLE: "svid-secret: could not read the SVID secret",
  SECRET_INVALID: "svid-secret: SVID secret is unusable",
  SVID_NOT_VERIFIED: "svid-secret: SVID does not verify against its own bundle",
  SVID_EXPIRED: "svid-secret: SVID has expired",
} as const;
export type SvidSourceReason = (typeof SvidSourceReason)[keyof typeof SvidSourceReason];

/**
 * No unexpired, verified SVID could be read from the secret.
 *
 * @example
 * if (err instanceof SvidSourceError && err.reason === SvidSourceReason.SVID_EXPIRED) alarm();
 */
export class SvidSourceError extends Error {
  readonly reason: SvidSourceReason;

  constructor(reason: SvidSourceReason, detail?: string, options?: { cause?: unknown }) {
    super(`${reason}${detail === undefined ? "" : `: ${detail}`}${causeText(options?.cause)}`, {
      cause: options?.cause,
    });
    this.name = "SvidSourceError";
    this.reason = reason;
  }
}

/**
 * The text a cause adds to a message: only our own errors and AWS SDK service
 * errors (whose messages name the secret, never its value) are chained.
 *
 * @example
 * causeText(new SyntaxError('Unexpected token in "hunter2"')); // ": SyntaxError"
 */
export function causeText(cause: unknown): string {
  if (cause instanceof SpiffeError) return `: ${cause.message}`;
  if (cause instanceof Error && isAwsServiceError(cause))
    return `: ${cause.name}: ${cause.message}`;
  if (cause instanceof Error) return `: ${cause.name}`;
  return "";
}

function isAwsServiceError(err: Error): boolean {
  return "$metadata" in err || "$fault" in err;
}
