/**
 * What every command is given: the environment it reads its configuration
 * from, the streams it writes to, and how it reports its exit code; and the
 * one place an unexpected failure becomes a message and exit code 3.
 */
import { InvalidArgumentError } from "commander";
import { ExitCode } from "../exit.ts";

export interface Io {
  env: NodeJS.ProcessEnv;
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  /** Sets the process's exit code (the last call wins). */
  exit(code: ExitCode): void;
  now(): Date;
}

/**
 * Runs a command's body; a failure it did not handle prints
 * `lambda-svid <command>: <message>` on stderr and exits
 * {@link ExitCode.UNREADABLE}. Only the error's message is printed: the
 * project's errors and the AWS SDK's never carry secret values.
 *
 * @example
 * .action((opts) => guarded(io, "status", () => status(io, opts)))
 */
export async function guarded(io: Io, command: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const text = err instanceof Error ? err.message || err.name : String(err);
    io.err.write(`lambda-svid ${command}: ${text}\n`);
    io.exit(ExitCode.UNREADABLE);
  }
}

const ACCOUNT_ID = /^\d{12}$/;

/**
 * Option parser for one `--account <id>`: a 12-digit AWS account id.
 *
 * @throws {InvalidArgumentError} which commander prints with the option and the value.
 * @example
 * .requiredOption("--account <id>", "the tenant's account id", accountId)
 */
export function accountId(value: string): string {
  if (!ACCOUNT_ID.test(value))
    throw new InvalidArgumentError("expected a 12-digit AWS account id.");
  return value;
}

/**
 * Option parser for a repeatable `--account <id>`: each a 12-digit AWS account id.
 *
 * @throws {InvalidArgumentError} which commander prints with the option and the value.
 * @example
 * .option("--account <id>", "only this account (repeatable)", accountIds, [])
 */
export function accountIds(value: string, previous: string[] = []): string[] {
  return [...previous, accountId(value)];
}

/**
 * Option parser for a repeatable option of non-empty strings.
 *
 * @example
 * .option("--service <name>", "only this service (repeatable)", repeated, [])
 */
export function repeated(value: string, previous: string[] = []): string[] {
  if (value.trim() === "") throw new InvalidArgumentError("expected a non-empty value.");
  return [...previous, value];
}
