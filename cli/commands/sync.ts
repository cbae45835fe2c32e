/**
 * `lambda-svid sync`: invokes one tenant account's Keywhiz syncer with a
 * re-sync request (`{"action": "resync"}`, the shape functions/syncer/event.ts
 * accepts) and prints the summary it returns. The call goes to the syncer in
 * that account (its ARN), with the credentials of the operator role there
 * when `LAMBDA_SVID_OPERATOR_ROLE` names one (assumed through STS), or the
 * SDK's own credentials otherwise.
 */
import { LambdaClient } from "@aws-sdk/client-lambda";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { Command } from "commander";
import type { SyncReport } from "../../functions/syncer/run.ts";
import { CLI_CATALOGUE } from "../config.ts";
import { CliError, CliReason } from "../errors.ts";
import { EXIT_CODES_HELP, ExitCode } from "../exit.ts";
import { invokeJson } from "../invoke.ts";
import { accountId, guarded, type Io, repeated } from "./io.ts";

interface SyncOptions {
  account: string;
  secret: string[];
  force?: boolean;
}

function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/**
 * The syncer's summary, one line per outcome that has entries.
 *
 * @example
 * io.out.write(`${formatSync(report)}\n`);
 */
export function formatSync(report: SyncReport): string {
  const list = (label: string, items: ReadonlyArray<{ keywhizName: string; reason?: string }>) =>
    items.length === 0
      ? []
      : [
          `${label}: ${items.map((i) => i.keywhizName + (i.reason ? ` (${i.reason})` : "")).join(", ")}`,
        ];
  return [
    `syncer ${report.ok ? "ok" : "not ok"}${report.clientId ? ` as ${report.clientId}` : ""}: written ${report.written.length}, unchanged ${report.unchanged.length}, deleted ${report.deleted.length}, skipped ${report.skipped.length}, failed ${report.failed.length}; ${report.keywhizRequests} Keywhiz requests`,
    ...list("written", report.written),
    ...list("deleted", report.deleted),
    ...list("skipped", report.skipped),
    ...list("failed", report.failed),
    ...(report.deletionRefused
      ? [
          `deletion refused (${report.deletionRefused.reason}): ${report.deletionRefused.secretNames.join(", ")}; --force performs it`,
        ]
      : []),
    ...(report.notOffered.length > 0
      ? [`opted in but not offered: ${report.notOffered.join(", ")}`]
      : []),
    ...(report.error ? [`error: ${report.error}`] : []),
  ].join("\n");
}

async function sync(io: Io, opts: SyncOptions): Promise<void> {
  const account = opts.account;
  const config = CLI_CATALOGUE.reader(io.env);
  const name = config.read("LAMBDA_SVID_SYNCER_FUNCTION");
  const role = config.read("LAMBDA_SVID_OPERATOR_ROLE");
  const sts = new STSClient({});
  const region = await sts.config.region();
  const partition = partitionOf(region);
  let lambda = new LambdaClient({});
  if (role !== undefined) {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:${partition}:iam::${account}:role/${role}`,
        RoleSessionName: "lambda-svid-cli-sync",
        DurationSeconds: 900,
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) {
      throw new CliError(
        CliReason.INVOKE_FAILED,
        `AssumeRole ${role} in account ${account} returned no credentials`,
      );
    }
    lambda = new LambdaClient({
      credentials: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      },
    });
  }
  const report = (await invokeJson(
    lambda,
    `arn:${partition}:lambda:${region}:${account}:function:${name}`,
    {
      action: "resync",
      ...(opts.force ? { force: true } : {}),
      ...(opts.secret.length > 0 ? { secrets: opts.secret } : {}),
    },
  )) as SyncReport;
  io.out.write(`${formatSync(report)}\n`);
  io.exit(report.ok ? ExitCode.OK : ExitCode.ATTENTION);
}

/**
 * The `sync` command.
 *
 * @example
 * program.addCommand(syncCommand(io));
 */
export function syncCommand(io: Io): Command {
  return new Command("sync")
    .summary("invoke a tenant's Keywhiz syncer now")
    .description("Invoke one tenant account's Keywhiz syncer now and print its summary.")
    .requiredOption("--account <id>", "the tenant's 12-digit account id", accountId)
    .option("--secret <name>", "only this Keywhiz secret (repeatable)", repeated, [])
    .option(
      "--force",
      "rewrite unchanged secrets and perform deletions a doubtful source held back",
    )
    .addHelpText(
      "after",
      `
Examples:
  $ lambda-svid sync --account 111122223333
  $ lambda-svid sync --account 111122223333 --secret orders-db --force
  $ LAMBDA_SVID_OPERATOR_ROLE=lambda-svid-operator lambda-svid sync --account 111122223333

Configuration: LAMBDA_SVID_SYNCER_FUNCTION (default lambda-svid-syncer, the
tenant module's name), LAMBDA_SVID_OPERATOR_ROLE (a role in the tenant account
allowed lambda:InvokeFunction on the syncer, such as the tenant module's
operator_role, lambda-svid-operator; unset: the SDK's own credentials), and the
AWS SDK's standard settings.
A run the syncer reports not ok (a failed secret, a refused deletion) exits 1;
a syncer that failed as a whole (no valid SVID, Keywhiz unreachable) exits 3.
${EXIT_CODES_HELP}`,
    )
    .action((opts: SyncOptions) => guarded(io, "sync", () => sync(io, opts)));
}
