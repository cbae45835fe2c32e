/**
 * Typed errors of the identity agent. Like the SPIFFE library's, each carries a
 * fixed `reason` and a message `<reason>: <detail>: <cause>`; none ever holds
 * key material, a secret value or the session token. Failing to read the SVID
 * is the reader's {@link SvidSourceError}.
 */
import { LambdaSvidError } from "../../lib/errors/index.ts";

/** Reasons the agent cannot do its work besides the SVID. */
export const AgentReason = {
  EXTENSIONS_API: "agent: Lambda Extensions API request failed",
} as const;
export type AgentReason = (typeof AgentReason)[keyof typeof AgentReason];

/**
 * The agent could not talk to the Lambda runtime.
 *
 * @example
 * throw new AgentError(AgentReason.EXTENSIONS_API, "register: no Lambda-Extension-Identifier");
 */
export class AgentError extends LambdaSvidError {
  declare readonly reason: AgentReason;

  constructor(reason: AgentReason, detail?: string, options?: { cause?: unknown }) {
    super(reason, detail, options);
    this.name = "AgentError";
  }
}
