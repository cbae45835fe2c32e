/**
 * `npm run bench:issuer -- --identities 500`
 * `npm run bench:issuer -- --identities 5000 --first-run-only 1`
 * `npm run bench:issuer -- --identities 500 --throttle 0.1`
 *
 * Runs the queued issuer end to end against a private emulator (moto's
 * Organizations, STS, Secrets Manager, ACM PCA, SQS and DynamoDB): the real
 * planner, the work queue fed to real workers by a local stand-in for Lambda's
 * SQS event source, with the configuration's default rates; and prints what a
 * user pays for, each figure beside its goal (issue 11) and its floor: the
 * process's whole CPU (user + sys) per issued identity for a first run and a
 * renewal run, and per identity for runs with nothing due, the local CA's own
 * signing shown apart; AWS calls per identity over every service touched
 * (Organizations, STS, Secrets Manager, ACM PCA, SQS, DynamoDB), the nothing-due
 * figure amortised over a day of hourly runs; and the share of the configured
 * IssueCertificate rate sustained with the CA modelled at `--ca-answer-ms` per
 * call and certificates ready `--ca-ready-ms` after issue. `--throttle p` adds
 * a forced re-issue with that share of STS and Secrets Manager calls
 * throttled. The fleet-scale schedule (100,000 identities over days, on a
 * virtual clock) is `npm run bench:fleet`.
 */
import "reflect-metadata";
import { closeSync, openSync, writeSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import { STSClient } from "@aws-sdk/client-sts";
import { AcmPcaCertificateAuthority, acmPcaClient } from "../../functions/issuer/ca/acm-pca.ts";
import { LocalCertificateAuthority } from "../../functions/issuer/ca/local.ts";
import type {
  CertificateAuthority,
  SignedCertificate,
  SignRequest,
} from "../../functions/issuer/ca/port.ts";
import {
  createPlanner,
  createWorker,
  type IssuerClients,
  type Planner,
  type Worker,
} from "../../functions/issuer/compose.ts";
import { type IssuerConfig, loadIssuerConfig } from "../../functions/issuer/config.ts";
import type { IdentityResult } from "../../functions/issuer/issue.ts";
import type { PlanReport } from "../../functions/issuer/planner.ts";
import type { IssuerRequest } from "../../functions/issuer/run.ts";
import { parseTrustDomain, type TrustDomain, type X509Bundle } from "../../layers/spiffe/index.ts";
import { injectFaults, seededRandom } from "../emulator/faults.ts";
import { createOrganization } from "../emulator/organizations.ts";
import { createPrivateCa, type PrivateCa } from "../emulator/pca.ts";
import { createQueuedResources } from "../integration/issuer-queued-harness.ts";
import { type EventSource, startEventSource } from "../support/event-source.ts";
import { type CaLatency, modelCaLatency } from "./ca-latency.ts";
import { type CallKey, CallRecorder, type CallWindow } from "./calls.ts";
import { benchEmulator, numericArgs } from "./emulator-env.ts";
import { floorCpuMs } from "./floor.ts";

const HOUR = 3_600_000;
const opts = numericArgs({
  identities: 1000,
  throttle: 0,
  caAnswerMs: 100,
  caReadyMs: 500,
  /** 1: stop after the first run (the end-to-end figure at a size where the rest takes hours on the emulator). */
  firstRunOnly: 0,
  /** Organizations calls per second, when not the default (the header says so). */
  organizationsRate: 0,
});

/** Issue 11's goals. */
const GOAL = {
  cpuIssuedMs: 5,
  cpuNothingDueMs: 1,
  callsIssued: 5,
  callsNothingDue: 0.1,
  caRateShare: 0.95,
};

/**
 * Signs through the product's acm-pca adapter against moto's ACM PCA, so the
 * run makes the adapter's calls, waits on its rate limits and waiter, and pays
 * its SDK CPU; but hands the issuer the local CA's certificate for the same
 * CSR, because moto ignores Validity and the issuer rightly rejects its
 * 365-day certificate. Keeps each request, to replay the local signing apart.
 */
class AcmPcaCallsLocalCertificates implements CertificateAuthority {
  readonly description: string;

  constructor(
    private readonly pca: AcmPcaCertificateAuthority,
    private readonly local: LocalCertificateAuthority,
    private readonly signed: SignRequest[],
  ) {
    this.description = `${pca.description} (certificates from ${local.description})`;
  }

  async sign(request: SignRequest, signal?: AbortSignal): Promise<SignedCertificate> {
    await this.pca.sign(request, signal);
    this.signed.push(request);
    return this.local.sign(request);
  }

  async bundle(signal?: AbortSignal): Promise<X509Bundle> {
    await this.pca.bundle(signal);
    return this.local.bundle();
  }
}

interface Bench {
  planner: Planner;
  worker: Worker;
  recorder: CallRecorder;
  /** Every request the CA signed, in order. */
  signed: SignRequest[];
  config: IssuerConfig;
}

interface Fixture {
  caDir: string;
  ca: PrivateCa;
  resources: Awaited<ReturnType<typeof createQueuedResources>>;
  /** Moves the issuer's clock. */
  advance(ms: number): void;
  /** Builds the planner and a worker with their clients, as cold Lambda containers do, every client recorded. */
  build(options?: {
    latency?: CaLatency;
    throttle?: number;
    env?: Record<string, string>;
  }): Promise<Bench>;
}

async function setup(identities: number): Promise<Fixture> {
  const org = await createOrganization({
    accounts: Array.from({ length: identities }, (_, i) => ({
      name: `svc${i}`,
      tags: {
        "lambda-svid:enabled": "true",
        "lambda-svid:service": `svc${i}`,
        "lambda-svid:environment": "prod",
      },
    })),
  });
  const ca = await createPrivateCa({ commonName: "lambda-svid bench root" });
  const caDir = await mkdtemp(join(tmpdir(), "lambda-svid-bench-ca-"));
  const resources = await createQueuedResources(3, 900);
  // The local CA's root is made now, valid from a minute ago: the issuer's clock, which stands
  // still during a cycle, starts after it, however long the first registry read takes.
  await LocalCertificateAuthority.open(caDir, parseTrustDomain("example.org"));
  let at = Date.now();
  const now = () => new Date(at);
  const build = async (
    options: { latency?: CaLatency; throttle?: number; env?: Record<string, string> } = {},
  ): Promise<Bench> => {
    const config = loadIssuerConfig({
      LAMBDA_SVID_TRUST_DOMAIN: "example.org",
      LAMBDA_SVID_CA: `local:${caDir}`,
      LAMBDA_SVID_EXTERNAL_ID: "bench",
      LAMBDA_SVID_STATE_TABLE: resources.table,
      LAMBDA_SVID_WORK_QUEUE_URL: resources.workQueueUrl,
      LAMBDA_SVID_DEAD_LETTER_QUEUE_URL: resources.deadLetterQueueUrl,
      ...(opts.organizationsRate > 0
        ? { LAMBDA_SVID_ORGANIZATIONS_RATE: String(opts.organizationsRate) }
        : {}),
      ...options.env,
    });
    const recorder = new CallRecorder();
    const signed: SignRequest[] = [];
    const random = seededRandom(7);
    const throttled = <C extends Parameters<CallRecorder["attach"]>[0]>(client: C): C => {
      if (options.throttle)
        injectFaults(client, {
          commands: ["AssumeRole", "DescribeSecret", "CreateSecret", "UpdateSecret", "TagResource"],
          kind: "throttle",
          probability: options.throttle,
          random,
        });
      return recorder.attach(client);
    };
    // The clients as createPlanner and createWorker would build them, the Organization's with its management credentials.
    const organizations = recorder.attach(
      new OrganizationsClient({
        credentials: org.credentials,
        retryMode: "adaptive",
        maxAttempts: 8,
      }),
    );
    const pca = await acmPcaClient({ ...ca.clientConfig, maxAttempts: 6 });
    if (options.latency) modelCaLatency(pca, options.latency);
    recorder.attach(pca);
    const clients: IssuerClients = {
      organizations,
      sts: throttled(new STSClient({ maxAttempts: 5 })),
      sqs: recorder.attach(new SQSClient({})),
      dynamodb: recorder.attach(new DynamoDBClient({})),
      secretsManagerFactory: (credentials, shared) =>
        throttled(new SecretsManagerClient({ ...shared, credentials })),
      openCa: async (rates) =>
        new AcmPcaCallsLocalCertificates(
          new AcmPcaCertificateAuthority({
            client: pca,
            arn: ca.arn,
            trustDomain: config.trustDomain,
            firstPollMs: config.caFirstPollMs,
            ...rates,
          }),
          await LocalCertificateAuthority.open(caDir, config.trustDomain),
          signed,
        ),
    };
    return {
      planner: createPlanner(config, clients, now),
      worker: createWorker(config, clients, now),
      recorder,
      signed,
      config,
    };
  };
  return {
    caDir,
    ca,
    resources,
    advance: (ms) => {
      at += ms;
    },
    build,
  };
}

/** The issuer's logger as the handler builds it, at its default level. */
const issuerLogger = () => new Logger({ serviceName: "lambda-svid-issuer" });

/**
 * Sends what the process writes to stdout and stderr (the issuer's JSON logs)
 * to /dev/null, so writing them still costs what it costs, and counts the lines.
 */
function sinkOutput(): { restore(): number } {
  const fd = openSync("/dev/null", "w");
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((s) => s.write);
  let lines = 0;
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      for (const b of bytes) if (b === 10) lines++;
      writeSync(fd, bytes);
      const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  return {
    restore() {
      streams.forEach((s, i) => {
        s.write = writes[i] as typeof s.write;
      });
      closeSync(fd);
      return lines;
    },
  };
}

interface Measured {
  plan: PlanReport;
  results: IdentityResult[];
  seconds: number;
  /** Process user + sys CPU of the planner run and the draining of its work, ms. */
  cpuMs: number;
  /** The local CA's signing CPU for this cycle's requests, replayed apart, ms. */
  caSigningMs: number;
  /** The product's calls (planner and workers) plus the event source's receives that returned messages and its deletes. */
  calls: CallWindow;
  /** Receives the event source made that found nothing (Lambda's pollers make these whatever the load). */
  emptyReceives: number;
  logLines: number;
  /** Invocations of the worker, and the most at once. */
  invocations: number;
  peakWorkers: number;
  /** Worker invocations that threw (their batches come back after the visibility timeout). */
  invocationErrors: string[];
}

/**
 * One planner run and the draining of what it queued through the local event
 * source into workers, measured: process CPU, every AWS call, the log lines;
 * then the cycle's signing requests replayed on the local CA to measure its
 * share of that CPU.
 */
async function cycle(
  fixture: Fixture,
  bench: Bench,
  request: IssuerRequest,
  cpuFrom = process.cpuUsage(),
): Promise<Measured> {
  const window = bench.recorder.open();
  const signedBefore = bench.signed.length;
  const t0 = performance.now();
  const sink = sinkOutput();
  const results: IdentityResult[] = [];
  let plan: PlanReport;
  let logLines: number;
  let source: EventSource | undefined;
  try {
    const logger = issuerLogger();
    plan = await bench.planner.run(request, () => Number.POSITIVE_INFINITY, logger);
    const queued = Object.values(plan.queued).reduce((x, y) => x + y, 0);
    if (queued > 0) {
      source = startEventSource({
        sqs: fixture.resources.sqs,
        queueUrl: fixture.resources.workQueueUrl,
        // As serverless.yml maps the queue: up to 1,000 messages per invocation, a 5 s window.
        batchSize: 1000,
        windowMs: 5_000,
        maxConcurrency: bench.config.queue.workers,
        handler: async (records) => {
          const out = await bench.worker.handle(records, () => Number.POSITIVE_INFINITY, logger);
          results.push(...out.report.results);
          return out;
        },
      });
      // Several empty long polls in a row, not one: moto sometimes answers one receive empty while messages wait.
      await source.drained(4_000);
      await source.stop();
    }
  } finally {
    logLines = sink.restore();
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpuFrom);
  const calls = window.close();
  const caSigningMs = await localSigningCpuMs(
    fixture.caDir,
    bench.config.trustDomain,
    bench.signed.slice(signedBefore),
  );
  const eventSource = source?.requests ?? { receives: 0, emptyReceives: 0, deletes: 0 };
  return {
    plan,
    results,
    seconds,
    cpuMs: (cpu.user + cpu.system) / 1000,
    caSigningMs,
    calls: withEventSource(calls, eventSource),
    emptyReceives: eventSource.emptyReceives,
    logLines,
    invocations: source?.invocations ?? 0,
    invocationErrors: source?.errors ?? [],
    peakWorkers: source?.peakConcurrency ?? 0,
  };
}

/** Adds the event source's receives with messages and its delete batches to a window's calls, as SQS bills them. */
function withEventSource(
  calls: CallWindow,
  requests: { receives: number; deletes: number },
): CallWindow {
  const merged = new Map(calls.calls);
  const add = (key: CallKey, n: number) => {
    if (n > 0) merged.set(key, (merged.get(key) ?? 0) + n);
  };
  add("SQS ReceiveMessage", requests.receives);
  add("SQS DeleteMessageBatch", requests.deletes);
  const ofService = (service: string) =>
    [...merged.keys()].filter((key) => key.startsWith(`${service} `));
  return {
    calls: merged,
    firstAtMs: calls.firstAtMs,
    lastAtMs: calls.lastAtMs,
    total: (service) =>
      (service === undefined ? [...merged.keys()] : ofService(service)).reduce(
        (sum, key) => sum + (merged.get(key) ?? 0),
        0,
      ),
    firstAt: calls.firstAt,
  };
}

async function localSigningCpuMs(
  caDir: string,
  trustDomain: TrustDomain,
  requests: readonly SignRequest[],
): Promise<number> {
  const ca = await LocalCertificateAuthority.open(caDir, trustDomain);
  const from = process.cpuUsage();
  for (const request of requests) await ca.sign(request);
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
}

const ms = (x: number) => `${x.toFixed(2)} ms`;
/** Two decimals, three below 0.01 so a once-per-run call does not read as none. */
const fraction = (x: number) => x.toFixed(x > 0 && x < 0.01 ? 3 : 2);
const versus = (ok: boolean) => (ok ? "meets" : "MISSES");

function callsLine(calls: CallWindow, per: number): string {
  const services = new Map<string, string[]>();
  for (const [key, n] of [...calls.calls].sort()) {
    const [service, operation] = key.split(" ") as [string, string];
    services.set(service, [...(services.get(service) ?? []), `${operation} ${fraction(n / per)}`]);
  }
  return [...services]
    .map(
      ([service, ops]) => `${service} ${fraction(calls.total(service) / per)} (${ops.join(", ")})`,
    )
    .join("; ");
}

const issued = (m: Measured) => m.results.filter((r) => r.outcome === "issued").length;
const failed = (m: Measured) => m.results.filter((r) => r.outcome === "failed").length;

function issuingLines(label: string, m: Measured, floorMs: number): void {
  const n = issued(m);
  console.log(
    `${label}: wall ${m.seconds.toFixed(1)} s, queued ${sum(m.plan.queued)} (${JSON.stringify(m.plan.queued)}), issued ${n}, failed ${failed(m)}, not reached ${m.results.filter((r) => r.outcome === "not-reached").length}, worker results ${m.results.length}, registry tag reads ${m.plan.registry.tagReads}, worker invocations ${m.invocations} (at most ${m.peakWorkers} at once), ${(m.logLines / Math.max(n, 1)).toFixed(2)} log lines per identity`,
  );
  const reasons = new Map<string, number>();
  for (const r of m.results.filter((r) => r.outcome === "failed")) {
    const key = `${r.stage}: ${r.reason}`;
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  for (const error of m.invocationErrors) console.log(`  worker invocation failed: ${error}`);
  const worst = [...reasons].sort((a, b) => b[1] - a[1]);
  for (const [reason, count] of worst.slice(0, 3)) console.log(`  failed ${count}× at ${reason}`);
  if (worst.length > 3) console.log(`  (${worst.length - 3} more distinct failure reasons)`);
  const excluded = (m.cpuMs - m.caSigningMs) / n;
  console.log(
    `  process CPU per issued identity (planner + workers + the local event source): ${ms(m.cpuMs / n)} whole cycle; ${ms(excluded)} CA signing excluded (local CA signing ${ms(m.caSigningMs / n)}, replayed apart) — goal ≤ ${GOAL.cpuIssuedMs} ms CA signing excluded (${versus(excluded <= GOAL.cpuIssuedMs)}), floor ${ms(floorMs)} (${(excluded / floorMs).toFixed(0)}× floor)`,
  );
  // Organizations calls are the registry's upkeep, per account and day whatever is issued: the
  // nothing-due figure amortises them; here they are shown, not charged to issuing.
  const registry = m.calls.total("Organizations");
  const perIssued = (m.calls.total() - registry) / n;
  console.log(
    `  AWS calls per issued identity, all included (STS, the CA, Secrets Manager, SQS with the event source's receives and deletes, DynamoDB): ${perIssued.toFixed(2)} — goal ≤ ${GOAL.callsIssued} (${versus(perIssued <= GOAL.callsIssued)}), floor 4 (AssumeRole, IssueCertificate, GetCertificate, one write); with the registry reads that fell in this cycle (Organizations ${fraction(registry / n)} per identity, the registry's upkeep, amortised in the nothing-due figure) ${(m.calls.total() / n).toFixed(2)}: ${callsLine(m.calls, n)}; plus ${m.emptyReceives} empty long polls of the event source (Lambda's pollers, whatever the load)`,
  );
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Seconds from a cycle's first IssueCertificate request to its end: the issuing phase, registry and planning left out. */
function issuingPhaseSeconds(m: Measured): number {
  return m.seconds - (m.calls.firstAtMs.get("ACMPCA IssueCertificate") ?? 0) / 1000;
}

async function throughput(n: number): Promise<void> {
  const fixture = await setup(n);
  const probe = await fixture.build();
  const { config } = probe;
  console.log(
    `issuer bench: ${n} identities from Organizations account tags, through the planner, the SQS work queue (a local stand-in for Lambda's event source: batches of up to 1,000, ${config.queue.workers} workers) and the workers; AWS APIs on the local emulator (moto, its CPU not counted: another process); CA: the acm-pca adapter against moto's ACM PCA for its calls, rate limits and polls, certificates signed by the local CA (moto ignores Validity); default rates: IssueCertificate ${config.caIssueRate}/s and GetCertificate ${config.caGetRate}/s shared by the workers, Organizations ${config.organizationsRate}/s${opts.organizationsRate > 0 ? " (set by --organizations-rate, not the default)" : ""}; issuer logs at the handler's level, to /dev/null`,
  );
  const floorMs = floorCpuMs(n);
  console.log(
    `floor: ${ms(floorMs)} CPU per identity (P-256 keygen + sign + PKCS#8 PEM export, node:crypto, ${n} in this process)`,
  );

  const cpuFrom = process.cpuUsage();
  const bench = await fixture.build();
  const first = await cycle(fixture, bench, { force: false }, cpuFrom);
  issuingLines(
    "first run (the registry read in full, every identity new; clients built in it)",
    first,
    floorMs,
  );
  if (opts.firstRunOnly) return;

  fixture.advance(17 * HOUR);
  const renewal = await cycle(fixture, bench, { force: false });
  issuingLines(
    "renewal run (17 h later: every identity inside its renewal window)",
    renewal,
    floorMs,
  );

  // A day of hourly planner runs after the renewal: renewals fall due again 16 h in and are
  // drained (their calls and CPU belong to issuing); everything else is the cost of nothing due.
  let idleCalls = 0;
  let idleCpuMs = 0;
  let idleRuns = 0;
  let tagReads = 0;
  const idleByService = new Map<string, number>();
  for (let hour = 1; hour <= 24; hour++) {
    fixture.advance(HOUR);
    const m = await cycle(fixture, bench, { force: false });
    tagReads += m.plan.registry.tagReads;
    const planning = ["Organizations", "DynamoDB Scan"];
    const queued = sum(m.plan.queued);
    for (const [key, count] of m.calls.calls) {
      const isPlanning = planning.some((p) => key.startsWith(p));
      if (queued === 0 || isPlanning) {
        idleCalls += count;
        idleByService.set(key, (idleByService.get(key) ?? 0) + count);
      }
    }
    if (queued === 0) {
      idleCpuMs += m.cpuMs;
      idleRuns++;
    }
  }
  const perRun = idleCalls / (n * 24);
  const cpuIdle = idleCpuMs / (n * Math.max(idleRuns, 1));
  console.log(
    `a day of hourly runs after the renewal: ${idleRuns} of 24 with nothing due, registry tag reads ${tagReads} (each account's tags re-read once a day, events aside)`,
  );
  console.log(
    `  process CPU per identity per run with nothing due: ${ms(cpuIdle)} — goal ≤ ${GOAL.cpuNothingDueMs} ms (${versus(cpuIdle <= GOAL.cpuNothingDueMs)}), floor 0`,
  );
  console.log(
    `  AWS calls per identity per hourly run with nothing due, amortised over the day (the state table's Scan every run and the day's registry refresh; the renewal runs' planning calls included, their issuing not): ${fraction(perRun)} — goal ≤ ${GOAL.callsNothingDue} (${versus(perRun <= GOAL.callsNothingDue)}), floor 0: ${[
      ...idleByService,
    ]
      .sort()
      .map(([key, count]) => `${key} ${fraction(count / (n * 24))}`)
      .join(", ")}`,
  );

  const rateLimited = Number(process.env.LAMBDA_SVID_BENCH_CA_RATE ?? "5");
  const latency = { answerMs: opts.caAnswerMs, readyAfterMs: opts.caReadyMs };
  const slow = await fixture.build({
    latency,
    env: { LAMBDA_SVID_CA_ISSUE_RATE: String(rateLimited) },
  });
  const caRun = await cycle(fixture, slow, { force: true });
  const caIssued = issued(caRun);
  // The CA's rate while work was queued: from the first IssueCertificate to the last, as the
  // quota counts it; the last certificates' collection and the drain's idle wait are not CA time.
  const key = "ACMPCA IssueCertificate";
  const issueCalls = caRun.calls.calls.get(key) ?? 0;
  const issuingSeconds =
    ((caRun.calls.lastAtMs.get(key) ?? 0) - (caRun.calls.firstAtMs.get(key) ?? 0)) / 1000;
  const rate = (issueCalls - 1) / issuingSeconds;
  const ceiling = issued(renewal) / issuingPhaseSeconds(renewal);
  const share = rate / rateLimited;
  console.log(
    `CA rate, CA answering in ${latency.answerMs} ms, certificate ready ${latency.readyAfterMs} ms after issue (forced re-issue of ${n}; IssueCertificate rate set to ${rateLimited}/s, below what this machine and emulator sustain, ${ceiling.toFixed(1)}/s with the CA answering at once): ${rate.toFixed(2)} IssueCertificate/s sustained = ${(share * 100).toFixed(0)}% of the configured rate — goal ≥ ${GOAL.caRateShare * 100}% (${versus(share >= GOAL.caRateShare)}); ${issueCalls} IssueCertificate in ${issuingSeconds.toFixed(1)} s from the first to the last; issued ${caIssued}, failed ${failed(caRun)}, the whole cycle ${caRun.seconds.toFixed(1)} s with the registry, planning, the last certificates' collection and the drain's idle wait; ${slow.config.queue.workers} workers × ${slow.config.concurrency} in flight at most, one issue rate shared through the state table; GetCertificate ${((caRun.calls.calls.get("ACMPCA GetCertificate") ?? 0) / Math.max(caIssued, 1)).toFixed(2)} per certificate (the adapter's polls, each rate limited)`,
  );

  if (opts.throttle > 0) {
    const faulty = await fixture.build({ throttle: opts.throttle });
    const t = await cycle(fixture, faulty, { force: true });
    console.log(
      `with ${(opts.throttle * 100).toFixed(0)}% of STS and Secrets Manager calls throttled (forced re-issue): wall ${t.seconds.toFixed(1)} s, issued ${issued(t)}, failed ${failed(t)}; attempts per identity: ${callsLine(t.calls, n)}`,
    );
  }
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

const moto = await benchEmulator();
try {
  await throughput(opts.identities);
} finally {
  await moto.stop();
}
