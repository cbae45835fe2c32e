/**
 * `npm run bench:syncer -- --secrets 1000`
 *
 * Runs the real syncer against a private emulator and the Keywhiz stand-in and
 * prints, for a first sync, a no-op re-sync, and a no-op re-sync against a
 * server without checksums (older Keywhiz): wall seconds, CPU of this process
 * (the syncer and the in-process stand-in; the emulator runs apart), Keywhiz
 * requests, Secrets Manager calls by operation, bytes of secret content
 * fetched from Keywhiz, and peak RSS.
 */
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { CLIENT_ID, syncerHarness } from "../integration/syncer-harness.ts";
import { benchEmulator, numericArgs } from "./emulator-env.ts";

const opts = numericArgs({ secrets: 1000, bytes: 1024 });
const OPS = [
  "GetSecretValue",
  "ListSecrets",
  "CreateSecret",
  "PutSecretValue",
  "TagResource",
  "DeleteSecret",
  "RestoreSecret",
];

const moto = await benchEmulator();
try {
  const h = await syncerHarness({ optIn: "bench-*", keepCallInputs: false });
  const names = Array.from(
    { length: opts.secrets },
    (_, i) => `bench-${String(i).padStart(5, "0")}`,
  );
  for (const name of names) h.keywhiz.setSecret(name, randomBytes(opts.bytes));
  h.keywhiz.grant(CLIENT_ID, ...names);
  console.log(
    `syncer bench: ${opts.secrets} opted-in secrets of ${opts.bytes} bytes, Keywhiz stand-in, emulator`,
  );

  const phase = async (label: string) => {
    const before = new Map(OPS.map((op) => [op, h.calls.count(op)]));
    h.keywhiz.clearLog();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const { report } = await h.run();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const calls = OPS.map((op) => [op, h.calls.count(op) - (before.get(op) ?? 0)] as const).filter(
      ([, n]) => n > 0,
    );
    const reads = calls
      .filter(([op]) => op === "GetSecretValue" || op === "ListSecrets")
      .reduce((s, [, n]) => s + n, 0);
    const writes = calls
      .filter(([op]) => op !== "GetSecretValue" && op !== "ListSecrets")
      .reduce((s, [, n]) => s + n, 0);
    console.log(
      `${label}: wall ${seconds.toFixed(2)} s, CPU ${cpuMs.toFixed(0)} ms (${((cpuMs / opts.secrets) * 1000).toFixed(0)} µs per secret), written ${report.written.length}, unchanged ${report.unchanged.length}, failed ${report.failed.length}${report.error ? ` (${report.error})` : ""}`,
    );
    console.log(
      `  Keywhiz requests ${h.keywhiz.requests()} (${["GET /secrets", "POST /batchsecret", "GET /secret"].map((e) => `${e} ${h.keywhiz.requests(e as "GET /secrets")}`).join(", ")}), secret bytes fetched ${h.keywhiz.secretBytesSent()}`,
    );
    console.log(
      `  Secrets Manager calls: ${calls.map(([op, n]) => `${op} ${n}`).join(", ") || "none"}; reads ${reads} (${((reads / opts.secrets) * 100).toFixed(2)} per 100 managed secrets), writes ${writes}`,
    );
  };
  await phase("first sync");
  await phase("no-op re-sync (goal: 1 Keywhiz request, 0 writes)");
  h.keywhiz.fieldSet = "old";
  await phase("no-op re-sync, server without checksums (goal: 2 Keywhiz requests, 0 writes)");
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  await h.close();
} finally {
  await moto.stop();
}
