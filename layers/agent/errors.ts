/**
 * Typed errors of the identity agent. Like the SPIFFE library's, each carries a
 * fixed `reason` and a message `<reason>: <detail>: <cause>`; none ever holds
 * key material, a secret value or the session token.
 */
import { SpiffeError } from "../spiffe/index.ts";

/** Reasons the agent has no SVID it may use. */
export const AgentReason = {
  SECRET_UNREADABLE: "agent: could not read the SVID secret",
  SECRET_INVALID: "agent: SVID secret is unusable",
  SVID_NOT_VERIFIED: "agent: SVID does not verify against its own bundle",
  SVID_EXPIRED: "agent: SVID has expired",
  EXTENSIONS_API: "agent: Lambda Extensions API request failed",
} as const;
export type AgentReason = (typeof AgentReason)[keyof typeof AgentReason];

/** The agent could not obtain a usable SVID, or could not talk to the Lambda runtime. */
export class AgentError extends Error {
  readonly reason: AgentReason;

  constructor(reason: AgentReason, detail?: string, options?: { cause?: unknown }) {
    super(`${reason}${detail === undefined ? "" : `: ${detail}`}${causeText(options?.cause)}`, {
      cause: options?.cause,
    });
    this.name = "AgentError";
    this.reason = reason;
  }
}

/**
 * Only our own errors and AWS SDK service errors (whose messages name the
 * secret, never its value) are chained into the message.
 */
function causeText(cause: unknown): string {
  if (cause instanceof SpiffeError) return `: ${cause.message}`;
  if (cause instanceof Error && isAwsServiceError(cause))
    return `: ${cause.name}: ${cause.message}`;
  if (cause instanceof Error) return `: ${cause.name}`;
  return "";
}

function isAwsServiceError(err: Error): boolean {
  return "$metadata" in err || "$fault" in err;
}
