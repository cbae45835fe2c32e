/**
 * The `lambda-svid` program: the commands (one file each under `commands/`),
 * the global `--local` option, and commander's own outcomes (help, a bad
 * argument) turned into the documented exit codes. `main.ts` runs it.
 */
import "reflect-metadata";
import { Command, CommanderError } from "commander";
import type { Io } from "./commands/io.ts";
import { issueCommand } from "./commands/issue.ts";
import { reportCommand } from "./commands/report.ts";
import { statusCommand } from "./commands/status.ts";
import { syncCommand } from "./commands/sync.ts";
import { verifyCommand } from "./commands/verify.ts";
import { EXIT_CODES_HELP, ExitCode } from "./exit.ts";
import { useLocalDefault } from "./local-default.ts";

/**
 * Builds the program around `io`.
 *
 * @example
 * await program(io).parseAsync(process.argv);
 */
export function program(io: Io): Command {
  const root = new Command("lambda-svid")
    .description(
      "Operate lambda-svid: the fleet's identity health, issuing and syncing now, verifying an SVID, an HTML report.",
    )
    .option(
      "--local",
      "use the local default: the emulator, example Organization and local CA that npm start uses (started if needed)",
    )
    .showHelpAfterError("(add --help for usage and examples)")
    .configureOutput({
      writeOut: (s) => io.out.write(s),
      writeErr: (s) => io.err.write(s),
    })
    .exitOverride()
    .addHelpText(
      "after",
      `
Examples:
  $ lambda-svid status
  $ lambda-svid issue --account 111122223333 --force
  $ lambda-svid verify lambda-svid/svid
  $ lambda-svid --local status

Configuration comes from the same LAMBDA_SVID_* variables as the issuer and
the AWS SDK's standard settings (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL...).
${EXIT_CODES_HELP}`,
    );
  root.hook("preAction", async (self) => {
    if (self.opts<{ local?: boolean }>().local) await useLocalDefault(io.env);
  });
  for (const command of [
    statusCommand(io),
    issueCommand(io),
    syncCommand(io),
    verifyCommand(io),
    reportCommand(io),
  ]) {
    root.addCommand(command.copyInheritedSettings(root));
  }
  return root;
}

/**
 * Runs the command line on `argv` (as `process.argv`) and returns the exit code.
 *
 * @example
 * process.exitCode = await main(process.argv, io);
 */
export async function main(argv: readonly string[], io: Omit<Io, "exit">): Promise<ExitCode> {
  let code: ExitCode = ExitCode.OK;
  const withExit: Io = {
    ...io,
    exit: (c) => {
      code = c;
    },
  };
  try {
    await program(withExit).parseAsync([...argv]);
  } catch (err) {
    // Help is exit code 0; every other commander error is a usage error, already printed.
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    // What fails outside a command's own guard: the local default (--local) not starting.
    io.err.write(`lambda-svid: ${err instanceof Error ? err.message : String(err)}\n`);
    return ExitCode.UNREADABLE;
  }
  return code;
}
