/**
 * `npm start`: one issuer cycle on the local default. Starts (or reuses) the
 * local AWS emulator, makes sure the example Organization exists, signs with
 * the local CA in `.local/ca`, and prints what happened to each identity.
 * Run it twice: the second run skips every identity whose SVID is still fresh.
 *
 * The issuer reads the same `LAMBDA_SVID_*` variables as the Lambda handler;
 * this command only fills in local defaults for those that are unset.
 *
 *   npm start                       one cycle
 *   npm start -- --force            renew every SVID
 *   npm start -- --account <id>     only that account (repeatable)
 */
import "reflect-metadata";
import { Logger } from "@aws-lambda-powertools/logger";
import { createIssuer } from "../functions/issuer/compose.ts";
import { loadIssuerConfig, requireSetting, SettingUser } from "../functions/issuer/config.ts";
import { formatReport } from "../functions/issuer/report.ts";
import type { IssuerRequest } from "../functions/issuer/run.ts";
import { CliError, CliReason } from "./errors.ts";
import { useLocalDefault } from "./local-default.ts";

function parseArgs(argv: string[]): IssuerRequest {
  let force = false;
  const accounts: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--force") force = true;
    else if (arg === "--account" && argv[i + 1]) accounts.push(argv[++i] as string);
    else {
      throw new CliError(CliReason.USAGE, `got ${JSON.stringify(arg)}`);
    }
  }
  return accounts.length > 0 ? { force, accounts } : { force };
}

async function main(): Promise<number> {
  const request = parseArgs(process.argv.slice(2));
  const emulator = await useLocalDefault(process.env);
  const config = loadIssuerConfig(process.env);
  const ca = requireSetting(config, "ca", SettingUser.DIRECT_RUN);
  const created = emulator.created;
  console.log(
    `local emulator ${emulator.endpoint} (${emulator.started ? "started" : "reused"}); example Organization${created > 0 ? ` created with ${created} accounts` : " found"}; CA ${ca.kind === "local" ? ca.directory : ca.arn}`,
  );
  // The table is the output; log lines only for problems unless POWERTOOLS_LOG_LEVEL asks for more.
  const logger = new Logger({
    serviceName: "lambda-svid-issuer",
    ...(process.env.POWERTOOLS_LOG_LEVEL ? {} : { logLevel: "WARN" as const }),
  });
  const report = await createIssuer(config).run(request, () => Number.POSITIVE_INFINITY, logger);
  console.log(formatReport(report));
  return report.counts.failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    console.error(`lambda-svid: ${err.message}`);
    process.exitCode = 1;
  },
);
