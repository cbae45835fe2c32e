import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  parseSpiffeId,
  parseTrustDomain,
  SpiffeIdError,
  SpiffeIdReason,
  spiffeIdFromPath,
  spiffeIdFromSegments,
} from "../../layers/spiffe/index.ts";
import { thrown } from "../support/thrown.ts";

const reasonOf = (fn: () => unknown) => thrown(fn, SpiffeIdError).reason;

describe("SPIFFE-ID section 2: scheme, query, fragment", () => {
  it("MUST have the scheme set to spiffe", () => {
    expect(reasonOf(() => parseSpiffeId("https://example.org/a"))).toBe(
      SpiffeIdReason.WRONG_SCHEME,
    );
    expect(reasonOf(() => parseSpiffeId("spiffe:/example.org/a"))).toBe(
      SpiffeIdReason.WRONG_SCHEME,
    );
    expect(reasonOf(() => parseSpiffeId("example.org/a"))).toBe(SpiffeIdReason.WRONG_SCHEME);
  });

  it("accepts only the canonical lowercase scheme", () => {
    expect(reasonOf(() => parseSpiffeId("SPIFFE://example.org/a"))).toBe(
      SpiffeIdReason.WRONG_SCHEME,
    );
  });

  it("MUST include a non-zero trust domain name", () => {
    expect(reasonOf(() => parseSpiffeId("spiffe://"))).toBe(SpiffeIdReason.MISSING_TRUST_DOMAIN);
    expect(reasonOf(() => parseSpiffeId("spiffe:///path"))).toBe(
      SpiffeIdReason.MISSING_TRUST_DOMAIN,
    );
  });

  it("MUST NOT include a query component", () => {
    expect(reasonOf(() => parseSpiffeId("spiffe://example.org/a?x=1"))).toBe(SpiffeIdReason.QUERY);
    expect(reasonOf(() => parseSpiffeId("spiffe://example.org?x"))).toBe(SpiffeIdReason.QUERY);
  });

  it("MUST NOT include a fragment component", () => {
    expect(reasonOf(() => parseSpiffeId("spiffe://example.org/a#frag"))).toBe(
      SpiffeIdReason.FRAGMENT,
    );
    expect(reasonOf(() => parseSpiffeId("spiffe://example.org#f?q"))).toBe(SpiffeIdReason.FRAGMENT);
  });

  it("rejects the empty string", () => {
    expect(reasonOf(() => parseSpiffeId(""))).toBe(SpiffeIdReason.EMPTY);
  });
});

describe("SPIFFE-ID section 2.1: trust domain", () => {
  it("the host part MUST NOT be empty", () => {
    expect(reasonOf(() => parseTrustDomain(""))).toBe(SpiffeIdReason.MISSING_TRUST_DOMAIN);
  });

  it("the userinfo part MUST be empty", () => {
    expect(reasonOf(() => parseSpiffeId("spiffe://user@example.org/a"))).toBe(
      SpiffeIdReason.TRUST_DOMAIN_USERINFO,
    );
    expect(reasonOf(() => parseSpiffeId("spiffe://user:pw@example.org/a"))).toBe(
      SpiffeIdReason.TRUST_DOMAIN_USERINFO,
    );
  });

  it("the port part MUST be empty", () => {
    expect(reasonOf(() => parseSpiffeId("spiffe://example.org:8443/a"))).toBe(
      SpiffeIdReason.TRUST_DOMAIN_PORT,
    );
    expect(reasonOf(() => parseSpiffeId("spiffe://example.org:/a"))).toBe(
      SpiffeIdReason.TRUST_DOMAIN_PORT,
    );
  });

  it("the host part MUST be lowercase", () => {
    expect(reasonOf(() => parseSpiffeId("spiffe://Example.org/a"))).toBe(
      SpiffeIdReason.TRUST_DOMAIN_CHARS,
    );
    expect(reasonOf(() => parseTrustDomain("EXAMPLE"))).toBe(SpiffeIdReason.TRUST_DOMAIN_CHARS);
  });

  it("the host part MUST contain only [a-z0-9.-_]", () => {
    for (const td of [
      "exa mple",
      "exa$mple",
      "exämple",
      "[::1]",
      "a+b",
      "a/b".replace("/", "\\"),
    ]) {
      expect(
        reasonOf(() => parseTrustDomain(td)),
        td,
      ).toBe(SpiffeIdReason.TRUST_DOMAIN_CHARS);
    }
    expect(parseTrustDomain("a-b_c.d-0.9").name).toBe("a-b_c.d-0.9");
  });

  it("the host part MUST NOT contain percent-encoded characters", () => {
    expect(reasonOf(() => parseSpiffeId("spiffe://exa%41mple.org/a"))).toBe(
      SpiffeIdReason.TRUST_DOMAIN_CHARS,
    );
  });

  it("MUST NOT process IP-address-like trust domain names differently", () => {
    expect(parseSpiffeId("spiffe://10.0.0.1/a").trustDomain.name).toBe("10.0.0.1");
    expect(parseTrustDomain("10.0.0.1").idString()).toBe("spiffe://10.0.0.1");
  });

  it("a trust domain name is at most 255 bytes", () => {
    expect(parseTrustDomain("a".repeat(255)).name).toHaveLength(255);
    expect(reasonOf(() => parseTrustDomain("a".repeat(256)))).toBe(
      SpiffeIdReason.TRUST_DOMAIN_TOO_LONG,
    );
  });

  it("parseTrustDomain also takes a SPIFFE ID of the trust domain", () => {
    expect(parseTrustDomain("spiffe://example.org/ns/x").name).toBe("example.org");
    expect(parseTrustDomain("spiffe://example.org").name).toBe("example.org");
  });
});

describe("SPIFFE-ID section 2.2: path", () => {
  it("MUST NOT include percent-encoded characters", () => {
    expect(reasonOf(() => parseSpiffeId("spiffe://example.org/a%2Fb"))).toBe(
      SpiffeIdReason.PATH_CHARS,
    );
  });

  it("MUST NOT include empty segments", () => {
    expect(reasonOf(() => parseSpiffeId("spiffe://example.org//a"))).toBe(
      SpiffeIdReason.EMPTY_SEGMENT,
    );
    expect(reasonOf(() => parseSpiffeId("spiffe://example.org/a//b"))).toBe(
      SpiffeIdReason.EMPTY_SEGMENT,
    );
  });

  it("MUST NOT include . or .. segments", () => {
    expect(reasonOf(() => parseSpiffeId("spiffe://example.org/./a"))).toBe(
      SpiffeIdReason.DOT_SEGMENT,
    );
    expect(reasonOf(() => parseSpiffeId("spiffe://example.org/a/.."))).toBe(
      SpiffeIdReason.DOT_SEGMENT,
    );
    expect(parseSpiffeId("spiffe://example.org/.../a..b/.c").path).toBe("/.../a..b/.c");
  });

  it("MUST NOT include a trailing slash", () => {
    expect(reasonOf(() => parseSpiffeId("spiffe://example.org/"))).toBe(
      SpiffeIdReason.TRAILING_SLASH,
    );
    expect(reasonOf(() => parseSpiffeId("spiffe://example.org/a/"))).toBe(
      SpiffeIdReason.TRAILING_SLASH,
    );
  });

  it("segments MUST contain only [a-zA-Z0-9.-_]", () => {
    for (const bad of ["a b", "a:b", "a@b", "é", "a~b", "a+b", "a*b", "a\u0000b"]) {
      expect(
        reasonOf(() => parseSpiffeId(`spiffe://example.org/${bad}`)),
        bad,
      ).toBe(SpiffeIdReason.PATH_CHARS);
    }
    expect(parseSpiffeId("spiffe://example.org/AZaz09.-_").path).toBe("/AZaz09.-_");
  });

  it("the path is case-sensitive", () => {
    expect(
      parseSpiffeId("spiffe://example.org/A").equals(parseSpiffeId("spiffe://example.org/a")),
    ).toBe(false);
  });
});

describe("SPIFFE-ID section 2.3: maximum length", () => {
  const td = "spiffe://example.org";
  it("MUST support IDs of exactly 2048 bytes", () => {
    const id = `${td}/${"a".repeat(2048 - td.length - 1)}`;
    expect(Buffer.byteLength(id)).toBe(2048);
    expect(parseSpiffeId(id).toString()).toBe(id);
  });

  it("rejects IDs longer than 2048 bytes", () => {
    const id = `${td}/${"a".repeat(2048 - td.length)}`;
    expect(reasonOf(() => parseSpiffeId(id))).toBe(SpiffeIdReason.TOO_LONG);
  });
});

describe("SpiffeId", () => {
  const id = parseSpiffeId("spiffe://example.org/prod/payments");

  it("exposes trust domain and path", () => {
    expect(id.trustDomain.name).toBe("example.org");
    expect(id.path).toBe("/prod/payments");
    expect(id.toString()).toBe("spiffe://example.org/prod/payments");
    expect(JSON.stringify({ id })).toBe('{"id":"spiffe://example.org/prod/payments"}');
  });

  it("memberOf compares trust domains", () => {
    expect(id.memberOf("example.org")).toBe(true);
    expect(id.memberOf(parseTrustDomain("example.org"))).toBe(true);
    expect(id.memberOf("example.com")).toBe(false);
  });

  it("the trust domain's own ID has no path", () => {
    const root = parseSpiffeId("spiffe://example.org");
    expect(root.isRoot()).toBe(true);
    expect(root.path).toBe("");
    expect(root.equals(parseTrustDomain("example.org").id())).toBe(true);
  });

  it("builds IDs from paths and segments, validating them", () => {
    const td = parseTrustDomain("example.org");
    expect(spiffeIdFromPath(td, "/a/b").toString()).toBe("spiffe://example.org/a/b");
    expect(spiffeIdFromSegments(td, "prod", "web").toString()).toBe(
      "spiffe://example.org/prod/web",
    );
    expect(reasonOf(() => spiffeIdFromPath(td, "a"))).toBe(SpiffeIdReason.PATH_NOT_ABSOLUTE);
    expect(reasonOf(() => spiffeIdFromSegments(td, "a/b"))).toBe(SpiffeIdReason.PATH_CHARS);
    expect(reasonOf(() => spiffeIdFromSegments(td, ".."))).toBe(SpiffeIdReason.DOT_SEGMENT);
  });

  it("errors name the rule and the rejected value", () => {
    expect(() => parseSpiffeId("spiffe://example.org/a b")).toThrow(
      'spiffeid: path segment characters are limited to letters, digits, dots, dashes and underscores: "spiffe://example.org/a b"',
    );
    const err = new SpiffeIdError(SpiffeIdReason.TOO_LONG, "x".repeat(5000));
    expect(err.message.length).toBeLessThan(400);
    expect(err.name).toBe("SpiffeIdError");
  });
});

const tdChar = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789.-_");
const pathChar = fc.constantFrom(
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_",
);
const trustDomainName = fc.string({ unit: tdChar, minLength: 1, maxLength: 40 });
const segment = fc
  .string({ unit: pathChar, minLength: 1, maxLength: 12 })
  .filter((s) => s !== "." && s !== "..");
const validId = fc
  .tuple(trustDomainName, fc.array(segment, { maxLength: 6 }))
  .map(([td, segs]) => `spiffe://${td}${segs.map((s) => `/${s}`).join("")}`);

describe("properties", () => {
  it("every accepted ID round-trips through toString() unchanged", () => {
    fc.assert(
      fc.property(validId, (s) => {
        expect(parseSpiffeId(s).toString()).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it("arbitrary strings either are rejected with a SpiffeIdError or round-trip", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          validId.map((s) => s.slice(0, s.length - 1)),
          fc.webUrl(),
        ),
        (s) => {
          try {
            expect(parseSpiffeId(s).toString()).toBe(s);
          } catch (err) {
            expect(err).toBeInstanceOf(SpiffeIdError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("an accepted ID with one byte changed to a forbidden character is rejected", () => {
    const forbidden = fc.constantFrom(
      ..." !\"$%&'()*+,;<=>[\\]^`{|}~\u0000\u007f\u00e9",
      "@",
      ":",
      "?",
      "#",
      "A",
    );
    fc.assert(
      fc.property(validId, fc.nat(), forbidden, (s, pos, ch) => {
        const start = "spiffe://".length;
        const i = start + (pos % (s.length - start));
        const inPath = s.indexOf("/", start) !== -1 && i >= s.indexOf("/", start);
        // Uppercase letters are only forbidden in the trust domain.
        fc.pre(!(ch === "A" && inPath));
        const mutated = s.slice(0, i) + ch + s.slice(i + 1);
        expect(() => parseSpiffeId(mutated)).toThrow(SpiffeIdError);
      }),
      { numRuns: 3000 },
    );
  });
});
