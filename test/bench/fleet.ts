/**
 * `npm run bench:fleet -- --identities 100000 --days 2`
 * `npm run bench:fleet -- --identities 2000 --days 2 --workers 4`
 *
 * The fleet simulation: the real planner and worker code, through real AWS
 * SDK clients, against the modelled AWS of test/sim (latencies and quotas on
 * a virtual clock, real certificates from the modelled CA). The planner runs
 * on its hourly schedule for `--days`; the stand-in for Lambda's SQS event
 * source drains the work queue into `--workers` worker containers, each with
 * its own clients and its share of the CA rates. The event source's pollers
 * are AWS's, not the function owner's: their ReceiveMessage and
 * DeleteMessageBatch calls go to the modelled SQS directly (counted as calls,
 * their CPU as the model's), not through an SDK client in this process. A few faults are injected:
 * an account's tags changed without an event, a tenant's secret deleted by
 * someone else, and a throttling burst on STS, Secrets Manager and the CA.
 *
 * Printed per planner run with work (idle runs summarized): the virtual wall
 * time of the planner and of draining its work, AWS calls per queued
 * identity by service, CA utilisation, the in-flight peak; then over the
 * whole run: identities ever under 1 h left (checked every virtual minute),
 * certificates per identity per day, process CPU per issued identity and
 * per identity in a run with nothing due, split into the model's own (its
 * CA's signing apart), the simulation's bookkeeping and the issuer's (the
 * rest), and the monthly cost of the fleet in both Private CA modes, each
 * figure beside its goal (issue 11).
 */
import "reflect-metadata";
import { closeSync, openSync, writeSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import { STSClient } from "@aws-sdk/client-sts";
import type { SQSRecord } from "aws-lambda";
import { acmPcaClient } from "../../functions/issuer/ca/acm-pca.ts";
import {
  createPlanner,
  createWorker,
  type IssuerClients,
  type Worker,
} from "../../functions/issuer/compose.ts";
import { type IssuerConfig, loadIssuerConfig } from "../../functions/issuer/config.ts";
import type { PlanReport } from "../../functions/issuer/planner.ts";
import { seededRandom } from "../emulator/faults.ts";
import { createModelAws, type ModelAws } from "../sim/aws.ts";
import { installClock, settle } from "../sim/clock.ts";
import { monthlyCost, type Usage } from "../sim/cost.ts";
import { CpuMeter } from "../sim/cpu.ts";
import type { ObservedCall } from "../sim/handler.ts";
import type { ModelSecret } from "../sim/secrets.ts";
import { startEventSource } from "../support/event-source.ts";
import { numericArgs } from "./emulator-env.ts";
import { floorCpuMs } from "./floor.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.parse("2026-03-02T00:00:00Z");
const FIRST_ACCOUNT = 100_000_000_000;
const SECRET_NAME = "lambda-svid/svid";
/** Both functions' memory (serverless.yml) and timeout. */
const MEMORY_GB = 0.5;
const TIMEOUT_MS = 900_000;

const opts = numericArgs({ identities: 1000, days: 2, workers: 2, seed: 7 });

/** Issue 11's goals. */
const GOAL = {
  underOneHour: 0,
  callsIssued: 5,
  /** Per identity per hourly run with nothing due, amortised over the day's runs (issue 11). */
  callsNothingDuePerRun: 0.1,
  caRateShare: 0.95,
  cpuIssuedMs: 5,
  cpuNothingDueMs: 1,
};

/** The faults injected, at fixed virtual times from the start. */
const FAULTS = {
  tagChange: { at: 3 * HOUR + 10 * MINUTE, index: 1 },
  deletedSecret: { at: 6 * HOUR + 20 * MINUTE, index: 2 },
  throttling: {
    at: 16 * HOUR,
    forMs: 15 * MINUTE,
    share: 0.5,
    operations: ["STS AssumeRole", "SecretsManager UpdateSecret", "ACMPCA IssueCertificate"],
  },
};

const accountOf = (index: number) => String(FIRST_ACCOUNT + index);
const indexOf = (account: string) => Number(account) - FIRST_ACCOUNT;

/** What each identity holds, as its tenant's secret says; checked every virtual minute. */
class Holdings {
  readonly notAfter: Float64Array;
  readonly everUnderHour: Uint8Array;
  lowestMs = Number.POSITIVE_INFINITY;
  firstCompleteAt: number | undefined;
  /** When an identity that held an SVID first got a new one. */
  firstRenewalAt: number | undefined;
  private held = 0;
  /** Writes of the faulted identities: when, and for which SPIFFE ID. */
  readonly watched = new Map<number, { at: number; spiffeId: string }[]>();

  constructor(
    readonly size: number,
    private readonly excluded: ReadonlySet<number>,
  ) {
    this.notAfter = new Float64Array(size);
    this.everUnderHour = new Uint8Array(size);
  }

  /** A new current version: reads only its not-after and SPIFFE ID, keeps nothing else. */
  written(secret: ModelSecret): void {
    const i = indexOf(secret.account);
    if (!(i >= 0 && i < this.size) || secret.current?.SecretString === undefined) return;
    const doc = JSON.parse(secret.current.SecretString) as { notAfter: string; spiffeId: string };
    if (this.notAfter[i] === 0) this.held++;
    else this.firstRenewalAt ??= Date.now();
    this.notAfter[i] = Date.parse(doc.notAfter);
    if (this.held === this.size) this.firstCompleteAt ??= Date.now();
    this.watched.get(i)?.push({ at: Date.now(), spiffeId: doc.spiffeId });
  }

  check(now: number): void {
    for (let i = 0; i < this.size; i++) {
      const notAfter = this.notAfter[i] as number;
      if (notAfter === 0 || this.excluded.has(i)) continue;
      const left = notAfter - now;
      if (left < this.lowestMs) this.lowestMs = left;
      if (left < HOUR) this.everUnderHour[i] = 1;
    }
  }

  underHour(): number {
    return this.everUnderHour.reduce((n, x) => n + x, 0);
  }
}

/** Identities from the worker's first call for them (AssumeRole) to its last (a Secrets Manager answer). */
class InFlight {
  private readonly open = new Map<string, { start: number; last: number }>();
  private starts: number[] = [];
  private ends: number[] = [];

  observe(call: ObservedCall): void {
    if (call.service === "STS" && call.operation === "AssumeRole") {
      const account = /::(\d{12}):/.exec(String(call.input.RoleArn))?.[1];
      if (account === undefined) return;
      this.close(account);
      this.open.set(account, { start: call.startedAt, last: call.answeredAt });
    } else if (call.service === "SecretsManager") {
      const o = this.open.get(call.account);
      if (o !== undefined) o.last = call.answeredAt;
    }
  }

  /** The most identities in flight at once since the last call, counting those still open as ending now. */
  peak(): number {
    for (const account of [...this.open.keys()]) this.close(account);
    const events = [
      ...this.starts.map((t) => [t, 1] as const),
      ...this.ends.map((t) => [t, -1] as const),
    ].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let now = 0;
    let peak = 0;
    for (const [, d] of events) {
      now += d;
      peak = Math.max(peak, now);
    }
    this.starts = [];
    this.ends = [];
    return peak;
  }

  private close(account: string): void {
    const o = this.open.get(account);
    if (o === undefined) return;
    this.starts.push(o.start);
    this.ends.push(o.last);
    this.open.delete(account);
  }
}

/** One hourly planner run and what happened until the next. */
interface Run {
  index: number;
  at: number;
  plannerMs: number;
  report: PlanReport | undefined;
  error: string | undefined;
  queued: number;
  /** Virtual ms from the planner's end until the work queue was empty, when it was before the next run. */
  drainedMs: number | undefined;
  busyMs: number;
  issuedWhileBusy: number;
  issued: number;
  calls: Map<string, number>;
  /** Process CPU in the hour, split. */
  cpu: CpuSplit;
  inFlightPeak: number;
  workerInvocations: number;
  workerMs: number;
}

/** Error answers by `"Service Operation Code"`, throttling included. */
const errors = new Map<string, number>();

/** Lambda invocations and their virtual duration; worker invocations running now. */
const lambda = { invocations: 0, ms: 0, running: 0 };

/** The simulation's own checks and samples (not the model's, not the issuer's): their CPU is taken out. */
const bookkeeping = new CpuMeter();

function processCpuMs(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

/** Where the process's CPU went so far: the model's share (its signing apart) and the bookkeeping's. */
interface CpuSplit {
  process: number;
  model: number;
  signing: number;
  bookkeeping: number;
}

function cpuSplit(aws: ModelAws): CpuSplit {
  return {
    process: processCpuMs(),
    model: aws.handler.cpu.ms,
    signing: aws.pca.signingMs,
    bookkeeping: bookkeeping.ms,
  };
}

function cpuDiff(a: CpuSplit, b: CpuSplit): CpuSplit {
  return {
    process: b.process - a.process,
    model: b.model - a.model,
    signing: b.signing - a.signing,
    bookkeeping: b.bookkeeping - a.bookkeeping,
  };
}

function cpuSum(a: CpuSplit, b: CpuSplit): CpuSplit {
  return {
    process: a.process + b.process,
    model: a.model + b.model,
    signing: a.signing + b.signing,
    bookkeeping: a.bookkeeping + b.bookkeeping,
  };
}

/**
 * One line of a CPU split per unit of work: the process's, the model's (its CA's signing apart, and
 * the SQS calls of Lambda's pollers, which are AWS's and reach the model without an SDK client),
 * the bookkeeping's, and the issuer's, which is the rest: the planner, the workers, the SDK, the
 * stand-in event source's own batching and the virtual clock's timers (still in it: an upper bound).
 */
function cpuLine(cpu: CpuSplit, per: number): { issuer: number; text: string } {
  const each = (x: number) => `${fixed(x / Math.max(per, 1))} ms`;
  const issuer = (cpu.process - cpu.model - cpu.bookkeeping) / Math.max(per, 1);
  return {
    issuer,
    text: `the issuer's ${fixed(issuer)} ms = process ${each(cpu.process)} − the model's ${each(cpu.model)} (of which its CA's CSR checks and signing ${each(cpu.signing)}) − the simulation's bookkeeping ${each(cpu.bookkeeping)}`,
  };
}

const noCpu: CpuSplit = { process: 0, model: 0, signing: 0, bookkeeping: 0 };

function snapshot(aws: ModelAws) {
  return {
    calls: new Map(aws.handler.counts.calls),
    issued: aws.pca.issuedCount,
    units: { ...aws.dynamodb.units },
    lambda: { ...lambda },
    cpu: cpuSplit(aws),
  };
}
type Snapshot = ReturnType<typeof snapshot>;

function diffCalls(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  return new Map(
    [...b].map(([k, n]) => [k, n - (a.get(k) ?? 0)]).filter(([, n]) => n !== 0) as [
      string,
      number,
    ][],
  );
}

function byService(calls: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, n] of calls) {
    const service = key.split(" ")[0] as string;
    out.set(service, (out.get(service) ?? 0) + n);
  }
  return out;
}

const total = (calls: Map<string, number>) => [...calls.values()].reduce((a, b) => a + b, 0);
const fixed = (x: number, d = 2) => x.toFixed(x > 0 && x < 10 ** -d ? d + 2 : d);
const versus = (ok: boolean) => (ok ? "meets" : "MISSES");
const clockTime = (ms: number) => {
  const h = Math.floor((ms - START) / HOUR);
  const m = Math.floor(((ms - START) % HOUR) / MINUTE);
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function callsLine(calls: Map<string, number>, per: number): string {
  return [...byService(calls)]
    .sort()
    .map(([service, n]) => `${service} ${fixed(n / per)}`)
    .join(", ");
}

/** Sends stdout and stderr (the functions' JSON logs) to /dev/null while the simulation runs. */
function sinkOutput(): { restore(): void } {
  const fd = openSync("/dev/null", "w");
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((s) => s.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      writeSync(fd, typeof chunk === "string" ? Buffer.from(chunk) : chunk);
      (rest.find((r) => typeof r === "function") as (() => void) | undefined)?.();
      return true;
    }) as typeof stream.write;
  }
  return {
    restore() {
      streams.forEach((s, i) => {
        s.write = writes[i] as typeof s.write;
      });
      closeSync(fd);
    },
  };
}

/** The clients a container builds, as compose.ts builds its defaults, against the model. */
async function containerClients(aws: ModelAws): Promise<IssuerClients> {
  const base = aws.clientConfig();
  return {
    organizations: new OrganizationsClient({ ...base, retryMode: "adaptive", maxAttempts: 8 }),
    sts: new STSClient({ ...base, maxAttempts: 5 }),
    pca: await acmPcaClient({ ...base, maxAttempts: 6 }),
    dynamodb: new DynamoDBClient(base),
    sqs: new SQSClient(base),
    // The template: tenant clients are built from its resolved settings as in production.
    secretsManager: new SecretsManagerClient(base),
  };
}

async function simulate(): Promise<void> {
  const n = opts.identities;
  const days = opts.days;
  const faulted = new Set(
    [FAULTS.tagChange.index, FAULTS.deletedSecret.index].filter((i) => i < n),
  );
  const holdings = new Holdings(n, faulted);
  for (const i of faulted) holdings.watched.set(i, []);
  const inFlight = new InFlight();
  // The model is built on the virtual clock: its CA's validity and its quotas start there.
  const clock = installClock(START);
  const aws = createModelAws({
    externalId: "lambda-svid-sim",
    onSecretWrite: (secret) => holdings.written(secret),
  });
  aws.handler.observer = (call) => {
    inFlight.observe(call);
    if (call.error !== undefined) {
      const key = `${call.service} ${call.operation} ${call.error}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
  };
  for (let i = 0; i < n; i++) {
    aws.organizations.add(accountOf(i), {
      "lambda-svid:enabled": "true",
      "lambda-svid:service": `svc${i}`,
      "lambda-svid:environment": "prod",
    });
  }
  const table = "lambda-svid-issuer-state-sim";
  aws.dynamodb.createTable(table, "pk", "sk");
  const deadLetterQueueUrl = aws.sqs.createQueue("lambda-svid-issuer-dead-letter-sim", {
    retentionSeconds: 14 * 86_400,
  });
  const env = {
    LAMBDA_SVID_TRUST_DOMAIN: "example.org",
    LAMBDA_SVID_CA: `acm-pca:${aws.pca.arn}`,
    LAMBDA_SVID_EXTERNAL_ID: "lambda-svid-sim",
    LAMBDA_SVID_STATE_TABLE: table,
    LAMBDA_SVID_DEAD_LETTER_QUEUE_URL: deadLetterQueueUrl,
    LAMBDA_SVID_WORKERS: String(opts.workers),
  };
  // The redrive backstop is one receive past the workers' own limit, as serverless.yml sets it.
  const workQueueUrl = aws.sqs.createQueue("lambda-svid-issuer-work-sim", {
    visibilityTimeoutSeconds: 5_400,
    retentionSeconds: 345_600,
    redrive: { deadLetterQueueUrl, maxReceiveCount: loadIssuerConfig(env).queue.maxReceives + 1 },
  });
  const config: IssuerConfig = loadIssuerConfig({
    ...env,
    LAMBDA_SVID_WORK_QUEUE_URL: workQueueUrl,
  });
  const logger = new Logger({ serviceName: "lambda-svid-issuer" });

  console.log(
    `fleet simulation: ${n.toLocaleString("en")} identities (one tenant account each), ${days} days of hourly planner runs on a virtual clock; real planner and worker code and AWS SDK clients against the modelled AWS (test/sim: Organizations ${aws.organizations.latencyMs("ListTagsForResource")} ms 10/s, STS ${aws.sts.latencyMs("AssumeRole")} ms, Secrets Manager ${aws.secrets.latencyMs("UpdateSecret")} ms, ACM PCA ${aws.pca.latencyMs("IssueCertificate")} ms 25/s issue 75/s get, ready 500 ms after issue, SQS ${aws.sqs.latencyMs("ReceiveMessage")} ms, DynamoDB ${aws.dynamodb.latencyMs("Scan")} ms); configuration defaults: ${opts.workers} workers (batch 1000, window 5 s), CA ${config.caIssueRate}/s issue and ${config.caGetRate}/s get shared by the workers, Organizations ${config.organizationsRate}/s, validity ${config.validityMs / HOUR} h, renew ${config.renewBeforeMs / HOUR} h before expiry, registry refresh ${config.queue.registryRefreshMs / HOUR} h, check interval ${config.queue.checkIntervalMs / HOUR} h; functions' logs at their default level to /dev/null`,
  );
  console.log(
    `faults: at ${clockTime(START + FAULTS.tagChange.at)} account ${accountOf(FAULTS.tagChange.index)}'s service tag changed without an event; at ${clockTime(START + FAULTS.deletedSecret.at)} account ${accountOf(FAULTS.deletedSecret.index)}'s secret deleted by someone else (7-day recovery window); from ${clockTime(START + FAULTS.throttling.at)} for ${FAULTS.throttling.forMs / MINUTE} min ${FAULTS.throttling.share * 100}% of ${FAULTS.throttling.operations.join(", ")} throttled`,
  );

  const cpuFrom = cpuSplit(aws);
  const realFrom = process.hrtime.bigint();
  const sink = sinkOutput();
  const runs: Run[] = [];
  /** At each hourly run's start, and at the end. */
  const hourly: Snapshot[] = [];
  let end: Snapshot;
  /** Worker invocations that failed as a whole: their batches came back after the visibility timeout. */
  let invocationErrors: readonly string[] = [];
  try {
    const plannerClients = await containerClients(aws);
    const planner = createPlanner(config, plannerClients);
    // One container per concurrent invocation, each with its own clients and rate limiters.
    const idle: Worker[] = await Promise.all(
      Array.from({ length: opts.workers }, async () =>
        createWorker(config, await containerClients(aws)),
      ),
    );
    const source = startEventSource({
      sqs: aws.pollerQueue(),
      queueUrl: workQueueUrl,
      batchSize: 1000,
      windowMs: 5_000,
      maxConcurrency: opts.workers,
      waitSeconds: 20,
      handler: async (records: SQSRecord[]) => {
        const worker = idle.pop() as Worker;
        const started = Date.now();
        lambda.running++;
        try {
          const { batchItemFailures } = await worker.handle(
            records,
            () => started + TIMEOUT_MS - Date.now(),
            logger,
          );
          return { batchItemFailures };
        } finally {
          lambda.running--;
          lambda.invocations++;
          lambda.ms += Date.now() - started;
          const run = runs.at(-1);
          if (run) {
            run.workerInvocations++;
            run.workerMs += Date.now() - started;
          }
          idle.push(worker);
        }
      },
    });
    invocationErrors = source.errors;

    let lastIssued = 0;
    const sample = () => {
      const run = runs.at(-1);
      const depth = aws.sqs.depth(workQueueUrl);
      const issued = aws.pca.issuedCount;
      if (run) {
        // Work waiting or being worked on; not a failure waiting out its visibility timeout.
        if (depth.visible > 0 || lambda.running > 0) {
          run.busyMs += 1_000;
          run.issuedWhileBusy += issued - lastIssued;
        } else if (
          run.drainedMs === undefined &&
          run.queued > 0 &&
          run.busyMs > 0 &&
          depth.inflight === 0
        ) {
          run.drainedMs = Date.now() - (run.at + run.plannerMs);
        }
      }
      lastIssued = issued;
    };
    const sampler = setInterval(() => bookkeeping.measure(sample), 1_000);
    const minutes = setInterval(
      () => bookkeeping.measure(() => holdings.check(Date.now())),
      MINUTE,
    );

    const random = seededRandom(opts.seed);
    setTimeout(() => {
      if (n > FAULTS.tagChange.index) {
        aws.organizations.setTags(accountOf(FAULTS.tagChange.index), {
          "lambda-svid:service": `svc${FAULTS.tagChange.index}-renamed`,
        });
      }
    }, FAULTS.tagChange.at);
    setTimeout(() => {
      if (aws.secrets.get(accountOf(FAULTS.deletedSecret.index), SECRET_NAME) !== undefined) {
        aws.secrets.call(
          "DeleteSecret",
          { SecretId: SECRET_NAME, RecoveryWindowInDays: 7 },
          accountOf(FAULTS.deletedSecret.index),
        );
      }
    }, FAULTS.deletedSecret.at);
    aws.handler.injectThrottling({
      operations: FAULTS.throttling.operations,
      from: START + FAULTS.throttling.at,
      until: START + FAULTS.throttling.at + FAULTS.throttling.forMs,
      share: FAULTS.throttling.share,
      random,
    });

    const schedule = async (): Promise<Snapshot> => {
      let before = snapshot(aws);
      for (let hour = 0; hour < days * 24; hour++) {
        const at = START + hour * HOUR;
        await new Promise((resolve) => setTimeout(resolve, at - Date.now()));
        if (hour % 6 === 0) {
          // Straight to the terminal, past the sink: how far a long simulation has come.
          const real = Number(process.hrtime.bigint() - realFrom) / 1e9;
          writeSync(
            2,
            `  … virtual ${clockTime(at)}, real ${real.toFixed(0)} s, ${aws.pca.issuedCount} certificates\n`,
          );
        }
        const previous = runs.at(-1);
        const now = snapshot(aws);
        if (previous) {
          previous.calls = diffCalls(before.calls, now.calls);
          previous.issued = now.issued - before.issued;
          previous.cpu = cpuDiff(before.cpu, now.cpu);
          previous.inFlightPeak = bookkeeping.measure(() => inFlight.peak());
        }
        before = now;
        hourly.push(now);
        const run: Run = {
          index: hour,
          at,
          plannerMs: 0,
          report: undefined,
          error: undefined,
          queued: 0,
          drainedMs: undefined,
          busyMs: 0,
          issuedWhileBusy: 0,
          issued: 0,
          calls: new Map(),
          cpu: noCpu,
          inFlightPeak: 0,
          workerInvocations: 0,
          workerMs: 0,
        };
        runs.push(run);
        try {
          run.report = await planner.run(
            { force: false },
            () => at + TIMEOUT_MS - Date.now(),
            logger,
          );
          run.queued = Object.values(run.report.queued).reduce((a, b) => a + b, 0);
        } catch (err) {
          run.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        }
        run.plannerMs = Date.now() - at;
        lambda.invocations++;
        lambda.ms += run.plannerMs;
      }
      await new Promise((resolve) => setTimeout(resolve, START + days * DAY - Date.now()));
      const last = runs.at(-1);
      const now = snapshot(aws);
      hourly.push(now);
      if (last) {
        last.calls = diffCalls(before.calls, now.calls);
        last.issued = now.issued - before.issued;
        last.cpu = cpuDiff(before.cpu, now.cpu);
        last.inFlightPeak = bookkeeping.measure(() => inFlight.peak());
      }
      clearInterval(sampler);
      clearInterval(minutes);
      await source.stop();
      return now;
    };
    end = await settle(clock, schedule());
  } finally {
    clock.uninstall();
    sink.restore();
  }
  const cpu = cpuDiff(cpuFrom, cpuSplit(aws));
  const realSeconds = Number(process.hrtime.bigint() - realFrom) / 1e9;
  report({
    aws,
    config,
    runs,
    holdings,
    hourly,
    end,
    cpu,
    realSeconds,
    n,
    days,
    workQueueUrl,
    deadLetterQueueUrl,
    invocationErrors,
  });
}

interface Outcome {
  aws: ModelAws;
  config: IssuerConfig;
  runs: Run[];
  holdings: Holdings;
  hourly: Snapshot[];
  end: Snapshot;
  cpu: CpuSplit;
  realSeconds: number;
  n: number;
  days: number;
  workQueueUrl: string;
  deadLetterQueueUrl: string;
  invocationErrors: readonly string[];
}

function report(o: Outcome): void {
  const { aws, config, runs, holdings, n, days } = o;
  let idleRuns = 0;
  const idleCalls = new Map<string, number>();
  let idlePlannerMs = 0;
  let idleCpu = noCpu;
  for (const run of runs) {
    const queued = run.report?.queued;
    if (run.queued === 0 && run.error === undefined && run.issued === 0) {
      idleRuns++;
      idlePlannerMs += run.plannerMs;
      idleCpu = cpuSum(idleCpu, run.cpu);
      for (const [k, v] of run.calls) idleCalls.set(k, (idleCalls.get(k) ?? 0) + v);
      continue;
    }
    const reasons = queued
      ? Object.entries(queued)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")
      : "";
    const caShare =
      run.busyMs > 0 ? run.issuedWhileBusy / (run.busyMs / 1000) / config.caIssueRate : 0;
    const drained =
      run.drainedMs === undefined
        ? run.queued > 0
          ? "not drained before the next run"
          : "nothing queued"
        : `drained ${seconds(run.drainedMs)} after it`;
    const per = Math.max(run.queued, 1);
    console.log(
      `run ${String(run.index).padStart(2)} at ${clockTime(run.at)}: ${run.error ? `FAILED ${run.error}; ` : ""}planner ${seconds(run.plannerMs)} (${run.report?.registry.tagReads ?? 0} tag reads${run.report?.registry.staleLeft ? `, ${run.report.registry.staleLeft} stale left` : ""}), queued ${run.queued}${reasons ? ` (${reasons})` : ""}, pending ${run.report?.pending ?? 0}; ${drained}; issued ${run.issued} in the hour; CA ${(caShare * 100).toFixed(0)}% of ${config.caIssueRate}/s while queued (${seconds(run.busyMs)}); in flight ≤ ${run.inFlightPeak}; AWS calls in the hour ${total(run.calls)} = ${fixed(total(run.calls) / per)} per queued identity: ${callsLine(run.calls, per)}`,
    );
  }
  if (idleRuns > 0) {
    const perIdentity = total(idleCalls) / idleRuns / n;
    console.log(
      `${idleRuns} runs with nothing queued and nothing issued: planner ${seconds(idlePlannerMs / idleRuns)} each on average; AWS calls per identity per idle hourly run, amortised over those runs ${fixed(perIdentity, 4)} (${fixed(perIdentity * 24, 3)} a day) — goal ≤ ${GOAL.callsNothingDuePerRun} per run (${versus(perIdentity <= GOAL.callsNothingDuePerRun)}): ${callsLine(idleCalls, idleRuns * n)}`,
    );
    const idle = cpuLine(idleCpu, idleRuns * n);
    console.log(
      `  process CPU per identity per run with nothing due (the hour from the run's start): ${idle.text} — goal ≤ ${GOAL.cpuNothingDueMs} ms for the issuer (${versus(idle.issuer <= GOAL.cpuNothingDueMs)}), floor 0`,
    );
  }

  const end = o.end;
  const certificates = end.issued;
  const allCalls = end.calls;
  const under = holdings.underHour();
  console.log(
    `identities ever under 1 h left (every virtual minute, all identities once first issued, the ${holdings.watched.size} faulted ones apart): ${under} — goal ${GOAL.underOneHour} (${versus(under === GOAL.underOneHour)}); lowest remaining lifetime seen ${(holdings.lowestMs / HOUR).toFixed(2)} h; every identity first issued ${holdings.firstCompleteAt === undefined ? "NEVER" : `by ${clockTime(holdings.firstCompleteAt)}`}`,
  );
  for (const [i, writes] of holdings.watched) {
    const fault = i === FAULTS.tagChange.index ? FAULTS.tagChange : FAULTS.deletedSecret;
    const after = writes.filter((w) => w.at >= START + fault.at);
    // For the tag change, the first SVID of the new ID: a renewal of the old one may come before it.
    const first =
      i === FAULTS.tagChange.index ? after.find((w) => w.spiffeId.endsWith("-renamed")) : after[0];
    const what =
      i === FAULTS.tagChange.index
        ? `tag changed without an event at ${clockTime(START + fault.at)}: SVID for the new ID ${first?.spiffeId ?? ""} written ${first ? `at ${clockTime(first.at)}, ${((first.at - START - fault.at) / HOUR).toFixed(2)} h later` : "NEVER"}`
        : `secret deleted by someone else at ${clockTime(START + fault.at)}: ${first ? `written again at ${clockTime(first.at)}, ${((first.at - START - fault.at) / HOUR).toFixed(2)} h later` : "NEVER written again"}; now ${aws.secrets.get(accountOf(i), SECRET_NAME)?.deletedAt === undefined ? "not" : "STILL"} scheduled for deletion`;
    console.log(`  account ${accountOf(i)}: ${what}`);
  }
  const unknown = aws.handler.counts.unknown;
  if (unknown.size > 0) {
    console.log(
      `MODEL GAP: operations the model does not implement were called and answered UnknownOperationException, so these figures are not the product's: ${[...unknown].map(([k, v]) => `${k} ${v}`).join(", ")}`,
    );
  }
  console.log(
    `error answers (throttling included): ${[...errors].map(([k, v]) => `${k} ${v}`).join(", ") || "none"}`,
  );
  const deadLetters = new Map<string, number>();
  for (const a of aws.sqs.attributesOf(o.deadLetterQueueUrl)) {
    const key = `${a.stage?.StringValue ?? "?"}: ${a.reason?.StringValue ?? "?"}`;
    deadLetters.set(key, (deadLetters.get(key) ?? 0) + 1);
  }
  if (deadLetters.size > 0) {
    console.log(
      `dead-lettered, by stage and reason: ${[...deadLetters].map(([k, v]) => `${v} × ${k}`).join("; ")}`,
    );
  }
  const throttled = total(aws.handler.counts.throttled);
  const dlq = aws.sqs.depth(o.deadLetterQueueUrl);
  const work = aws.sqs.depth(o.workQueueUrl);
  console.log(
    `throttled answers ${throttled} (${[...aws.handler.counts.throttled].map(([k, v]) => `${k} ${v}`).join(", ")}); dead-letter queue ${dlq.visible + dlq.inflight} messages; work queue at the end ${work.visible} visible, ${work.inflight} in flight; worker invocations failed as a whole ${o.invocationErrors.length}${o.invocationErrors.length > 0 ? ` (their batches came back after the visibility timeout; first: ${o.invocationErrors[0]})` : ""}`,
  );
  const perDay = certificates / n / days;
  console.log(
    `certificates per identity per day: ${perDay.toFixed(2)} over the ${days} days including first issuance (${certificates} certificates); floor ${(DAY / config.validityMs).toFixed(2)} (validity ${config.validityMs / HOUR} h), ${(DAY / (config.validityMs - config.renewBeforeMs)).toFixed(2)} renewing ${config.renewBeforeMs / HOUR} h early`,
  );
  console.log(
    `AWS calls per identity per day, whole run, every service: ${fixed(total(allCalls) / n / days)}: ${callsLine(allCalls, n * days)}`,
  );
  const perIssued = total(allCalls) / Math.max(certificates, 1);
  const registry =
    [...allCalls].filter(([k]) => k.startsWith("Organizations ")).reduce((a, [, v]) => a + v, 0) /
    Math.max(certificates, 1);
  const issuing = perIssued - registry;
  console.log(
    `AWS calls per issued certificate, whole run, every service: ${perIssued.toFixed(2)}: ${[
      ...allCalls,
    ]
      .sort()
      .map(([k, v]) => `${k} ${fixed(v / Math.max(certificates, 1))}`)
      .join(
        ", ",
      )}; without the registry's upkeep (Organizations ${fixed(registry)}, which the goal amortises into the nothing-due figure) ${issuing.toFixed(2)} — goal ≤ ${GOAL.callsIssued} (${versus(issuing <= GOAL.callsIssued)})`,
  );
  const busy = runs.reduce((a, r) => a + r.busyMs, 0);
  const issuedBusy = runs.reduce((a, r) => a + r.issuedWhileBusy, 0);
  const share = busy > 0 ? issuedBusy / (busy / 1000) / config.caIssueRate : 0;
  console.log(
    `CA utilisation while work was queued: ${(issuedBusy / Math.max(busy / 1000, 1)).toFixed(1)} IssueCertificate/s over ${seconds(busy)} = ${(share * 100).toFixed(0)}% of the configured ${config.caIssueRate}/s — goal ≥ ${GOAL.caRateShare * 100}% (${versus(share >= GOAL.caRateShare)}); the queue also holds checks, which need no certificate`,
  );
  const whole = cpuLine(o.cpu, certificates);
  const floorMs = floorCpuMs(1000);
  console.log(
    `process CPU per issued certificate, whole simulation (${(o.cpu.process / Math.max(certificates, 1)).toFixed(2)} ms): ${whole.text} — goal ≤ ${GOAL.cpuIssuedMs} ms for the issuer, CA signing excluded (${versus(whole.issuer <= GOAL.cpuIssuedMs)}), floor ${floorMs.toFixed(2)} ms (P-256 keygen + sign + PKCS#8 PEM, node:crypto; ${(whole.issuer / floorMs).toFixed(0)}× floor); real time ${o.realSeconds.toFixed(0)} s for ${days * 24} virtual hours; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
  );

  // Steady state: whole renewal periods ending at the end, from the first renewal on, so a
  // window does not catch one wave more or less than a month averages. Else the whole run.
  const periodHours = (config.validityMs - config.renewBeforeMs) / HOUR;
  const firstRenewalHour =
    holdings.firstRenewalAt === undefined
      ? undefined
      : Math.ceil((holdings.firstRenewalAt - START) / HOUR);
  const periods =
    firstRenewalHour === undefined ? 0 : Math.floor((days * 24 - firstRenewalHour) / periodHours);
  const steady = periods > 0 && Number.isInteger(periodHours);
  const windowHours = steady ? periods * periodHours : days * 24;
  const from = steady
    ? (o.hourly[days * 24 - windowHours] as Snapshot)
    : {
        calls: new Map<string, number>(),
        issued: 0,
        units: { read: 0, write: 0 },
        lambda: { invocations: 0, ms: 0, running: 0 },
        cpu: noCpu,
      };
  const windowDays = windowHours / 24;
  const calls = diffCalls(from.calls, end.calls);
  const svc = byService(calls);
  const usage: Usage = {
    days: windowDays,
    identities: n,
    certificates: end.issued - from.issued,
    secrets: n,
    secretsManagerCalls: svc.get("SecretsManager") ?? 0,
    sqsRequests: svc.get("SQS") ?? 0,
    dynamodbWriteUnits: end.units.write - from.units.write,
    dynamodbReadUnits: end.units.read - from.units.read,
    lambdaInvocations: end.lambda.invocations - from.lambda.invocations,
    lambdaGbSeconds: ((end.lambda.ms - from.lambda.ms) / 1000) * MEMORY_GB,
  };
  const cost = monthlyCost(usage);
  const each = (x: number) => `$${(x / n).toFixed(4)}`;
  const fleet = (x: number) =>
    `$${x.toLocaleString("en", { maximumFractionDigits: 2, minimumFractionDigits: 2 })}`;
  console.log(
    `monthly cost from ${steady ? `the last ${windowHours} h (${periods} renewal period(s) of ${periodHours} h from the first renewal), steady state, first issuance left out` : `all ${days} day(s), first issuance included`}, scaled to 30 days: ${(usage.certificates / windowDays / n).toFixed(2)} certificates per identity per day, ${fixed(usage.secretsManagerCalls / windowDays / n)} Secrets Manager, ${fixed(usage.sqsRequests / windowDays / n)} SQS calls per identity per day, DynamoDB ${fixed(usage.dynamodbWriteUnits / windowDays / n)} write and ${fixed(usage.dynamodbReadUnits / windowDays / n)} read units per identity per day, Lambda ${usage.lambdaInvocations} invocations and ${usage.lambdaGbSeconds.toFixed(0)} GB-s (${MEMORY_GB * 1024} MB) in the window`,
  );
  console.log(
    `  per identity: Private CA short-lived ${each(cost.shortLivedCa)} or general-purpose ${each(cost.generalPurposeCa)}; Secrets Manager ${each(cost.secretsManager)}; SQS ${each(cost.sqs)}; DynamoDB ${each(cost.dynamodb)}; Lambda ${each(cost.lambda)}; total ${each(cost.totalShortLived)} short-lived, ${each(cost.totalGeneralPurpose)} general-purpose`,
  );
  console.log(
    `  fleet of ${n.toLocaleString("en")}: short-lived ${fleet(cost.totalShortLived)} (CA ${fleet(cost.shortLivedCa)}), general-purpose ${fleet(cost.totalGeneralPurpose)} (CA ${fleet(cost.generalPurposeCa)}); Secrets Manager ${fleet(cost.secretsManager)}, SQS ${fleet(cost.sqs)}, DynamoDB ${fleet(cost.dynamodb)}, Lambda ${fleet(cost.lambda)} a month`,
  );
}

await simulate();
