import { describe, expect, it } from "vitest";
import { Acl, DenialReason, parseRoutes } from "../../ingress/index.ts";
import { parseSpiffeId } from "../../layers/spiffe/index.ts";

const id = (s: string) => parseSpiffeId(s);

describe("Acl.check", () => {
  const acl = new Acl([
    { ids: ["spiffe://example.org/prod/web"], idPrefixes: [], trustDomains: [] },
    {
      ids: [],
      idPrefixes: ["spiffe://example.org/prod/batch"],
      trustDomains: [],
      methods: ["GET", "HEAD"],
    },
    { ids: [], idPrefixes: [], trustDomains: ["partner.example"], methods: ["POST"] },
  ]);

  it.each([
    ["spiffe://example.org/prod/web", "DELETE", undefined],
    ["spiffe://example.org/prod/web/x", "GET", DenialReason.CALLER_NOT_ALLOWED],
    ["spiffe://example.org/prod/batch", "GET", undefined],
    ["spiffe://example.org/prod/batch/nightly", "HEAD", undefined],
    ["spiffe://example.org/prod/batch/nightly", "PUT", DenialReason.METHOD_NOT_ALLOWED],
    ["spiffe://example.org/prod/batchx", "GET", DenialReason.CALLER_NOT_ALLOWED],
    ["spiffe://example.org/prod", "GET", DenialReason.CALLER_NOT_ALLOWED],
    ["spiffe://partner.example/any/service", "POST", undefined],
    ["spiffe://partner.example/any/service", "GET", DenialReason.METHOD_NOT_ALLOWED],
    ["spiffe://sub.partner.example/any", "POST", DenialReason.CALLER_NOT_ALLOWED],
    ["spiffe://other.org/prod/web", "GET", DenialReason.CALLER_NOT_ALLOWED],
  ])("%s %s -> %s", (caller, method, reason) => {
    expect(acl.check(id(caller), method)).toBe(reason);
  });

  it("allows the method when any rule that names the caller allows it", () => {
    const two = new Acl([
      { ids: ["spiffe://example.org/a"], idPrefixes: [], trustDomains: [], methods: ["GET"] },
      { ids: [], idPrefixes: [], trustDomains: ["example.org"], methods: ["POST"] },
    ]);
    expect(two.check(id("spiffe://example.org/a"), "POST")).toBeUndefined();
    expect(two.check(id("spiffe://example.org/a"), "PUT")).toBe(DenialReason.METHOD_NOT_ALLOWED);
  });

  it("is built from the route file's rules", () => {
    const [route] = parseRoutes(
      `routes:
  - name: r
    match: { pathPrefix: /r }
    backend: { kind: lambda, region: eu-west-1, host: x.lambda-url.eu-west-1.on.aws }
    acl:
      - { ids: [spiffe://example.org/prod/web] }
      - { idPrefixes: [spiffe://example.org/ops], methods: [GET] }
`,
      "routes.yaml",
    ).routes;
    expect(route?.acl.check(id("spiffe://example.org/prod/web"), "DELETE")).toBeUndefined();
    expect(route?.acl.check(id("spiffe://example.org/ops/x"), "GET")).toBeUndefined();
    expect(route?.acl.check(id("spiffe://example.org/ops/x"), "POST")).toBe(
      DenialReason.METHOD_NOT_ALLOWED,
    );
    expect(route?.acl.check(id("spiffe://example.org/opsx"), "GET")).toBe(
      DenialReason.CALLER_NOT_ALLOWED,
    );
  });
});
