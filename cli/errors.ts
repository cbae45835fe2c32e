/**
 * Typed errors of the operator command line, on the model the parts share: a
 * fixed `reason` prefixed `cli: ` and a message `<reason>: <detail>`.
 */
import { LambdaSvidError } from "../lib/errors/index.ts";

/** Reasons a command stops. */
export const CliReason = {
  USAGE: "cli: usage: npm start -- [--force] [--account <12-digit id>]...",
  EMULATOR_NOT_STARTED: "cli: local emulator did not start",
  NO_ACCOUNT_ID: "cli: example organization: CreateAccount returned no account id",
  FLEET_UNREADABLE: "cli: fleet: could not read",
  FLEET_CONFIG: "cli: fleet: configuration",
  SVID_UNREADABLE: "cli: verify: could not read the SVID document",
  INVOKE_FAILED: "cli: invoke: the function failed",
  INVOKE_UNREADABLE: "cli: invoke: the function's answer is not JSON",
  REPORT_UNWRITABLE: "cli: report: could not write",
  DEMO_FAILED: "cli: demo",
} as const;
export type CliReason = (typeof CliReason)[keyof typeof CliReason];

/**
 * A command that cannot go on; the message says what to do or where to look.
 *
 * @example
 * throw new CliError(CliReason.USAGE, `got ${JSON.stringify(arg)}`);
 */
export class CliError extends LambdaSvidError {
  declare readonly reason: CliReason;

  constructor(reason: CliReason, detail: string, options?: { cause?: unknown }) {
    super(reason, detail, options);
    this.name = "CliError";
  }
}
