/**
 * `npm run bench:issuer -- --identities 1000`
 * `npm run bench:issuer -- --identities 200 --simulate-days 7`
 *
 * Runs the real issuer against a private emulator and the local CA and prints
 * its figures: throughput, issuer CPU per identity, AWS calls per issued and
 * per skipped identity, peak RSS, behaviour under 10% throttling; or, with
 * --simulate-days, the hourly schedule over simulated days with certificates
 * per identity per day, the lowest remaining lifetime seen at any run, and the
 * estimated monthly cost per identity.
 */
import "reflect-metadata";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { STSClient } from "@aws-sdk/client-sts";
import { LocalCertificateAuthority } from "../../functions/issuer/ca/local.ts";
import { checkIssued } from "../../functions/issuer/check.ts";
import { createIssuer } from "../../functions/issuer/compose.ts";
import { type IssuerConfig, loadIssuerConfig } from "../../functions/issuer/config.ts";
import { mintRequest } from "../../functions/issuer/mint.ts";
import { BACKDATE_MS, type RunReport, VALIDITY_SKEW_MS } from "../../functions/issuer/run.ts";
import { encodeSvidSecret, parseSpiffeId } from "../../layers/spiffe/index.ts";
import { type CallCount, countCalls, injectFaults, seededRandom } from "../emulator/faults.ts";
import { createOrganization } from "../emulator/organizations.ts";
import { benchEmulator, numericArgs } from "./emulator-env.ts";

const HOUR = 3_600_000;
const opts = numericArgs({ identities: 1000, simulateDays: 0, throttle: 0.1, cpuSamples: 300 });

/** Calls counted across every client the issuer builds, tenant clients included. */
class Calls {
  private readonly counters: CallCount[] = [];
  add(counter: CallCount): void {
    this.counters.push(counter);
  }
  snapshot(): Map<string, number> {
    const ops = new Map<string, number>();
    for (const c of this.counters) {
      for (const op of OPERATIONS) ops.set(op, (ops.get(op) ?? 0) + c.count(op));
    }
    return ops;
  }
}

const OPERATIONS = [
  "AssumeRole",
  "DescribeSecret",
  "CreateSecret",
  "PutSecretValue",
  "TagResource",
  "RestoreSecret",
  "ListAccounts",
  "ListTagsForResource",
] as const;
const REGISTRY_OPS = new Set(["ListAccounts", "ListTagsForResource"]);

function diff(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([op, n]) => [op, n - (before.get(op) ?? 0)]));
}

function perIdentity(calls: Map<string, number>, identities: number): string {
  const tenant = [...calls].filter(([op, n]) => !REGISTRY_OPS.has(op) && n > 0);
  const total = tenant.reduce((s, [, n]) => s + n, 0);
  const parts = tenant.map(([op, n]) => `${op} ${(n / identities).toFixed(2)}`).join(", ");
  return `${(total / identities).toFixed(2)} (${parts})`;
}

function registryCalls(calls: Map<string, number>): number {
  return [...calls].filter(([op]) => REGISTRY_OPS.has(op)).reduce((s, [, n]) => s + n, 0);
}

async function setup(identities: number, now?: () => Date, throttle = 0) {
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
  const caDir = await mkdtemp(join(tmpdir(), "lambda-svid-bench-ca-"));
  const config = loadIssuerConfig({
    LAMBDA_SVID_TRUST_DOMAIN: "example.org",
    LAMBDA_SVID_CA: `local:${caDir}`,
    LAMBDA_SVID_EXTERNAL_ID: "bench",
    LAMBDA_SVID_ORGANIZATIONS_RATE: "100",
  });
  const build = (faultRate: number) => {
    const calls = new Calls();
    const random = seededRandom(7);
    const faulty = <C extends Parameters<typeof countCalls>[0]>(client: C): C => {
      calls.add(countCalls(client));
      if (faultRate > 0) {
        injectFaults(client, {
          commands: [...OPERATIONS],
          kind: "throttle",
          probability: faultRate,
          random,
        });
      }
      return client;
    };
    const organizations = new OrganizationsClient({ credentials: org.credentials });
    calls.add(countCalls(organizations));
    const issuer = createIssuer(
      config,
      {
        organizations,
        sts: faulty(new STSClient({ maxAttempts: 8 })),
        secretsManagerFactory: (credentials) =>
          faulty(new SecretsManagerClient({ credentials, maxAttempts: 8 })),
      },
      now,
    );
    return { issuer, calls };
  };
  return { config, build, caDir, throttle };
}

const quietLogger = () =>
  new Logger({ serviceName: "lambda-svid-issuer-bench", logLevel: "ERROR" });

async function timed(
  fn: () => Promise<RunReport>,
): Promise<{ report: RunReport; seconds: number }> {
  const t0 = performance.now();
  const report = await fn();
  return { report, seconds: (performance.now() - t0) / 1000 };
}

/** Issuer-side CPU of one identity: key, CSR, verification, encoding; the CA's signing is not measured. */
async function cpuPerIdentity(
  config: IssuerConfig,
  caDir: string,
  samples: number,
): Promise<number[]> {
  const ca = await LocalCertificateAuthority.open(caDir, config.trustDomain);
  const bundle = await ca.bundle();
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const id = parseSpiffeId(`spiffe://example.org/prod/cpu${i}`);
    let c = process.cpuUsage();
    const minted = mintRequest(id, config.keyAlgorithm);
    let used = process.cpuUsage(c);
    const now = new Date();
    const notBefore = new Date(now.getTime() - BACKDATE_MS);
    const notAfter = new Date(notBefore.getTime() + config.validityMs);
    const signed = await ca.sign({
      csrPem: minted.csrPem,
      spiffeId: id,
      notBefore,
      notAfter,
      idempotencyToken: "x",
    });
    c = process.cpuUsage();
    const svid = checkIssued(signed.chainPem, minted, bundle, {
      spiffeId: id,
      notBefore,
      notAfter,
      skewMs: VALIDITY_SKEW_MS,
      now,
    });
    encodeSvidSecret(svid, bundle);
    const after = process.cpuUsage(c);
    used = { user: used.user + after.user, system: used.system + after.system };
    ms.push((used.user + used.system) / 1000);
  }
  return ms.sort((a, b) => a - b);
}

async function throughput(n: number): Promise<void> {
  console.log(`issuer bench: ${n} identities, local CA, AWS APIs on the local emulator (moto)`);
  const { config, build, caDir } = await setup(n);
  const { issuer, calls } = build(0);
  const logger = quietLogger();

  let before = calls.snapshot();
  const first = await timed(() =>
    issuer.run({ force: false }, () => Number.POSITIVE_INFINITY, logger),
  );
  const firstCalls = diff(calls.snapshot(), before);
  const c1 = first.report.counts;
  console.log(
    `first run (new accounts, all issued): wall ${first.seconds.toFixed(2)} s, ${(c1.issued / first.seconds).toFixed(1)} identities/s, issued ${c1.issued}, failed ${c1.failed}`,
  );
  console.log(
    `  AWS calls per issued identity: ${perIdentity(firstCalls, c1.issued)}; registry: ${registryCalls(firstCalls)} Organizations calls per run`,
  );

  before = calls.snapshot();
  const second = await timed(() =>
    issuer.run({ force: false }, () => Number.POSITIVE_INFINITY, logger),
  );
  const secondCalls = diff(calls.snapshot(), before);
  const c2 = second.report.counts;
  console.log(
    `second run (all fresh): wall ${second.seconds.toFixed(2)} s, ${(c2["skipped-fresh"] / second.seconds).toFixed(1)} identities/s, skipped ${c2["skipped-fresh"]}, issued ${c2.issued}`,
  );
  console.log(`  AWS calls per skipped identity: ${perIdentity(secondCalls, c2["skipped-fresh"])}`);

  before = calls.snapshot();
  const renew = await timed(() =>
    issuer.run({ force: true }, () => Number.POSITIVE_INFINITY, logger),
  );
  const renewCalls = diff(calls.snapshot(), before);
  const c3 = renew.report.counts;
  console.log(
    `forced renewal (existing secrets): wall ${renew.seconds.toFixed(2)} s, ${(c3.issued / renew.seconds).toFixed(1)} identities/s, issued ${c3.issued}, failed ${c3.failed}`,
  );
  console.log(`  AWS calls per renewed identity: ${perIdentity(renewCalls, c3.issued)}`);
  console.log(
    "  with acm-pca add IssueCertificate 1 + GetCertificate 1 per issued identity (one poll when ready)",
  );

  const cpu = await cpuPerIdentity(config, caDir, Math.min(opts.cpuSamples, n));
  const mean = cpu.reduce((s, x) => s + x, 0) / cpu.length;
  console.log(
    `issuer CPU per identity (key + CSR + verify + encode, CA signing excluded): mean ${mean.toFixed(2)} ms, p50 ${cpu[Math.floor(cpu.length / 2)]?.toFixed(2)} ms, p95 ${cpu[Math.floor(cpu.length * 0.95)]?.toFixed(2)} ms over ${cpu.length} identities (${config.keyAlgorithm})`,
  );

  const throttled = build(opts.throttle);
  before = throttled.calls.snapshot();
  const t = await timed(() =>
    throttled.issuer.run({ force: true }, () => Number.POSITIVE_INFINITY, logger),
  );
  const tc = t.report.counts;
  const tCalls = diff(throttled.calls.snapshot(), before);
  console.log(
    `with ${(opts.throttle * 100).toFixed(0)}% of STS and Secrets Manager calls throttled (forced renewal): wall ${t.seconds.toFixed(2)} s, issued ${tc.issued}, failed ${tc.failed}, attempts per identity ${perIdentity(tCalls, n)}`,
  );
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

async function simulate(n: number, days: number): Promise<void> {
  console.log(
    `issuer schedule simulation: ${n} identities, hourly runs for ${days} days, local CA, emulator`,
  );
  const start = Date.now();
  let now = start;
  const { config, build } = await setup(n, () => new Date(now));
  const { issuer, calls } = build(0);
  const logger = quietLogger();
  let certificates = 0;
  let renewals = 0;
  let lowestMs = Number.POSITIVE_INFINITY;
  let failed = 0;
  const runs = days * 24;
  for (let hour = 0; hour < runs; hour++) {
    now = start + hour * HOUR;
    const report = await issuer.run({ force: false }, () => Number.POSITIVE_INFINITY, logger);
    failed += report.counts.failed + report.counts["not-reached"];
    for (const r of report.identities) {
      if (r.outcome === "issued") {
        certificates++;
        if (r.previousNotAfter) renewals++;
      }
      const held = r.outcome === "issued" ? r.previousNotAfter : r.notAfter;
      if (held && hour > 0) lowestMs = Math.min(lowestMs, Date.parse(held) - now);
    }
  }
  const sm = [...calls.snapshot()]
    .filter(([op]) => !REGISTRY_OPS.has(op) && op !== "AssumeRole")
    .reduce((s, [, x]) => s + x, 0);
  const perDay = certificates / n / days;
  const steady = renewals / n / days;
  console.log(
    `runs ${runs}, certificates ${certificates} (${renewals} renewals), failed or not reached ${failed}`,
  );
  console.log(
    `certificates per identity per day: ${perDay.toFixed(2)} including first issuance, ${steady.toFixed(2)} steady state (renewals only)`,
  );
  console.log(
    `lowest remaining lifetime at any run: ${(lowestMs / HOUR).toFixed(2)} h (validity ${config.validityMs / HOUR} h, renew before ${config.renewBeforeMs / HOUR} h)`,
  );

  const certsPerMonth = steady * 30;
  const smCallsPerMonth = (sm / n / days) * 30;
  const secrets = 0.4 + (smCallsPerMonth / 10_000) * 0.05;
  const shortLived = certsPerMonth * 0.058 + 50 / n;
  const fleetCerts = certsPerMonth * n;
  const tiered =
    Math.min(fleetCerts, 1000) * 0.75 +
    Math.min(Math.max(fleetCerts - 1000, 0), 9000) * 0.35 +
    Math.max(fleetCerts - 10_000, 0) * 0.001;
  const general = (tiered + 400) / n;
  console.log(
    `estimated monthly cost per identity (fleet of ${n}, steady state, ${certsPerMonth.toFixed(1)} certificates and ${smCallsPerMonth.toFixed(0)} issuer Secrets Manager calls per identity per month):`,
  );
  console.log(
    `  Private CA short-lived mode: $${shortLived.toFixed(3)} ($0.058/certificate + $50/CA/month shared)`,
  );
  console.log(
    `  Private CA general-purpose mode: $${general.toFixed(3)} ($400/CA/month + tiered certificates, shared)`,
  );
  console.log(
    `  Secrets Manager: $${secrets.toFixed(3)} ($0.40/secret/month + $0.05 per 10,000 calls)`,
  );
  console.log(
    `  total: short-lived $${(shortLived + secrets).toFixed(3)}, general-purpose $${(general + secrets).toFixed(3)}`,
  );
}

const moto = await benchEmulator();
try {
  if (opts.simulateDays > 0) await simulate(opts.identities, opts.simulateDays);
  else await throughput(opts.identities);
} finally {
  await moto.stop();
}
