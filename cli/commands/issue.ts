/**
 * `lambda-svid issue`: one issuer cycle here, with the configured CA and
 * registry, narrowed to accounts, services and environments (the issuer's own
 * narrowing, as a re-issue event gives it); or, with `--remote`, the same
 * request as a direct invoke of the deployed issuer (the planner, which queues
 * the work for its workers), printing the summary it returns.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { Command } from "commander";
import { createIssuer } from "../../functions/issuer/compose.ts";
import { loadIssuerConfig } from "../../functions/issuer/config.ts";
import type { PlanReport } from "../../functions/issuer/planner.ts";
import { formatReport } from "../../functions/issuer/report.ts";
import type { IssuerRequest, RunReport } from "../../functions/issuer/run.ts";
import { CLI_CATALOGUE } from "../config.ts";
import { EXIT_CODES_HELP, ExitCode } from "../exit.ts";
import { invokeJson } from "../invoke.ts";
import { progressBar } from "../terminal.ts";
import { accountIds, guarded, type Io, repeated } from "./io.ts";

interface IssueOptions {
  account: string[];
  service: string[];
  environment: string[];
  force?: boolean;
  remote?: boolean;
  function?: string;
}

/** The run request the options ask for: the same shape the issuer's re-issue event carries. */
function requestOf(opts: IssueOptions): IssuerRequest {
  return {
    force: opts.force === true,
    ...(opts.account.length > 0 ? { accounts: opts.account } : {}),
    ...(opts.service.length > 0 ? { services: opts.service } : {}),
    ...(opts.environment.length > 0 ? { environments: opts.environment } : {}),
  };
}

/**
 * A planner's summary: what it queued, by reason, and what was still pending.
 *
 * @example
 * io.out.write(`${formatPlan(report)}\n`);
 */
export function formatPlan(report: PlanReport): string {
  const queued = Object.entries(report.queued)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(", ");
  return [
    `planned ${report.identities} identities: queued ${queued}; pending ${report.pending}; failed before ${report.failedBefore}`,
    ...report.invalid.map((p) => `invalid registry entry: ${p.origin}: ${p.reason}`),
    ...(report.deadlineReached ? ["the deadline cut the registry refresh short"] : []),
    "the issuer workers issue what was queued; `lambda-svid status` shows their outcomes",
  ].join("\n");
}

async function issueHere(io: Io, request: IssuerRequest): Promise<void> {
  const config = loadIssuerConfig(io.env);
  if (config.queue.workQueueUrl !== undefined) {
    io.err.write(
      "lambda-svid issue: a work queue is configured (LAMBDA_SVID_WORK_QUEUE_URL): issuing here writes the secrets without the planner's record; --remote sends the request through the planner\n",
    );
  }
  // The table is the output; log lines only for problems unless POWERTOOLS_LOG_LEVEL asks for more.
  const logger = new Logger({
    serviceName: "lambda-svid-issuer",
    ...(io.env.POWERTOOLS_LOG_LEVEL ? {} : { logLevel: "WARN" as const }),
  });
  const bar = progressBar(io.err, "issuing");
  let report: RunReport;
  try {
    report = await createIssuer(config).run(
      request,
      () => Number.POSITIVE_INFINITY,
      logger,
      (done, total) => bar.update(done, total),
    );
  } finally {
    bar.finish();
  }
  io.out.write(`${formatReport(report)}\n`);
  io.exit(
    report.counts.failed > 0 || report.counts["not-reached"] > 0 ? ExitCode.ATTENTION : ExitCode.OK,
  );
}

async function issueRemote(
  io: Io,
  request: IssuerRequest,
  functionName: string | undefined,
): Promise<void> {
  const name = functionName ?? CLI_CATALOGUE.reader(io.env).read("LAMBDA_SVID_ISSUER_FUNCTION");
  if (name === undefined) {
    throw CLI_CATALOGUE.reader(io.env).refuse("LAMBDA_SVID_ISSUER_FUNCTION", "");
  }
  const answer = (await invokeJson(new LambdaClient({}), name, {
    action: "reissue",
    ...request,
  })) as PlanReport | RunReport;
  if ("counts" in answer) {
    io.out.write(`${formatReport(answer)}\n`);
    io.exit(answer.counts.failed > 0 ? ExitCode.ATTENTION : ExitCode.OK);
    return;
  }
  io.out.write(`${formatPlan(answer)}\n`);
  io.exit(ExitCode.OK);
}

/**
 * The `issue` command.
 *
 * @example
 * program.addCommand(issueCommand(io));
 */
export function issueCommand(io: Io): Command {
  return new Command("issue")
    .summary("run an issuer cycle now (here, or --remote)")
    .description(
      "Run an issuer cycle here with the configured CA and registry, or with --remote have the deployed issuer run it; print each identity's outcome (or the planner's summary).",
    )
    .option("--account <id>", "only this 12-digit account id (repeatable)", accountIds, [])
    .option("--service <name>", "only this service (repeatable)", repeated, [])
    .option("--environment <name>", "only this environment (repeatable)", repeated, [])
    .option("--force", "renew SVIDs that are still fresh")
    .option(
      "--remote",
      'invoke the deployed issuer ({"action": "reissue", ...}) instead of issuing here',
    )
    .option(
      "--function <name>",
      "with --remote: the issuer's function name or ARN (default: LAMBDA_SVID_ISSUER_FUNCTION)",
    )
    .addHelpText(
      "after",
      `
Examples:
  $ lambda-svid issue                                   # everything due
  $ lambda-svid issue --account 111122223333 --force    # renew one account now
  $ lambda-svid issue --service payments --environment prod
  $ lambda-svid issue --remote --function lambda-svid-issuer-prod --account 111122223333

Issuing here writes the tenant secrets directly, as a direct (queue-less)
issuer does; against a deployment with a work queue use --remote, so the
planner queues the work and its state table stays the record. A terminal
shows a progress bar on stderr for runs over 2 seconds.
${EXIT_CODES_HELP}`,
    )
    .action((opts: IssueOptions) =>
      guarded(io, "issue", () =>
        opts.remote
          ? issueRemote(io, requestOf(opts), opts.function)
          : issueHere(io, requestOf(opts)),
      ),
    );
}
