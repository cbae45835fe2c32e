/**
 * Entry point of `lambda-svid`, the operator command line (the `bin` in
 * package.json runs it through tsx; `npx tsx cli/main.ts` does the same).
 *
 *   lambda-svid status [--json]
 *   lambda-svid issue [--account ID ...] [--service S] [--environment E] [--force] [--remote]
 *   lambda-svid sync --account ID [--secret NAME ...] [--force]
 *   lambda-svid verify <secret-name | file>
 *   lambda-svid report --html FILE
 */
import { main } from "./program.ts";

process.exitCode = await main(process.argv, {
  env: process.env,
  out: process.stdout,
  err: process.stderr,
  now: () => new Date(),
});
