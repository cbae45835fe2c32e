import { beforeAll, describe, expect, it } from "vitest";
import {
  BundleError,
  BundleReason,
  SvidError,
  SvidReason,
  verifyX509Svid,
  X509Bundle,
  X509BundleSet,
} from "../../layers/spiffe/index.ts";
import { firstDuplicateKey } from "../../layers/spiffe/jwks.ts";
import { TestCa } from "../support/ca.ts";
import { thrown } from "../support/thrown.ts";

let ca: TestCa;
let other: TestCa;
let rootJwk: Record<string, unknown>;

beforeAll(async () => {
  ca = await TestCa.root("example.org");
  other = await TestCa.root("other.org");
  rootJwk = JSON.parse(ca.bundle().toJwks()).keys[0];
});

const reasonOf = (fn: () => unknown) => thrown(fn, BundleError).reason;
const jwks = (keys: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ keys, ...extra });

describe("SPIFFE Trust Domain and Bundle, section 4: the JWK Set", () => {
  it("round-trips roots, sequence and refresh hint", async () => {
    const text = ca.bundle().toJwks({ sequence: 42, refreshHintSeconds: 300 });
    const bundle = X509Bundle.fromJwks("example.org", text);
    expect(bundle.toPem()).toBe(ca.bundle().toPem());
    expect(bundle.sequence).toBe(42);
    expect(bundle.refreshHintSeconds).toBe(300);
    const svid = await ca.svid("/a");
    expect(verifyX509Svid(svid.chainPem, bundle).id.path).toBe("/a");
  });

  it("4.1: parameters not defined MAY be included and MUST NOT be required", () => {
    const bundle = X509Bundle.fromJwks(
      "example.org",
      jwks([rootJwk], { vendor_extension: { a: 1 } }),
    );
    expect(bundle.roots).toHaveLength(1);
    expect(bundle.sequence).toBeUndefined();
    expect(bundle.refreshHintSeconds).toBeUndefined();
  });

  it("4.1.1: spiffe_sequence, when present, MUST be an integer", () => {
    expect(
      reasonOf(() => X509Bundle.fromJwks("example.org", jwks([rootJwk], { spiffe_sequence: 1.5 }))),
    ).toBe(BundleReason.BAD_SEQUENCE);
    expect(
      reasonOf(() => X509Bundle.fromJwks("example.org", jwks([rootJwk], { spiffe_sequence: "7" }))),
    ).toBe(BundleReason.BAD_SEQUENCE);
  });

  it("4.1.2: spiffe_refresh_hint, when set, MUST be an integer of seconds", () => {
    expect(
      reasonOf(() =>
        X509Bundle.fromJwks("example.org", jwks([rootJwk], { spiffe_refresh_hint: "5m" })),
      ),
    ).toBe(BundleReason.BAD_REFRESH_HINT);
  });

  it("4.1.3: keys MUST be present", () => {
    expect(reasonOf(() => X509Bundle.fromJwks("example.org", "{}"))).toBe(
      BundleReason.MISSING_KEYS,
    );
    expect(reasonOf(() => X509Bundle.fromJwks("example.org", '{"keys": {}}'))).toBe(
      BundleReason.MISSING_KEYS,
    );
    expect(reasonOf(() => X509Bundle.fromJwks("example.org", "[]"))).toBe(
      BundleReason.NOT_A_JWK_SET,
    );
    expect(reasonOf(() => X509Bundle.fromJwks("example.org", "{"))).toBe(
      BundleReason.NOT_A_JWK_SET,
    );
  });

  it("4.1.3: an empty or effectively empty key set MUST make every SVID of the trust domain invalid", async () => {
    const svid = await ca.svid("/a");
    for (const keys of [[], [{ ...rootJwk, use: "jwt-svid" }]]) {
      const bundle = X509Bundle.fromJwks("example.org", jwks(keys));
      expect(bundle.roots).toHaveLength(0);
      expect(thrown(() => verifyX509Svid(svid.chainPem, bundle), SvidError).reason).toBe(
        SvidReason.NO_CHAIN_TO_BUNDLE,
      );
    }
  });

  it("4.2.1: kty MUST be set; unknown key types MUST be ignored", () => {
    const { kty: _, ...noKty } = rootJwk;
    const bundle = X509Bundle.fromJwks(
      "example.org",
      jwks([noKty, { ...rootJwk, kty: "oct-future" }, rootJwk]),
    );
    expect(bundle.roots).toHaveLength(1);
  });

  it("4.2.2: use MUST be set; a missing or unknown use MUST be ignored; values are case sensitive", () => {
    const { use: _, ...noUse } = rootJwk;
    const entries = [noUse, { ...rootJwk, use: "X509-SVID" }, { ...rootJwk, use: "sig" }];
    expect(X509Bundle.fromJwks("example.org", jwks(entries)).roots).toHaveLength(0);
  });

  it("the key type of an x509-svid entry must match its certificate", () => {
    expect(
      reasonOf(() => X509Bundle.fromJwks("example.org", jwks([{ ...rootJwk, kty: "RSA" }]))),
    ).toBe(BundleReason.KEY_TYPE_MISMATCH);
  });
});

describe("X509-SVID section 6: x509-svid entries", () => {
  it("6.1: published entries have use x509-svid, exactly one x5c CA certificate and no kid", () => {
    const doc = JSON.parse(ca.bundle().toJwks());
    expect(doc.keys).toHaveLength(1);
    expect(doc.keys[0].use).toBe("x509-svid");
    expect(doc.keys[0].x5c).toHaveLength(1);
    expect(doc.keys[0]).not.toHaveProperty("kid");
    expect(doc.keys[0].kty).toBe("EC");
  });

  it("6.2: an entry without x5c, or with an empty x5c, MUST be ignored", () => {
    const { x5c: _, ...noX5c } = rootJwk;
    expect(
      X509Bundle.fromJwks("example.org", jwks([noX5c, { ...rootJwk, x5c: [] }])).roots,
    ).toHaveLength(0);
  });

  it("6.2: only the first x5c value counts; the rest MUST be ignored", async () => {
    const leaf = await ca.leaf("/a");
    const x5c = [(rootJwk.x5c as string[])[0], Buffer.from(leaf.cert.rawData).toString("base64")];
    const bundle = X509Bundle.fromJwks("example.org", jwks([{ ...rootJwk, x5c }]));
    expect(bundle.toPem()).toBe(ca.bundle().toPem());
  });

  it("6.1: the x5c value MUST be a CA certificate", async () => {
    const leaf = await ca.leaf("/a");
    const entry = { ...rootJwk, x5c: [Buffer.from(leaf.cert.rawData).toString("base64")] };
    expect(reasonOf(() => X509Bundle.fromJwks("example.org", jwks([entry])))).toBe(
      BundleReason.NOT_A_CA,
    );
  });

  it("6.2: the bundle is the union of the x509-svid entries", async () => {
    const second = await TestCa.root("example.org");
    const union = jwks([rootJwk, JSON.parse(second.bundle().toJwks()).keys[0]]);
    const bundle = X509Bundle.fromJwks("example.org", union);
    expect(bundle.roots).toHaveLength(2);
    expect(verifyX509Svid((await second.svid("/b")).chainPem, bundle).id.path).toBe("/b");
  });
});

describe("SPIFFE Trust Domain and Bundle, section 5: the bundle map", () => {
  const map = (domains: string) => `{"trust_domains": {${domains}}}`;

  it("reads bundles keyed by trust domain name", async () => {
    const set = X509BundleSet.fromBundleMap(
      map(`"example.org": ${ca.bundle().toJwks()}, "other.org": ${other.bundle().toJwks()}`),
    );
    expect(
      set
        .trustDomains()
        .map((td) => td.name)
        .sort(),
    ).toEqual(["example.org", "other.org"]);
    expect(verifyX509Svid((await other.svid("/x")).chainPem, set).id.toString()).toBe(
      "spiffe://other.org/x",
    );
  });

  it("5.1.1: trust_domains MUST be set and MAY be empty", () => {
    expect(X509BundleSet.fromBundleMap(map("")).trustDomains()).toEqual([]);
    expect(reasonOf(() => X509BundleSet.fromBundleMap("{}"))).toBe(BundleReason.NOT_A_BUNDLE_MAP);
  });

  it("5.1.1: consumers MUST reject maps with duplicate trust domain names", () => {
    const text = map(
      `"example.org": ${ca.bundle().toJwks()}, "example.org": ${other.bundle().toJwks()}`,
    );
    const err = thrown(() => X509BundleSet.fromBundleMap(text), BundleError);
    expect(err.message).toBe('x509bundle: SPIFFE bundle map has a duplicate key: "example.org"');
  });

  it("5.1.1: keys must be valid trust domain names", () => {
    expect(
      reasonOf(() => X509BundleSet.fromBundleMap(map(`"Example.org": ${ca.bundle().toJwks()}`))),
    ).toBe(BundleReason.NOT_A_BUNDLE_MAP);
  });

  it("5.1.1: a refresh_hint inside a map's bundle does not change how the map is read", () => {
    const withHint = ca.bundle().toJwks({ refreshHintSeconds: 1 });
    expect(
      X509BundleSet.fromBundleMap(map(`"example.org": ${withHint}`)).trustDomains(),
    ).toHaveLength(1);
  });

  it("duplicate detection follows JSON structure, not text", () => {
    expect(firstDuplicateKey('{"a": {"b": 1}, "c": {"b": 2}}')).toBeUndefined();
    expect(firstDuplicateKey('{"a": ["a", "a"], "b": "a"}')).toBeUndefined();
    expect(firstDuplicateKey('{"a\\"": 1, "a\\u0022": 2}')).toBe('a"');
    expect(firstDuplicateKey('[{"x": 1, "y": {"x": 2}, "x": 3}]')).toBe("x");
  });
});
