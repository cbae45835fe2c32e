/**
 * Issue 9, item 3: Keywhiz as real servers answer — listings with
 * `secretLength: 0`, content without base64 padding, older servers without
 * `checksum` or `updateDate`, one malformed secret among good ones, and a
 * Keywhiz URL with a path.
 */
import { randomBytes } from "node:crypto";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import type { KeywhizMalformation } from "../support/keywhiz.ts";
import { CLIENT_ID } from "./syncer-harness.ts";
import { type Harness, syncerHarnesses } from "./syncer-harnesses.ts";

const harness = syncerHarnesses();

// Lengths 0, 1 and 2 modulo 3: no padding, "==" and "=" dropped.
const CONTENTS: Record<string, Buffer> = {
  "db-password": Buffer.from("hunter2-correct-horse"),
  "api-key": randomBytes(4096),
  "api-token": randomBytes(4097),
  limit: randomBytes(65_536),
};

function seed(h: Harness) {
  for (const [name, content] of Object.entries(CONTENTS)) h.keywhiz.setSecret(name, content);
  h.keywhiz.grant(CLIENT_ID, ...Object.keys(CONTENTS));
}

async function value(h: Harness, name: string): Promise<Buffer> {
  const out = await h.sm.send(new GetSecretValueCommand({ SecretId: name }));
  return Buffer.from(out.SecretBinary as Uint8Array);
}

const WRITES = ["CreateSecret", "PutSecretValue", "TagResource", "DeleteSecret", "RestoreSecret"];
const writes = (h: Harness) => WRITES.reduce((n, op) => n + h.calls.count(op), 0);

describe("Keywhiz servers as they answer", () => {
  it.each([
    ["without padding (real servers)", false],
    ["with padding", true],
  ])("content %s is mirrored byte-identical", async (_name, padding) => {
    const h = await harness();
    h.keywhiz.padding = padding;
    seed(h);
    const { report } = await h.run();
    expect(report.error).toBeUndefined();
    expect(report.written).toHaveLength(4);
    for (const [name, content] of Object.entries(CONTENTS))
      expect((await value(h, `keywhiz/${name}`)).equals(content)).toBe(true);
  });

  it("a server with checksums: a re-sync costs one listing and writes nothing, whatever the listed length", async () => {
    const h = await harness();
    seed(h);
    await h.run();
    h.keywhiz.clearLog();
    const before = writes(h);
    const { report } = await h.run();
    expect(report.unchanged).toHaveLength(4);
    expect(h.keywhiz.requests()).toBe(1);
    expect(h.keywhiz.secretBytesSent()).toBe(0);
    expect(writes(h)).toBe(before);
  });

  it("a server without checksum or updateDate: a re-sync fetches once and writes nothing; a change is written alone", async () => {
    const h = await harness();
    h.keywhiz.fieldSet = "old";
    seed(h);
    expect((await h.run()).report.written).toHaveLength(4);

    for (let i = 0; i < 2; i++) {
      h.keywhiz.clearLog();
      const before = writes(h);
      const { report } = await h.run();
      expect(report.unchanged).toHaveLength(4);
      expect(report.written).toEqual([]);
      expect(h.keywhiz.requests("GET /secrets")).toBe(1);
      expect(h.keywhiz.requests("POST /batchsecret")).toBe(1);
      expect(writes(h)).toBe(before);
    }

    h.keywhiz.setSecret("db-password", Buffer.from("new-value!!"));
    const puts = h.calls.count("PutSecretValue");
    const changed = await h.run();
    expect(changed.report.written.map((w) => w.keywhizName)).toEqual(["db-password"]);
    expect(h.calls.count("PutSecretValue") - puts).toBe(1);
    expect((await value(h, "keywhiz/db-password")).toString()).toBe("new-value!!");
  });

  it("a server upgraded to checksums retags once without rewriting, then costs one listing", async () => {
    const h = await harness();
    h.keywhiz.fieldSet = "old";
    seed(h);
    await h.run();
    h.keywhiz.fieldSet = "new";
    const puts = h.calls.count("PutSecretValue");
    const upgraded = await h.run();
    expect(upgraded.report.unchanged).toHaveLength(4);
    expect(h.calls.count("PutSecretValue")).toBe(puts);
    h.keywhiz.clearLog();
    const before = writes(h);
    await h.run();
    expect(h.keywhiz.requests()).toBe(1);
    expect(writes(h)).toBe(before);
  });

  it.each<[KeywhizMalformation, string]>([
    ["not-base64", 'keywhiz: secret content is not base64: "api-key"'],
    [
      "wrong-length",
      'keywhiz: secret content length differs from secretLength: "api-key": 4096 bytes, secretLength 4097',
    ],
    ["empty", 'keywhiz: secret content is empty: "api-key"'],
  ])(
    "one secret served %s fails alone, by name, run after run; the others are mirrored",
    async (malformed, reason) => {
      const h = await harness();
      seed(h);
      await h.run();
      h.keywhiz.setSecret("api-key", randomBytes(4096), { malformed });
      h.keywhiz.setSecret("db-password", Buffer.from("rotated"));
      for (let i = 0; i < 2; i++) {
        const { report, output } = await h.run();
        expect(report.error).toBeUndefined();
        expect(report.ok).toBe(false);
        expect(report.failed).toEqual([
          { keywhizName: "api-key", secretName: "keywhiz/api-key", reason },
        ]);
        expect(report.deleted).toEqual([]);
        expect(output).toContain(reason.replaceAll('"', '\\"'));
      }
      expect((await value(h, "keywhiz/db-password")).toString()).toBe("rotated");
      expect((await value(h, "keywhiz/api-key")).equals(CONTENTS["api-key"] as Buffer)).toBe(true);
    },
  );

  it("a bad secret in the single-fetch fallback fails alone too", async () => {
    const h = await harness();
    seed(h);
    h.keywhiz.setSecret("api-key", randomBytes(10), { malformed: "not-base64" });
    h.keywhiz.inject({ kind: "status", status: 404 }, { endpoint: "POST /batchsecret" });
    const { report } = await h.run();
    expect(report.failed).toEqual([
      {
        keywhizName: "api-key",
        secretName: "keywhiz/api-key",
        reason: 'keywhiz: secret content is not base64: "api-key"',
      },
    ]);
    expect(report.written).toHaveLength(3);
  });

  it("a path in LAMBDA_SVID_KEYWHIZ_URL is kept, with or without a trailing slash", async () => {
    const h = await harness();
    seed(h);
    await h.run();
    h.keywhiz.basePath = "/keywhiz";
    for (const url of [`${h.keywhiz.url}/`, h.keywhiz.url]) {
      h.reconfigure({ LAMBDA_SVID_KEYWHIZ_URL: url });
      h.keywhiz.setSecret("db-password", randomBytes(8));
      h.keywhiz.clearLog();
      const { report } = await h.run();
      expect(report.error).toBeUndefined();
      expect(report.written.map((w) => w.keywhizName)).toEqual(["db-password"]);
      expect(h.keywhiz.log.map((r) => r.path)).toEqual([
        "/keywhiz/secrets",
        "/keywhiz/batchsecret",
      ]);
    }
  });
});
