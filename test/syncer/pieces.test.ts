import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadSyncerConfig } from "../../functions/syncer/config.ts";
import { refuseDeletion } from "../../functions/syncer/deletion.ts";
import {
  KeywhizError,
  KeywhizReason,
  SyncerError,
  SyncerEventError,
  SyncerEventReason,
  SyncerReason,
} from "../../functions/syncer/errors.ts";
import { parseSyncerEvent } from "../../functions/syncer/event.ts";
import { parseListing, parseSecrets } from "../../functions/syncer/keywhiz/model.ts";
import { findCollisions, secretsManagerName, toTagValue } from "../../functions/syncer/names.ts";
import { OptIn } from "../../functions/syncer/opt-in.ts";
import { ConfigError } from "../../lib/config/index.ts";
import { ContentKey, ContentKeyError, ContentKeyReason } from "../../lib/secrets/index.ts";
import { thrown } from "../support/thrown.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe("opt-in list", () => {
  const optIn = OptIn.parse(" db-password , api-*, tls?.pem ,");
  it("matches exact names and simple globs only", () => {
    expect(optIn.matches("db-password")).toBe(true);
    expect(optIn.matches("api-key")).toBe(true);
    expect(optIn.matches("api-")).toBe(true);
    expect(optIn.matches("tls1.pem")).toBe(true);
    expect(optIn.matches("tls12.pem")).toBe(false);
    expect(optIn.matches("db-password2")).toBe(false);
    expect(optIn.matches("xapi-key")).toBe(false);
  });

  it("glob metacharacters of regular expressions are literal", () => {
    const o = new OptIn(["a.b*", "(x)|y"]);
    expect(o.matches("a.bc")).toBe(true);
    expect(o.matches("aXbc")).toBe(false);
    expect(o.matches("(x)|y")).toBe(true);
    expect(o.matches("y")).toBe(false);
  });

  it("reports entries that match nothing offered", () => {
    expect(optIn.unmatched(["db-password", "other"])).toEqual(["api-*", "tls?.pem"]);
  });

  it("refuses an empty entry, naming its position", () => {
    const err = thrown(() => new OptIn(["db", ""]), SyncerError);
    expect(err.reason).toBe(SyncerReason.EMPTY_OPT_IN);
    expect(err.message).toBe("syncer: opt-in entries cannot be empty: entry 1");
  });
});

describe("Secrets Manager names", () => {
  it("keeps allowed characters and escapes the others deterministically", () => {
    expect(secretsManagerName("keywhiz/", "db_password.v2")).toBe("keywhiz/db_password.v2");
    expect(secretsManagerName("keywhiz/", "a b")).toBe("keywhiz/a_x20_b");
    expect(secretsManagerName("keywhiz/", "é")).toBe("keywhiz/_xc3a9_");
    expect(secretsManagerName("keywhiz/", "x".repeat(600))).toBeUndefined();
  });

  it("never ends like an ARN's random suffix", () => {
    expect(secretsManagerName("keywhiz/", "service-abc123")).toBe("keywhiz/service-abc123_");
  });

  it("every mapped name uses only Secrets Manager's characters", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (name) => {
        const mapped = secretsManagerName("keywhiz/", name);
        expect(mapped).toMatch(/^[A-Za-z0-9/_+=.@-]+$/);
      }),
    );
  });

  it("finds collisions", () => {
    const mapped = new Map([
      ["a b", "keywhiz/a_x20_b"],
      ["a_x20_b", "keywhiz/a_x20_b"],
      ["c", "keywhiz/c"],
    ]);
    expect(findCollisions(mapped)).toEqual([["a b", "a_x20_b"]]);
  });

  it("tag values carry names that tags cannot hold", () => {
    expect(toTagValue("db-password")).toBe("db-password");
    expect(toTagValue("a,b")).toBe(`b64:${Buffer.from("a,b").toString("base64url")}`);
    expect(toTagValue("x,".repeat(200))).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe("Keywhiz responses", () => {
  const item = {
    name: "db",
    secretLength: 3,
    checksum: "abc",
    creationDate: "2026-01-01T00:00:00Z",
    updateDate: "2026-01-02T00:00:00Z",
    mode: "0400",
    metadata: { a: "b" },
    future: 1,
  };

  it("parses listings, ignoring unknown fields", () => {
    expect(parseListing(JSON.stringify([item]))).toEqual([
      { name: "db", secretLength: 3, checksum: "abc" },
    ]);
  });

  it("parses real listings: empty secret, length 0, and from older servers no checksum", () => {
    const real = { name: "db", secret: "", secretLength: 0, isVersioned: false };
    expect(parseListing(JSON.stringify([real]))).toEqual([
      { name: "db", secretLength: 0, checksum: undefined },
    ]);
  });

  it.each([
    ["an object", JSON.stringify(item), "got an object"],
    ["null", "null", "got null"],
    ["a string", '"[]"', "got a string"],
  ])("refuses a listing that is %s, naming what came", (_name, body, got) => {
    const err = thrown(() => parseListing(body), KeywhizError);
    expect(err.reason).toBe(KeywhizReason.MALFORMED);
    expect(err.message).toBe(
      `keywhiz: malformed response: GET /secrets: expected a JSON array, ${got}`,
    );
  });

  it("decodes base64 content exactly, binary included, with or without padding", () => {
    for (const length of [1, 2, 3, 4, 5, 300]) {
      const bytes = Buffer.from(Array.from({ length }, (_, i) => (i * 37 + 250) % 256));
      for (const secret of [
        bytes.toString("base64"),
        bytes.toString("base64").replace(/=+$/, ""),
      ]) {
        const { secrets, problems } = parseSecrets(
          JSON.stringify([{ ...item, secretLength: length, secret }]),
        );
        expect(problems).toEqual([]);
        expect(secrets[0]?.content.equals(bytes)).toBe(true);
      }
    }
  });

  it.each([
    ["not base64", "c2VjcmV0!!", 6, 'keywhiz: secret content is not base64: "db"'],
    ["base64url", "-_8", 2, 'keywhiz: secret content is not base64: "db"'],
    ["impossibly long unpadded", "YWJjZ", 4, 'keywhiz: secret content is not base64: "db"'],
    ["badly padded", "YQ=", 1, 'keywhiz: secret content is not base64: "db"'],
    ["empty", "", 0, 'keywhiz: secret content is empty: "db"'],
    [
      "of another length",
      "YWJj",
      4,
      'keywhiz: secret content length differs from secretLength: "db": 3 bytes, secretLength 4',
    ],
  ])(
    "content that is %s is that secret's problem alone, named, content not echoed",
    (_name, secret, secretLength, message) => {
      const good = { name: "ok", secretLength: 2, secret: "b2s" };
      const { secrets, problems } = parseSecrets(
        JSON.stringify([{ ...item, secret, secretLength }, good]),
      );
      expect(secrets.map((s) => [s.name, s.content.toString()])).toEqual([["ok", "ok"]]);
      expect(problems.map((p) => [p.name, p.error.message])).toEqual([["db", message]]);
    },
  );

  it("a single fetch must be an object, a batch an array", () => {
    expect(parseSecrets(JSON.stringify({ ...item, secret: "YWJj" }), true).secrets).toHaveLength(1);
    expect(thrown(() => parseSecrets("[]", true), KeywhizError).message).toBe(
      "keywhiz: malformed response: GET /secret: expected a JSON object, got an array",
    );
    expect(thrown(() => parseSecrets("{}"), KeywhizError).message).toBe(
      "keywhiz: malformed response: POST /batchsecret: expected a JSON array, got an object",
    );
  });

  it.each([
    ["not JSON", "{nope", KeywhizReason.MALFORMED],
    ["not objects", "[1]", KeywhizReason.MALFORMED],
    ["no name", JSON.stringify([{ secretLength: 1 }]), KeywhizReason.MALFORMED],
    ["bad length", JSON.stringify([{ name: "a", secretLength: -1 }]), KeywhizReason.MALFORMED],
    ["duplicates", JSON.stringify([item, item]), KeywhizReason.DUPLICATE_NAMES],
  ])("refuses a listing that is %s", (_name, body, reason) => {
    expect(thrown(() => parseListing(body), KeywhizError).reason).toBe(reason);
  });

  it("never echoes a malformed body", () => {
    const err = thrown(() => parseListing('[{"name": "db", "secret": "hunter2"'), KeywhizError);
    expect(err.message).not.toContain("hunter2");
  });
});

describe("syncer configuration and events", () => {
  const env = {
    LAMBDA_SVID_KEYWHIZ_URL: "https://keywhiz.internal:4444",
    LAMBDA_SVID_KEYWHIZ_CA: CA,
    LAMBDA_SVID_SYNC_OPT_IN: "db,api-*",
  };

  it("applies defaults", () => {
    const c = loadSyncerConfig(env);
    expect(c.prefix).toBe("keywhiz/");
    expect(c.svidSecretName).toBe("lambda-svid/svid");
    expect(c.recoveryWindowDays).toBe(7);
    expect(c.maxDeletePercent).toBe(50);
    expect(c.optIn.matches("api-x")).toBe(true);
  });

  it("keeps a path in the Keywhiz URL", () => {
    const c = loadSyncerConfig({
      ...env,
      LAMBDA_SVID_KEYWHIZ_URL: "https://kw.internal:4444/keywhiz/",
    });
    expect(c.keywhizUrl.href).toBe("https://kw.internal:4444/keywhiz/");
    expect(
      loadSyncerConfig({ ...env, LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT: "100" }).maxDeletePercent,
    ).toBe(100);
  });

  it("refuses a Keywhiz URL with a password without echoing it", () => {
    const err = thrown(
      () => loadSyncerConfig({ ...env, LAMBDA_SVID_KEYWHIZ_URL: "https://u:hunter2@kw.internal/" }),
      ConfigError,
    );
    expect(err.message).toBe(
      "config: LAMBDA_SVID_KEYWHIZ_URL is invalid; expected an https:// URL, optionally with a path, without user, query or fragment",
    );
  });

  it.each([
    [{ LAMBDA_SVID_KEYWHIZ_URL: "http://keywhiz" }, "LAMBDA_SVID_KEYWHIZ_URL"],
    [{ LAMBDA_SVID_KEYWHIZ_URL: "::" }, "LAMBDA_SVID_KEYWHIZ_URL"],
    [{ LAMBDA_SVID_KEYWHIZ_CA: "/does/not/exist.pem" }, "LAMBDA_SVID_KEYWHIZ_CA"],
    [{ LAMBDA_SVID_SYNC_OPT_IN: " , " }, "LAMBDA_SVID_SYNC_OPT_IN"],
    [{ LAMBDA_SVID_SYNC_PREFIX: "bad prefix" }, "LAMBDA_SVID_SYNC_PREFIX"],
    [{ LAMBDA_SVID_SYNC_PREFIX: "lambda-svid/" }, "LAMBDA_SVID_SYNC_PREFIX"],
    [{ LAMBDA_SVID_SYNC_RECOVERY_DAYS: "3" }, "LAMBDA_SVID_SYNC_RECOVERY_DAYS"],
    [{ LAMBDA_SVID_KEYWHIZ_URL: "https://kw.internal/?x=1" }, "LAMBDA_SVID_KEYWHIZ_URL"],
    [{ LAMBDA_SVID_KEYWHIZ_URL: "https://kw.internal/#top" }, "LAMBDA_SVID_KEYWHIZ_URL"],
    [{ LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT: "101" }, "LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT"],
    [{ LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT: "0.5" }, "LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT"],
  ])("a bad value names its variable: %j", (override, variable) => {
    expect(thrown(() => loadSyncerConfig({ ...env, ...override }), ConfigError).variable).toBe(
      variable,
    );
  });

  it("accepts scheduled and re-sync events and rejects anything else", () => {
    expect(
      parseSyncerEvent({ source: "aws.events", "detail-type": "Scheduled Event", detail: {} }),
    ).toEqual({ force: false });
    expect(parseSyncerEvent({ action: "resync", secrets: ["db"], force: true })).toEqual({
      force: true,
      secrets: ["db"],
    });
    expect(
      parseSyncerEvent({
        "detail-type": "lambda-svid.resync",
        source: "ops",
        detail: { force: true },
      }),
    ).toEqual({ force: true });
    expect(() => parseSyncerEvent({ action: "resync", secrets: [] })).toThrow(SyncerEventError);
    expect(() => parseSyncerEvent({ action: "resync", extra: 1 })).toThrow("Unrecognized key");
    const err = thrown(() => parseSyncerEvent({ hello: 1 }), SyncerEventError);
    expect(err.reason).toBe(SyncerEventReason.NOT_ACCEPTED);
    expect(err.message).toBe(
      'syncer: invocation event not accepted: event: expected an EventBridge "Scheduled Event", an EventBridge "lambda-svid.resync" event, or {"action": "resync", ...}; got an event of another shape',
    );
  });
});

describe("deletion guard", () => {
  const plan = { deleting: 1, mirrored: 4, listed: 3, maxDeletePercent: 50, force: false };
  it.each([
    ["nothing to delete", { deleting: 0, listed: 0 }, undefined],
    ["a share at the limit", { deleting: 2 }, undefined],
    [
      "a share over the limit",
      { deleting: 3 },
      "syncer: deletion refused: the run would delete 3 of 4 mirrored secrets (75%), more than LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT=50; a re-sync with force deletes them",
    ],
    ["over the limit but forced", { deleting: 3, force: true }, undefined],
    [
      "one deletion when 0% is allowed",
      { maxDeletePercent: 0 },
      "syncer: deletion refused: the run would delete 1 of 4 mirrored secrets (25%), more than LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT=0; a re-sync with force deletes them",
    ],
    [
      "an empty listing, even when 100% is allowed",
      { deleting: 4, listed: 0, maxDeletePercent: 100 },
      "syncer: deletion refused: Keywhiz listed no secrets while 4 mirrored secrets exist; a re-sync with force deletes them",
    ],
    ["an empty listing, forced", { deleting: 4, listed: 0, force: true }, undefined],
    ["everything when 100% is allowed", { deleting: 4, maxDeletePercent: 100 }, undefined],
  ])("%s", (_name, override, expected) => {
    expect(refuseDeletion({ ...plan, ...override })).toBe(expected);
  });
});

describe("content key", () => {
  const key = new ContentKey(Buffer.alloc(32, 1));
  it("is HMAC-SHA256 over length-prefixed parts, so parts cannot be shifted between each other", () => {
    expect(key.digest("ab", "c")).not.toBe(key.digest("a", "bc"));
    expect(key.digest("a", Buffer.from("b"))).toBe(key.digest("a", "b"));
    expect(key.digest("x")).toMatch(/^[0-9a-f]{64}$/);
    expect(new ContentKey(Buffer.alloc(32, 2)).digest("x")).not.toBe(key.digest("x"));
  });

  it("makes UUID-shaped request tokens, equal for equal parts", () => {
    expect(key.clientRequestToken("n", "v", Buffer.from("c"))).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(key.clientRequestToken("n", "v")).toBe(key.clientRequestToken("n", "v"));
    expect(key.clientRequestToken("n", "v")).not.toBe(key.clientRequestToken("n", "w"));
  });

  it("must be 32 bytes; generated keys are random", () => {
    const err = thrown(() => new ContentKey(Buffer.alloc(16)), ContentKeyError);
    expect(err.reason).toBe(ContentKeyReason.LENGTH);
    expect(err.message).toBe("secrets: a content key must be 32 bytes: got 16");
    expect(ContentKey.generate().bytes().equals(ContentKey.generate().bytes())).toBe(false);
    expect(new ContentKey(key.bytes()).digest("x")).toBe(key.digest("x"));
  });
});
