/**
 * Issue 9, item 2: the syncer never deletes on a doubtful source, and never
 * derives a version id or a tag from secret content without a key.
 */
import { createHash, createHmac } from "node:crypto";
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { clientRequestToken } from "../../lib/secrets/index.ts";
import { CLIENT_ID } from "./syncer-harness.ts";
import { type Harness, syncerHarnesses } from "./syncer-harnesses.ts";

const harness = syncerHarnesses();

const KEY_SECRET = "keywhiz/.lambda-svid-sync-key";
const NAMES = ["db-password", "api-key", "api-token", "limit"];

function seed(h: Harness) {
  for (const name of NAMES) h.keywhiz.setSecret(name, Buffer.from(`value of ${name}`));
  h.keywhiz.grant(CLIENT_ID, ...NAMES);
}

async function scheduledForDeletion(h: Harness): Promise<string[]> {
  const listed = await h.sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }));
  return (listed.SecretList ?? [])
    .filter((s) => s.DeletedDate !== undefined)
    .map((s) => s.Name ?? "")
    .sort();
}

async function tags(h: Harness, name: string): Promise<Record<string, string>> {
  const described = await h.sm.send(new DescribeSecretCommand({ SecretId: name }));
  return Object.fromEntries((described.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
}

async function value(h: Harness, name: string): Promise<Buffer> {
  const out = await h.sm.send(new GetSecretValueCommand({ SecretId: name }));
  return Buffer.from(out.SecretBinary as Uint8Array);
}

describe("deletion on a doubtful source", () => {
  it("a listing that is a JSON object fails the run, naming what came, and deletes nothing", async () => {
    const h = await harness();
    seed(h);
    await h.run();
    h.keywhiz.inject({ kind: "object-body" }, { endpoint: "GET /secrets" });
    const { report } = await h.run();
    expect(report.error).toBe(
      "KeywhizError: keywhiz: malformed response: GET /secrets: expected a JSON array, got an object",
    );
    expect(report.deleted).toEqual([]);
    expect(await scheduledForDeletion(h)).toEqual([]);
  });

  it("an empty listing while mirrored secrets exist deletes nothing and says so; a forced re-sync deletes", async () => {
    const h = await harness();
    seed(h);
    h.keywhiz.setSecret("extra", Buffer.from("x"));
    await h.run();
    h.keywhiz.revoke(CLIENT_ID, ...NAMES);
    const { report, output } = await h.run();
    expect(report.error).toBeUndefined();
    expect(report.ok).toBe(false);
    expect(report.deleted).toEqual([]);
    expect(report.deletionRefused).toEqual({
      reason:
        "syncer: deletion refused: Keywhiz listed no secrets while 4 mirrored secrets exist; a re-sync with force deletes them",
      secretNames: ["keywhiz/api-key", "keywhiz/api-token", "keywhiz/db-password", "keywhiz/limit"],
    });
    expect(output).toContain('"message":"deletion refused"');
    expect(await scheduledForDeletion(h)).toEqual([]);

    const forced = await h.run({ force: true });
    expect(forced.report.deletionRefused).toBeUndefined();
    expect(forced.report.deleted.map((d) => d.secretName).sort()).toEqual([
      "keywhiz/api-key",
      "keywhiz/api-token",
      "keywhiz/db-password",
      "keywhiz/limit",
    ]);
  });

  it("more than the configured share deletes nothing, while the run's other work happens", async () => {
    const h = await harness();
    seed(h);
    await h.run();
    h.keywhiz.setSecret("db-password", Buffer.from("rotated"));
    h.reconfigure({ LAMBDA_SVID_SYNC_OPT_IN: "db-password" });
    const { report } = await h.run();
    expect(report.written.map((w) => w.keywhizName)).toEqual(["db-password"]);
    expect((await value(h, "keywhiz/db-password")).toString()).toBe("rotated");
    expect(report.deleted).toEqual([]);
    expect(report.deletionRefused?.reason).toBe(
      "syncer: deletion refused: the run would delete 3 of 4 mirrored secrets (75%), more than LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT=50; a re-sync with force deletes them",
    );
    expect(await scheduledForDeletion(h)).toEqual([]);

    h.reconfigure({
      LAMBDA_SVID_SYNC_OPT_IN: "db-password",
      LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT: "75",
    });
    const allowed = await h.run();
    expect(allowed.report.deletionRefused).toBeUndefined();
    expect(await scheduledForDeletion(h)).toEqual([
      "keywhiz/api-key",
      "keywhiz/api-token",
      "keywhiz/limit",
    ]);
  });

  it("up to the share, deletion proceeds by default", async () => {
    const h = await harness({ optIn: "db-password,api-*,limit" });
    seed(h);
    await h.run();
    h.reconfigure({ LAMBDA_SVID_SYNC_OPT_IN: "db-password,limit" });
    const { report } = await h.run();
    expect(report.deletionRefused).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(await scheduledForDeletion(h)).toEqual(["keywhiz/api-key", "keywhiz/api-token"]);
  });
});

describe("keyed version ids and tags", () => {
  it("a short secret's version id and tags cannot be recomputed from guesses without the key", async () => {
    const h = await harness({ optIn: "pin" });
    h.keywhiz.fieldSet = "old";
    h.keywhiz.setSecret("pin", Buffer.from("4711"));
    h.keywhiz.grant(CLIENT_ID, "pin");
    expect((await h.run()).report.written).toHaveLength(1);

    const versions = await h.sm.send(new ListSecretVersionIdsCommand({ SecretId: "keywhiz/pin" }));
    const versionIds = (versions.Versions ?? []).map((v) => v.VersionId ?? "");
    expect(versionIds).toHaveLength(1);
    const tagValues = Object.values(await tags(h, "keywhiz/pin"));

    // What DescribeSecret shows anyone: every PIN, hashed every way the old code or a guesser would.
    const guesses = new Set<string>();
    for (let n = 0; n < 10_000; n++) {
      const pin = String(n).padStart(4, "0");
      const b64 = Buffer.from(pin).toString("base64");
      for (const version of [undefined, `updated:unknown:${pin.length}`, "updated:unknown:0"]) {
        guesses.add(
          version === undefined
            ? clientRequestToken("keywhiz/pin", b64)
            : clientRequestToken("keywhiz/pin", version, b64),
        );
      }
      guesses.add(createHash("sha256").update(pin).digest("hex"));
    }
    for (const seen of [...versionIds, ...tagValues]) expect(guesses.has(seen)).toBe(false);

    // With the key, which only the syncer's secret holds, the digest is reproducible.
    const key = await value(h, KEY_SECRET);
    expect(key).toHaveLength(32);
    const digest = (await tags(h, "keywhiz/pin"))["lambda-svid:content-hmac"];
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(tagValues).toContain(digest);
  });

  it("the key is created once, under the prefix with the owner tag, never mirrored, deleted or read by a no-op run", async () => {
    const h = await harness();
    seed(h);
    await h.run();
    expect(await tags(h, KEY_SECRET)).toMatchObject({
      "lambda-svid:owner": "lambda-svid-syncer",
      "lambda-svid:purpose": "content-key",
    });
    const key = await value(h, KEY_SECRET);
    const keyReads = () =>
      h.calls
        .inputs("GetSecretValue")
        .filter((input) => (input as { SecretId?: string }).SecretId === KEY_SECRET).length;
    expect(keyReads()).toBe(0);

    // A new container: the key is read by the first run that fetches, not by a no-op one.
    h.reconfigure({});
    const noop = await h.run();
    expect(noop.report.unchanged).toHaveLength(4);
    expect(keyReads()).toBe(0);
    h.keywhiz.setSecret("db-password", Buffer.from("rotated"));
    await h.run();
    h.keywhiz.setSecret("db-password", Buffer.from("rotated again"));
    await h.run();
    expect(keyReads()).toBe(1);
    expect(h.calls.count("CreateSecret")).toBe(5);
    expect((await value(h, KEY_SECRET)).equals(key)).toBe(true);

    h.keywhiz.revoke(CLIENT_ID, ...NAMES);
    await h.run({ force: true });
    expect(await scheduledForDeletion(h)).not.toContain(KEY_SECRET);
  });

  it("a Keywhiz secret whose mapped name is the key's is skipped; a key secret the syncer did not create fails the run", async () => {
    const h = await harness({ optIn: "db-password,.lambda-svid-sync-key" });
    seed(h);
    h.keywhiz.setSecret(".lambda-svid-sync-key", Buffer.from("attacker-chosen"));
    h.keywhiz.grant(CLIENT_ID, ".lambda-svid-sync-key");
    const { report } = await h.run();
    expect(report.skipped).toEqual([
      {
        keywhizName: ".lambda-svid-sync-key",
        secretName: KEY_SECRET,
        reason: "the mapped name is reserved for the syncer's content key",
      },
    ]);
    expect((await value(h, KEY_SECRET)).toString()).not.toBe("attacker-chosen");

    const other = await harness();
    seed(other);
    await other.sm.send(
      new CreateSecretCommand({ Name: KEY_SECRET, SecretBinary: Buffer.alloc(32, 7) }),
    );
    const refused = await other.run();
    expect(refused.report.error).toBe(
      'SyncerError: syncer: the content key secret is not usable: "keywhiz/.lambda-svid-sync-key" exists without the syncer\'s owner tag',
    );
    expect(refused.report.written).toEqual([]);

    const short = await harness();
    seed(short);
    await short.sm.send(
      new CreateSecretCommand({
        Name: KEY_SECRET,
        SecretBinary: Buffer.alloc(16, 7),
        Tags: [
          { Key: "lambda-svid:owner", Value: "lambda-svid-syncer" },
          { Key: "lambda-svid:purpose", Value: "content-key" },
        ],
      }),
    );
    const tooShort = await short.run();
    expect(tooShort.report.error).toBe(
      'SyncerError: syncer: the content key secret is not usable: "keywhiz/.lambda-svid-sync-key": secrets: a content key must be 32 bytes: got 16',
    );
    expect(tooShort.report.written).toEqual([]);
  });

  it("a value that returns to an earlier one becomes current again (A, B, A)", async () => {
    const h = await harness({ optIn: "db-password" });
    seed(h);
    for (const content of ["A-value", "B-value", "A-value"]) {
      h.keywhiz.setSecret("db-password", Buffer.from(content));
      const { report } = await h.run();
      expect(report.written.map((w) => w.keywhizName)).toEqual(["db-password"]);
      expect((await value(h, "keywhiz/db-password")).toString()).toBe(content);
    }
  });

  it("digests differ between accounts for the same content: each syncer has its own key", async () => {
    const [a, b] = [
      await harness({ optIn: "db-password" }),
      await harness({ optIn: "db-password" }),
    ];
    for (const h of [a, b]) {
      h.keywhiz.fieldSet = "old";
      h.keywhiz.setSecret("db-password", Buffer.from("same content"));
      h.keywhiz.grant(CLIENT_ID, "db-password");
      await h.run();
    }
    const [ta, tb] = [
      await tags(a as Harness, "keywhiz/db-password"),
      await tags(b as Harness, "keywhiz/db-password"),
    ];
    expect(ta["lambda-svid:content-hmac"]).toBeDefined();
    expect(ta["lambda-svid:content-hmac"]).not.toBe(tb["lambda-svid:content-hmac"]);
    const keyA = await value(a as Harness, KEY_SECRET);
    expect(ta["lambda-svid:content-hmac"]).toBe(
      createHmac("sha256", keyA)
        .update(lengthPrefixed(["keywhiz/db-password", Buffer.from("same content")]))
        .digest("hex"),
    );
  });
});

/** The keyed digest's input: each part as a 4-byte big-endian length and its bytes. */
function lengthPrefixed(parts: Array<string | Buffer>): Buffer {
  return Buffer.concat(
    parts.flatMap((p) => {
      const bytes = Buffer.from(p);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return [length, bytes];
    }),
  );
}
