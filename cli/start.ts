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
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { createIssuer } from "../functions/issuer/compose.ts";
import { loadIssuerConfig } from "../functions/issuer/config.ts";
import { formatReport } from "../functions/issuer/report.ts";
import type { IssuerRequest } from "../functions/issuer/run.ts";
import { CliError, CliReason } from "./errors.ts";
import { ensureExampleOrganization } from "./example-organization.ts";
import { ensureLocalEmulator, localDir } from "./local-emulator.ts";

const LOCAL_DEFAULTS: Record<string, string> = {
  AWS_REGION: "us-east-1",
  // Moto's default account; the emulator accepts any static key.
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  LAMBDA_SVID_TRUST_DOMAIN: "example.org",
  LAMBDA_SVID_REGISTRY: "organizations",
  LAMBDA_SVID_CA: `local:${join(localDir(), "ca")}`,
  LAMBDA_SVID_EXTERNAL_ID: "lambda-svid-local",
};

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
  const emulator = await ensureLocalEmulator();
  process.env.AWS_ENDPOINT_URL = emulator.endpoint;
  for (const [key, value] of Object.entries(LOCAL_DEFAULTS)) process.env[key] ??= value;

  const config = loadIssuerConfig(process.env);
  const created = await ensureExampleOrganization(new OrganizationsClient({}));
  console.log(
    `local emulator ${emulator.endpoint} (${emulator.started ? "started" : "reused"}); example Organization${created > 0 ? ` created with ${created} accounts` : " found"}; CA ${config.ca.kind === "local" ? config.ca.directory : config.ca.arn}`,
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
