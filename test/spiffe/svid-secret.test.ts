import { beforeAll, describe, expect, it } from "vitest";
import {
  encodeSvidSecret,
  parseSvidSecret,
  parseX509Svid,
  SvidSecretError,
  SvidSecretReason,
  verifyX509Svid,
  type X509Svid,
} from "../../layers/spiffe/index.ts";
import { TestCa } from "../support/ca.ts";
import { thrown } from "../support/thrown.ts";

let ca: TestCa;
let partner: TestCa;
let svid: X509Svid;
let keyBody: string;

beforeAll(async () => {
  ca = await TestCa.root("example.org");
  partner = await TestCa.root("partner.example");
  const pem = await ca.svid("/prod/web");
  svid = parseX509Svid(pem.chainPem, pem.keyPem);
  keyBody = pem.keyPem.split("\n")[1] as string;
});

/** The reason `fn` fails with; its message must not hold any of the key. */
function reasonOf(fn: () => unknown): string {
  const err = thrown(fn, SvidSecretError);
  expect(err.message).not.toContain(keyBody.slice(0, 16));
  return err.reason;
}

describe("SVID secret document", () => {
  it("round-trips through SecretString with the documented fields", () => {
    const text = encodeSvidSecret(svid, ca.bundle(), [partner.bundle()]);
    const doc = JSON.parse(text);
    expect(Object.keys(doc).sort()).toEqual(
      [
        "bundle",
        "federatedBundles",
        "notAfter",
        "notBefore",
        "spiffeId",
        "x509Svid",
        "x509SvidKey",
      ].sort(),
    );
    expect(doc.notAfter).toBe(svid.notAfter.toISOString());
    const parsed = parseSvidSecret({ SecretString: text });
    expect(parsed.svid.id.toString()).toBe("spiffe://example.org/prod/web");
    expect(verifyX509Svid(parsed.svid.chainPem(), parsed.bundle).id.path).toBe("/prod/web");
    expect(parsed.bundles.bundleFor(partner.trustDomain)?.toPem()).toBe(partner.bundle().toPem());
  });

  it("reads the same JSON from SecretBinary", () => {
    const text = encodeSvidSecret(svid, ca.bundle());
    const parsed = parseSvidSecret({ SecretBinary: new TextEncoder().encode(text) });
    expect(parsed.svid.id.equals(svid.id)).toBe(true);
  });

  it("reads the field names of newer SPIRE SVIDStore versions", () => {
    const doc = JSON.parse(encodeSvidSecret(svid, ca.bundle()));
    const spire = {
      spiffeID: doc.spiffeId,
      x509SVID: doc.x509Svid,
      x509SVIDKey: doc.x509SvidKey,
      bundle: doc.bundle,
    };
    expect(parseSvidSecret({ SecretString: JSON.stringify(spire) }).svid.id.equals(svid.id)).toBe(
      true,
    );
  });

  it("rejects bad documents by field, without echoing key material", () => {
    const good = JSON.parse(encodeSvidSecret(svid, ca.bundle()));
    const cases: Array<[unknown, string]> = [
      [undefined, SvidSecretReason.NO_VALUE],
      [`{"x509SvidKey": "${keyBody}"`, SvidSecretReason.NOT_JSON],
      [JSON.stringify([good]), SvidSecretReason.NOT_JSON],
      [JSON.stringify({ ...good, bundle: undefined }), SvidSecretReason.MISSING_FIELD],
      [JSON.stringify({ ...good, x509SvidKey: 42 }), SvidSecretReason.MISSING_FIELD],
      [
        JSON.stringify({ ...good, spiffeId: "spiffe://example.org/other" }),
        SvidSecretReason.ID_MISMATCH,
      ],
      [
        JSON.stringify({
          ...good,
          x509SvidKey: good.x509SvidKey.replace(keyBody, keyBody.slice(4)),
        }),
        SvidSecretReason.BAD_FIELD,
      ],
      [JSON.stringify({ ...good, bundle: good.x509Svid }), SvidSecretReason.BAD_FIELD],
      [
        JSON.stringify({ ...good, federatedBundles: { "Bad TD": good.bundle } }),
        SvidSecretReason.BAD_FIELD,
      ],
    ];
    for (const [value, reason] of cases) {
      const input = value === undefined ? {} : { SecretString: value as string };
      expect(
        reasonOf(() => parseSvidSecret(input)),
        String(value).slice(0, 60),
      ).toBe(reason);
    }
  });

  it("errors name the field", () => {
    const good = JSON.parse(encodeSvidSecret(svid, ca.bundle()));
    expect(() =>
      parseSvidSecret({ SecretString: JSON.stringify({ ...good, bundle: "" }) }),
    ).toThrow("svidsecret: required field is missing or not a string: bundle");
  });
});
