import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  backendPath,
  loadRoutes,
  parseRoutes,
  type Route,
  RoutesError,
  RoutesReason,
} from "../../ingress/index.ts";
import { thrown } from "../support/thrown.ts";

const API = {
  name: "orders",
  match: { pathPrefix: "/api" },
  backend: {
    kind: "execute-api",
    region: "eu-west-1",
    host: "abc123.execute-api.eu-west-1.amazonaws.com",
  },
  acl: [{ ids: ["spiffe://example.org/prod/web"] }],
};

/** A route file of `routes`, as JSON (which is YAML). */
const file = (...routes: unknown[]) => JSON.stringify({ routes });
const withField = (path: string, value: unknown) => {
  const route = structuredClone(API) as Record<string, unknown>;
  const keys = path.split(".");
  let at = route;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[keys.at(-1) as string] = value;
  return route;
};

describe("parseRoutes refuses a bad field by its path, value and expected form", () => {
  it.each([
    [
      "a route name with a space",
      file(withField("name", "bad name")),
      'routes[0].name is "bad name"; expected a name of letters, digits, dots, dashes and underscores, up to 63 characters',
    ],
    [
      "a missing name",
      file(withField("name", undefined)),
      "routes[0].name is missing; expected a name of letters, digits, dots, dashes and underscores, up to 63 characters",
    ],
    [
      "a path prefix with a trailing slash",
      file(withField("match.pathPrefix", "/api/")),
      'routes[0].match.pathPrefix is "/api/"; expected a path such as /api: starting with "/", no trailing "/", query, "." or ".." segment',
    ],
    [
      "a path prefix with a dot-dot segment",
      file(withField("match.pathPrefix", "/api/../admin")),
      'routes[0].match.pathPrefix is "/api/../admin"; expected a path such as /api: starting with "/", no trailing "/", query, "." or ".." segment',
    ],
    [
      "an upper-case SNI",
      file(withField("match.sni", "Orders.example.org")),
      'routes[0].match.sni is "Orders.example.org"; expected a lower-case DNS host name such as orders.example.org',
    ],
    [
      "a misspelt match field",
      file(withField("match", { pathprefix: "/api" })),
      'routes[0].match.pathPrefix is missing; expected a path such as /api: starting with "/", no trailing "/", query, "." or ".." segment; routes[0].match.pathprefix is not a known field; expected one of the fields sni, host, pathPrefix, stripPrefix, rewritePrefix',
    ],
    [
      "both a strip and a rewrite",
      file(withField("match", { pathPrefix: "/api", stripPrefix: true, rewritePrefix: "/v1" })),
      "routes[0].match.stripPrefix is set; expected only one of stripPrefix, rewritePrefix",
    ],
    [
      "an unknown backend kind",
      file(withField("backend.kind", "lambda-invoke")),
      'routes[0].backend.kind is "lambda-invoke"; expected one of execute-api, lambda, s3',
    ],
    [
      "a Region without its number",
      file(withField("backend.region", "eu-west")),
      'routes[0].backend.region is "eu-west"; expected an AWS Region such as eu-west-1',
    ],
    [
      "a role that is not a role ARN",
      file(withField("backend.roleArn", "arn:aws:iam::123456789012:user/x")),
      'routes[0].backend.roleArn is "arn:aws:iam::123456789012:user/x"; expected an IAM role ARN such as arn:aws:iam::123456789012:role/orders-ingress',
    ],
    [
      "an endpoint with a path",
      file(withField("backend.endpoint", "http://127.0.0.1:5000/x")),
      'routes[0].backend.endpoint is "http://127.0.0.1:5000/x"; expected an http:// or https:// URL with no path, query or credentials',
    ],
    [
      "an s3 backend without a bucket",
      file(withField("backend.kind", "s3")),
      "routes[0].backend.bucket is missing; expected an S3 bucket name: 3 to 63 lower-case letters, digits, dots and dashes for kind s3",
    ],
    [
      "a bucket on an execute-api backend",
      file(withField("backend.bucket", "site")),
      'routes[0].backend.bucket is "site"; expected no bucket for kind execute-api',
    ],
    [
      "an empty ACL",
      file(withField("acl", [])),
      "routes[0].acl is []; expected a non-empty list of rules",
    ],
    [
      "an ACL rule that names no caller",
      file(withField("acl", [{ methods: ["GET"] }])),
      "routes[0].acl[0] names no caller; expected ids, idPrefixes or trustDomains",
    ],
    [
      "a SPIFFE ID with a trailing slash",
      file(withField("acl", [{ ids: ["spiffe://example.org/prod/"] }])),
      'routes[0].acl[0].ids[0] is "spiffe://example.org/prod/"; expected a SPIFFE ID such as spiffe://example.org/prod/web (spiffeid: path cannot have a trailing slash)',
    ],
    [
      "a trust domain with a port",
      file(withField("acl", [{ trustDomains: ["example.org:443"] }])),
      'routes[0].acl[0].trustDomains[0] is "example.org:443"; expected a trust domain name such as example.org (spiffeid: trust domain must not contain a port)',
    ],
    [
      "a lower-case method",
      file(withField("acl", [{ ids: ["spiffe://example.org/prod/web"], methods: ["get"] }])),
      'routes[0].acl[0].methods[0] is "get"; expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
    ],
    [
      "a name used twice",
      file(API, withField("match.pathPrefix", "/other")),
      'routes[1].name is "orders"; expected a name not used by routes[0]',
    ],
    ["no routes list", "routes: 3", "routes is 3; expected a non-empty list of routes"],
    ["an empty file", "", "the document is null; expected an object with a routes list"],
  ])("%s", (_, text, detail) => {
    const err = thrown(() => parseRoutes(text, "routes.yaml"), RoutesError);
    expect(err.reason).toBe(RoutesReason.INVALID);
    expect(err.message).toBe(`ingress: routes: invalid: routes.yaml: ${detail}`);
  });

  it("names the line and column of a syntax error, not the text", () => {
    expect(
      thrown(() => parseRoutes("routes: [\n  - a: b\n x", "routes.yaml"), RoutesError),
    ).toMatchObject({
      reason: RoutesReason.SYNTAX,
      message: "ingress: routes: not YAML or JSON: routes.yaml at line 2, column 3",
    });
  });
});

describe("parseRoutes refuses routes that can never be reached", () => {
  it.each([
    [
      "the same match twice",
      file(API, withField("name", "copy")),
      'routes[1] ("copy") matches the same requests as routes[0] ("orders")',
    ],
    [
      "a longer prefix after a shorter one",
      file(API, { ...withField("name", "v1"), match: { pathPrefix: "/api/v1" } }),
      'routes[1] ("v1") is shadowed by routes[0] ("orders"), which matches every request it does; list the more specific route first',
    ],
    [
      "a route with a Host after the same prefix without one",
      file(API, {
        ...withField("name", "h"),
        match: { pathPrefix: "/api", host: "a.example.org" },
      }),
      'routes[1] ("h") is shadowed by routes[0] ("orders"), which matches every request it does; list the more specific route first',
    ],
    [
      "anything after a catch-all",
      file({ ...API, match: { pathPrefix: "/" } }, withField("name", "later")),
      'routes[1] ("later") is shadowed by routes[0] ("orders"), which matches every request it does; list the more specific route first',
    ],
  ])("%s", (_, text, detail) => {
    expect(thrown(() => parseRoutes(text, "routes.yaml"), RoutesError)).toMatchObject({
      reason: RoutesReason.UNREACHABLE,
      message: `ingress: routes: a route can never be reached: routes.yaml: ${detail}`,
    });
  });

  it("accepts the specific route first, and routes that differ by SNI, Host or a sibling prefix", () => {
    const table = parseRoutes(
      file(
        { ...withField("name", "v1"), match: { pathPrefix: "/api/v1" } },
        { ...withField("name", "sni"), match: { pathPrefix: "/api", sni: "a.example.org" } },
        API,
        { ...withField("name", "apix"), match: { pathPrefix: "/apix" } },
        { ...withField("name", "root"), match: { pathPrefix: "/" } },
      ),
      "routes.yaml",
    );
    expect(table.routes.map((r) => r.name)).toEqual(["v1", "sni", "orders", "apix", "root"]);
  });
});

describe("RouteTable.match", () => {
  const table = parseRoutes(
    `
routes:
  - name: by-sni
    match: { sni: orders.ingress.example.org, pathPrefix: /api }
    backend: { kind: execute-api, region: eu-west-1, host: a.execute-api.eu-west-1.amazonaws.com }
    acl: [{ trustDomains: [example.org] }]
  - name: by-host
    match: { host: static.example.org, pathPrefix: / }
    backend: { kind: s3, region: eu-west-1, host: s3.eu-west-1.amazonaws.com, bucket: site }
    acl: [{ trustDomains: [example.org] }]
  - name: api
    match: { pathPrefix: /api }
    backend: { kind: lambda, region: eu-west-1, host: x.lambda-url.eu-west-1.on.aws }
    acl: [{ trustDomains: [example.org] }]
`,
    "routes.yaml",
  );
  const name = (sni: string | undefined, host: string | undefined, target: string) =>
    table.match(sni, host, target)?.name;

  it.each([
    ["/api", "api"],
    ["/api/", "api"],
    ["/api/orders/1", "api"],
    ["/api?id=1", "api"],
    ["/apix", undefined],
    ["/apix/orders", undefined],
    ["/ap", undefined],
    ["/API", undefined],
    ["/", undefined],
  ])("a path prefix matches on segment boundaries: %s -> %s", (target, route) => {
    expect(name(undefined, "x.example.org", target)).toBe(route);
  });

  it("tries routes in file order: SNI, then Host, then prefix only", () => {
    expect(name("orders.ingress.example.org", "static.example.org", "/api/x")).toBe("by-sni");
    expect(name("other.example.org", "static.example.org", "/api/x")).toBe("by-host");
    expect(name(undefined, "static.example.org", "/anything")).toBe("by-host");
    expect(name(undefined, undefined, "/api/x")).toBe("api");
  });
});

describe("backendPath", () => {
  const route = (pathPrefix: string, rewritePrefix?: string) =>
    ({ pathPrefix, ...(rewritePrefix === undefined ? {} : { rewritePrefix }) }) as Route;

  it.each([
    ["/api", undefined, "/api/orders?id=1", "/api/orders?id=1"],
    ["/api", "", "/api/orders?id=1", "/orders?id=1"],
    ["/api", "", "/api", "/"],
    ["/api", "", "/api?x=1", "/?x=1"],
    ["/api", "/prod", "/api/orders", "/prod/orders"],
    ["/api", "/prod", "/api", "/prod"],
    ["/", "/prod", "/orders?id=1", "/prod/orders?id=1"],
    ["/", "", "/orders", "/orders"],
  ])("prefix %s rewritten to %s: %s -> %s", (prefix, rewrite, target, expected) => {
    expect(backendPath(route(prefix, rewrite), target)).toBe(expected);
  });

  it("stripPrefix is a rewrite to nothing", () => {
    const [r] = parseRoutes(
      file({ ...API, match: { pathPrefix: "/api", stripPrefix: true } }),
      "routes.yaml",
    ).routes;
    expect(backendPath(r as Route, "/api/orders")).toBe("/orders");
  });
});

describe("loadRoutes", () => {
  it("reads a YAML file and carries the backend target as written", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ingress-routes-"));
    const path = join(dir, "routes.yaml");
    await writeFile(
      path,
      `routes:
  - name: site
    match: { pathPrefix: /site, stripPrefix: true }
    backend:
      kind: s3
      region: us-east-1
      host: s3.us-east-1.amazonaws.com
      bucket: static-site
      endpoint: http://127.0.0.1:5000
      roleArn: arn:aws:iam::123456789012:role/site-reader
    acl:
      - idPrefixes: [spiffe://example.org/prod]
        methods: [GET, HEAD]
`,
    );
    const [route] = (await loadRoutes(path)).routes;
    expect(route?.target).toEqual({
      kind: "s3",
      region: "us-east-1",
      host: "s3.us-east-1.amazonaws.com",
      bucket: "static-site",
      endpoint: "http://127.0.0.1:5000",
      roleArn: "arn:aws:iam::123456789012:role/site-reader",
    });
    expect(route?.rewritePrefix).toBe("");
  });

  it("names a file it cannot read", async () => {
    const err = await loadRoutes("/nonexistent/routes.yaml").catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: RoutesReason.UNREADABLE });
    expect((err as Error).message).toMatch(
      /^ingress: routes: cannot read the route file: "\/nonexistent\/routes.yaml": ENOENT/,
    );
  });
});
