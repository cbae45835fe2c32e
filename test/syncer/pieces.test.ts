import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadSyncerConfig } from "../../functions/syncer/config.ts";
import { parseSyncerEvent, SyncerEventError } from "../../functions/syncer/event.ts";
import {
  KeywhizError,
  KeywhizReason,
  parseListing,
  parseSecrets,
  versionOf,
} from "../../functions/syncer/keywhiz/model.ts";
import { findCollisions, secretsManagerName, toTagValue } from "../../functions/syncer/names.ts";
import { OptIn } from "../../functions/syncer/opt-in.ts";
import { ConfigError } from "../../layers/config/index.ts";
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
      { name: "db", secretLength: 3, checksum: "abc", updateDate: "2026-01-02T00:00:00Z" },
    ]);
  });

  it("older servers without checksum get a version from update time and length", () => {
    const [old] = parseListing(
      JSON.stringify([{ ...item, checksum: undefined, isVersioned: false }]),
    );
    expect(old && versionOf(old)).toBe("updated:2026-01-02T00:00:00Z:3");
  });

  it("decodes base64 content exactly, binary included", () => {
    const bytes = Buffer.from([0, 255, 1, 254, 10]);
    const [s] = parseSecrets(
      JSON.stringify([{ ...item, secretLength: 5, secret: bytes.toString("base64") }]),
    );
    expect(s?.content.equals(bytes)).toBe(true);
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

  it("refuses content that is not base64, naming the secret and not its content", () => {
    const err = thrown(
      () => parseSecrets(JSON.stringify([{ ...item, secret: "c2VjcmV0!!" }])),
      KeywhizError,
    );
    expect(err.reason).toBe(KeywhizReason.NOT_BASE64);
    expect(err.message).toBe('keywhiz: secret content is not base64: "db"');
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
    expect(c.optIn.matches("api-x")).toBe(true);
  });

  it.each([
    [{ LAMBDA_SVID_KEYWHIZ_URL: "http://keywhiz" }, "LAMBDA_SVID_KEYWHIZ_URL"],
    [{ LAMBDA_SVID_KEYWHIZ_URL: "::" }, "LAMBDA_SVID_KEYWHIZ_URL"],
    [{ LAMBDA_SVID_KEYWHIZ_CA: "/does/not/exist.pem" }, "LAMBDA_SVID_KEYWHIZ_CA"],
    [{ LAMBDA_SVID_SYNC_OPT_IN: " , " }, "LAMBDA_SVID_SYNC_OPT_IN"],
    [{ LAMBDA_SVID_SYNC_PREFIX: "bad prefix" }, "LAMBDA_SVID_SYNC_PREFIX"],
    [{ LAMBDA_SVID_SYNC_PREFIX: "lambda-svid/" }, "LAMBDA_SVID_SYNC_PREFIX"],
    [{ LAMBDA_SVID_SYNC_RECOVERY_DAYS: "3" }, "LAMBDA_SVID_SYNC_RECOVERY_DAYS"],
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
    expect(() => parseSyncerEvent({ hello: 1 })).toThrow("got an event of another shape");
  });
});
