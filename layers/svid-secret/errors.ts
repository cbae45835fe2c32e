/**
 * Typed errors of the SVID secret's reader. Like the SPIFFE library's, each
 * carries a fixed `reason` and a message `<reason>: <detail>: <cause>`; none
 * ever holds key material or a secret value.
 */
import { LambdaSvidError } from "../../lib/errors/index.ts";

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
export class SvidSourceError extends LambdaSvidError {
  declare readonly reason: SvidSourceReason;

  constructor(reason: SvidSourceReason, detail?: string, options?: { cause?: unknown }) {
    super(reason, detail, options);
    this.name = "SvidSourceError";
  }
}
