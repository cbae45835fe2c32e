import { randomBytes } from "node:crypto";
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { CLIENT_ID } from "./syncer-harness.ts";
import { type Harness, syncerHarnesses } from "./syncer-harnesses.ts";

const harness = syncerHarnesses();

const binary = randomBytes(4096);
const atLimit = randomBytes(65_536);

function seed(h: Harness) {
  h.keywhiz.setSecret("db-password", Buffer.from("hunter2-correct-horse"));
  h.keywhiz.setSecret("api-key", binary);
  h.keywhiz.setSecret("limit", atLimit);
  h.keywhiz.setSecret("not-opted", Buffer.from("never mirrored"));
  h.keywhiz.grant(CLIENT_ID, "db-password", "api-key", "limit", "not-opted");
}

async function value(h: Harness, name: string): Promise<Buffer> {
  const out = await h.sm.send(new GetSecretValueCommand({ SecretId: name }));
  return Buffer.from(out.SecretBinary as Uint8Array);
}

const writes = (h: Harness) =>
  h.calls.count("CreateSecret") +
  h.calls.count("PutSecretValue") +
  h.calls.count("TagResource") +
  h.calls.count("DeleteSecret");

describe("syncer against the emulator and the Keywhiz stand-in", () => {
  it("first run writes exactly the opted-in secrets, byte-identical, as the SVID's identity", async () => {
    const h = await harness();
    seed(h);
    const { report, output } = await h.run();
    expect(report.error).toBeUndefined();
    expect(report.written.map((w) => w.secretName).sort()).toEqual([
      "keywhiz/api-key",
      "keywhiz/db-password",
      "keywhiz/limit",
    ]);
    expect(report.notOffered).toEqual(["blob"]);
    expect((await value(h, "keywhiz/api-key")).equals(binary)).toBe(true);
    expect((await value(h, "keywhiz/limit")).equals(atLimit)).toBe(true);
    expect((await value(h, "keywhiz/db-password")).toString()).toBe("hunter2-correct-horse");
    await expect(
      h.sm.send(new DescribeSecretCommand({ SecretId: "keywhiz/not-opted" })),
    ).rejects.toThrow();

    const tags = Object.fromEntries(
      (
        (await h.sm.send(new DescribeSecretCommand({ SecretId: "keywhiz/api-key" }))).Tags ?? []
      ).map((t) => [t.Key, t.Value]),
    );
    expect(tags["lambda-svid:owner"]).toBe("lambda-svid-syncer");
    expect(tags["lambda-svid:keywhiz-name"]).toBe("api-key");
    expect(tags["lambda-svid:keywhiz-checksum"]).toBe(h.keywhiz.checksumOf(binary));

    expect(new Set(h.keywhiz.log.map((r) => r.clientId))).toEqual(new Set([CLIENT_ID]));
    expect(h.keywhiz.requests("POST /batchsecret")).toBe(1);
    for (const secret of [
      "hunter2-correct-horse",
      binary.toString("base64").slice(0, 24),
      atLimit.toString("base64").slice(0, 24),
    ]) {
      expect(output).not.toContain(secret);
    }
  });

  it("a second run fetches nothing and writes nothing; one changed secret is fetched and written alone", async () => {
    const h = await harness();
    seed(h);
    await h.run();
    h.keywhiz.clearLog();
    const before = {
      writes: writes(h),
      list: h.calls.count("ListSecrets"),
      get: h.calls.count("GetSecretValue"),
    };

    const noop = await h.run();
    expect(noop.report.unchanged).toHaveLength(3);
    expect(h.keywhiz.requests()).toBe(1);
    expect(h.keywhiz.secretBytesSent()).toBe(0);
    expect(writes(h) - before.writes).toBe(0);
    expect(h.calls.count("ListSecrets") - before.list).toBe(1);
    expect(h.calls.count("GetSecretValue") - before.get).toBe(0);

    h.keywhiz.setSecret("db-password", Buffer.from("rotated"));
    h.keywhiz.clearLog();
    const changed = await h.run();
    expect(changed.report.written.map((w) => w.keywhizName)).toEqual(["db-password"]);
    expect(h.keywhiz.requests("POST /batchsecret")).toBe(1);
    expect(h.keywhiz.secretBytesSent()).toBe("rotated".length);
    expect(h.calls.count("PutSecretValue")).toBe(1);
    expect((await value(h, "keywhiz/db-password")).toString()).toBe("rotated");
  });

  it("deletes with a recovery window what is no longer opted in or offered", async () => {
    // Two of three at once is over the default share of 50%; this identity allows it.
    const h = await harness({ env: { LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT: "70" } });
    seed(h);
    await h.run();
    h.keywhiz.deleteSecret("limit");
    h.reconfigure({ LAMBDA_SVID_SYNC_OPT_IN: "db-password,limit" });
    const { report } = await h.run();
    expect(report.deleted.map((d) => d.secretName).sort()).toEqual([
      "keywhiz/api-key",
      "keywhiz/limit",
    ]);
    const listed = await h.sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }));
    const deleted = (listed.SecretList ?? [])
      .filter((s) => s.DeletedDate !== undefined)
      .map((s) => s.Name);
    expect(deleted.sort()).toEqual(["keywhiz/api-key", "keywhiz/limit"]);
    expect((await value(h, "keywhiz/db-password")).toString()).toBe("hunter2-correct-horse");

    h.reconfigure({ LAMBDA_SVID_SYNC_OPT_IN: "db-password,api-*" });
    const back = await h.run();
    expect(back.report.written.map((w) => w.keywhizName)).toEqual(["api-key"]);
    expect((await value(h, "keywhiz/api-key")).equals(binary)).toBe(true);
  });

  it("Keywhiz down or failing the listing: nothing deleted, nothing written, run failed", async () => {
    const h = await harness();
    seed(h);
    await h.run();
    const before = writes(h);
    h.keywhiz.inject(
      { kind: "status", status: 500 },
      { endpoint: "GET /secrets", times: Number.POSITIVE_INFINITY },
    );
    const failed = await h.run();
    expect(failed.report.error).toMatch(
      /^KeywhizError: keywhiz: server unavailable: GET \/secrets returned 500/,
    );
    expect(h.keywhiz.requests("GET /secrets")).toBeGreaterThan(1);
    expect(writes(h)).toBe(before);

    h.keywhiz.clearFaults();
    h.keywhiz.inject(
      { kind: "drop" },
      { endpoint: "GET /secrets", times: Number.POSITIVE_INFINITY },
    );
    expect((await h.run()).report.error).toMatch(/^KeywhizError: keywhiz: server unavailable/);
    expect(writes(h)).toBe(before);
  });

  it("retries a transient 500 on the listing and converges", async () => {
    const h = await harness();
    seed(h);
    h.keywhiz.inject({ kind: "status", status: 503 }, { endpoint: "GET /secrets", times: 2 });
    const { report } = await h.run();
    expect(report.error).toBeUndefined();
    expect(report.written).toHaveLength(3);
    expect(h.keywhiz.requests("GET /secrets")).toBe(3);
  });

  it.each([
    [
      "a torn JSON body",
      { kind: "invalid-json" as const },
      "POST /batchsecret" as const,
      "keywhiz: malformed response: not JSON",
    ],
    [
      "duplicate names in the listing",
      { kind: "duplicate-names" as const },
      "GET /secrets" as const,
      "keywhiz: response lists a secret name more than once",
    ],
  ])("%s stops the run without writing anything", async (_name, fault, endpoint, message) => {
    const h = await harness();
    seed(h);
    h.keywhiz.inject(fault, { endpoint });
    const { report } = await h.run();
    expect(report.error).toContain(message);
    expect(writes(h)).toBe(0);
  });

  it("a batch refused with 404 falls back to single fetches; the vanished secret fails alone", async () => {
    const h = await harness();
    seed(h);
    h.keywhiz.inject({ kind: "status", status: 404 }, { endpoint: "POST /batchsecret" });
    h.keywhiz.inject({ kind: "status", status: 404 }, { endpoint: "GET /secret" });
    const { report } = await h.run();
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]?.reason).toContain("keywhiz: a requested secret does not exist");
    expect(report.written).toHaveLength(2);
  });

  it("never touches an existing secret without the owner tag, and reports name collisions", async () => {
    const h = await harness({ optIn: "db-password,a b,a_x20_b" });
    seed(h);
    h.keywhiz.setSecret("a b", Buffer.from("one"));
    h.keywhiz.setSecret("a_x20_b", Buffer.from("two"));
    h.keywhiz.grant(CLIENT_ID, "a b", "a_x20_b");
    await h.sm.send(
      new CreateSecretCommand({ Name: "keywhiz/db-password", SecretString: "hand-made" }),
    );
    const { report } = await h.run();
    expect(report.skipped.map((s) => [s.keywhizName, s.reason])).toEqual(
      expect.arrayContaining([
        ["db-password", "a secret with this name exists without the syncer's owner tag"],
        ["a b", 'maps to the same Secrets Manager name as "a_x20_b"'],
        ["a_x20_b", 'maps to the same Secrets Manager name as "a b"'],
      ]),
    );
    expect(
      (await h.sm.send(new GetSecretValueCommand({ SecretId: "keywhiz/db-password" })))
        .SecretString,
    ).toBe("hand-made");
    await expect(
      h.sm.send(new DescribeSecretCommand({ SecretId: "keywhiz/a_x20_b" })),
    ).rejects.toThrow();
  });

  it("skips secrets over the Secrets Manager size limit", async () => {
    const h = await harness();
    seed(h);
    h.keywhiz.setSecret("blob", randomBytes(65_537));
    h.keywhiz.grant(CLIENT_ID, "blob");
    const { report } = await h.run();
    expect(report.skipped).toEqual([
      {
        keywhizName: "blob",
        secretName: "keywhiz/blob",
        reason: "content is 65537 bytes; Secrets Manager allows 65536",
      },
    ]);
    expect(report.written).toHaveLength(3);
  });

  it.each([
    [
      "an expired SVID",
      { expiredSvid: true },
      'SvidSourceError: svid-secret: SVID has expired: "lambda-svid/svid": x509svid: certificate has expired',
    ],
    [
      "no SVID secret",
      { noSvid: true },
      'SvidSourceError: svid-secret: could not read the SVID secret: "lambda-svid/svid": ResourceNotFoundException',
    ],
  ])("%s: no request to Keywhiz, a clear failure", async (_name, options, message) => {
    const h = await harness(options);
    seed(h);
    const { report } = await h.run();
    expect(report.error).toContain(message);
    expect(h.keywhiz.requests()).toBe(0);
    expect(writes(h)).toBe(0);
  });

  it("a re-sync may name secrets and force a rewrite, and then deletes nothing", async () => {
    const h = await harness();
    seed(h);
    await h.run();
    h.reconfigure({ LAMBDA_SVID_SYNC_OPT_IN: "db-password,api-*" });
    const { report } = await h.run({ force: true, secrets: ["db-password"] });
    expect(report.written.map((w) => w.keywhizName)).toEqual(["db-password"]);
    expect(report.deleted).toEqual([]);
  });
});
