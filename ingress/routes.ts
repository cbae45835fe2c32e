/**
 * The route file: which requests the ingress accepts (by TLS server name,
 * Host and path prefix), which AWS backend each goes to, and who may send
 * them. YAML or JSON, validated once at start; a bad field stops the process
 * with a message that names its path, its value and what was expected.
 *
 * Routes are tried in file order and the first that matches wins. A route that
 * an earlier one matches entirely could never be reached, so the file is
 * refused: list the more specific route first.
 */
import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import { z } from "zod";
import { parseSpiffeId, parseTrustDomain, SpiffeError } from "../layers/spiffe/index.ts";
import { Acl } from "./acl.ts";
import type { BackendTarget } from "./backend/types.ts";
import { RoutesError, RoutesReason } from "./errors.ts";

/** The HTTP methods an ACL rule may name. */
export const ACL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** One route, validated. */
export interface Route {
  name: string;
  /** TLS server name the caller must have sent (lower case); any when unset. */
  sni?: string;
  /** Host header's host name the request must carry (lower case, port ignored); any when unset. */
  host?: string;
  /** Matched on segment boundaries: `/api` matches `/api`, `/api/x`, `/api?q`, never `/apix`. */
  pathPrefix: string;
  /** What the matched prefix becomes on the way to the backend; kept as it is when unset. */
  rewritePrefix?: string;
  target: BackendTarget;
  acl: Acl;
}

const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** `/`, or `/`-separated segments without empty, `.` or `..` ones, a query or a fragment. */
const PATH_PREFIX = /^\/$|^(?:\/(?!\.\.?(?:\/|$))[^/?#\s]+)+$/;

const EXPECT = {
  name: "a name of letters, digits, dots, dashes and underscores, up to 63 characters",
  hostName: "a lower-case DNS host name such as orders.example.org",
  pathPrefix: 'a path such as /api: starting with "/", no trailing "/", query, "." or ".." segment',
  rewritePrefix: '"" or a path such as /prod/api: starting with "/", no trailing "/"',
  kind: "one of execute-api, lambda, s3",
  region: "an AWS Region such as eu-west-1",
  backendHost: "a lower-case DNS host name such as abc123.execute-api.eu-west-1.amazonaws.com",
  roleArn: "an IAM role ARN such as arn:aws:iam::123456789012:role/orders-ingress",
  endpoint: "an http:// or https:// URL with no path, query or credentials",
  bucket: "an S3 bucket name: 3 to 63 lower-case letters, digits, dots and dashes",
  spiffeId: "a SPIFFE ID such as spiffe://example.org/prod/web",
  trustDomain: "a trust domain name such as example.org",
  method: `one of ${ACL_METHODS.join(", ")}`,
  methods: `a non-empty list of ${ACL_METHODS.join(", ")}`,
  boolean: "true or false",
} as const;

/** A strict object whose unknown fields are reported with the list of known ones. */
function object<T extends z.ZodRawShape>(shape: T, what: string) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `one of the fields ${Object.keys(shape).join(", ")}`
        : what,
  });
}

function text(pattern: RegExp, expected: string) {
  return z.string({ error: expected }).regex(pattern, { error: expected });
}

function list<T extends z.ZodType>(item: T, expected: string) {
  return z.array(item, { error: expected }).min(1, { error: expected });
}

/** A SPIFFE library check as a refinement: its own message says what is wrong. */
function spiffe(parse: (s: string) => unknown, expected: string) {
  return z.string({ error: expected }).superRefine((value, ctx) => {
    try {
      parse(value);
    } catch (err) {
      if (!(err instanceof SpiffeError)) throw err;
      ctx.addIssue({ code: "custom", message: `${expected} (${err.reason})` });
    }
  });
}

const spiffeId = spiffe(parseSpiffeId, EXPECT.spiffeId);

const MATCH = object(
  {
    sni: text(HOST_NAME, EXPECT.hostName).optional(),
    host: text(HOST_NAME, EXPECT.hostName).optional(),
    pathPrefix: text(PATH_PREFIX, EXPECT.pathPrefix),
    stripPrefix: z.boolean({ error: EXPECT.boolean }).optional(),
    rewritePrefix: z
      .string({ error: EXPECT.rewritePrefix })
      .refine((s) => s === "" || (s !== "/" && PATH_PREFIX.test(s)), {
        error: EXPECT.rewritePrefix,
      })
      .optional(),
  },
  "an object with pathPrefix and optionally sni, host, stripPrefix or rewritePrefix",
);

const BACKEND = object(
  {
    kind: z.enum(["execute-api", "lambda", "s3"], { error: EXPECT.kind }),
    region: text(REGION, EXPECT.region),
    host: text(HOST_NAME, EXPECT.backendHost),
    roleArn: text(ROLE_ARN, EXPECT.roleArn).optional(),
    endpoint: z
      .string({ error: EXPECT.endpoint })
      .refine(isEndpoint, { error: EXPECT.endpoint })
      .optional(),
    bucket: text(BUCKET, EXPECT.bucket).optional(),
  },
  "an object with kind, region, host and optionally roleArn, endpoint, bucket",
);

const RULE = object(
  {
    ids: list(spiffeId, `a non-empty list of ${EXPECT.spiffeId}`).optional(),
    idPrefixes: list(spiffeId, `a non-empty list of ${EXPECT.spiffeId}`).optional(),
    trustDomains: list(
      spiffe(parseTrustDomain, EXPECT.trustDomain),
      `a non-empty list of ${EXPECT.trustDomain}`,
    ).optional(),
    methods: list(z.enum(ACL_METHODS, { error: EXPECT.method }), EXPECT.methods).optional(),
  },
  "an object with ids, idPrefixes or trustDomains, and optionally methods",
);

const ROUTE = object(
  {
    name: text(ROUTE_NAME, EXPECT.name),
    match: MATCH,
    backend: BACKEND,
    acl: list(RULE, "a non-empty list of rules"),
  },
  "an object with name, match, backend and acl",
);

const FILE = object(
  { routes: list(ROUTE, "a non-empty list of routes") },
  "an object with a routes list",
);

type RouteInput = z.infer<typeof ROUTE>;

/**
 * The validated routes, tried in file order.
 *
 * @example
 * const table = await loadRoutes("/etc/lambda-svid/routes.yaml");
 * const route = table.match("orders.ingress.example.org", "orders.ingress.example.org", "/api/orders?id=1");
 */
export class RouteTable {
  constructor(readonly routes: readonly Route[]) {}

  /**
   * The first route whose match holds, or `undefined`.
   *
   * @param sni the TLS server name the caller sent, lower case.
   * @param host the Host header's host name, lower case, without the port.
   * @param target the request target as sent (origin form: path and query).
   */
  match(sni: string | undefined, host: string | undefined, target: string): Route | undefined {
    for (const route of this.routes) {
      if (route.sni !== undefined && route.sni !== sni) continue;
      if (route.host !== undefined && route.host !== host) continue;
      if (prefixMatches(route.pathPrefix, target)) return route;
    }
    return undefined;
  }
}

/**
 * The path (and query) sent to the backend for `target`, which `route` matched:
 * the matched prefix replaced by the route's rewrite, if any.
 *
 * @example
 * backendPath({ pathPrefix: "/api", rewritePrefix: "/prod" } as Route, "/api/orders?id=1"); // "/prod/orders?id=1"
 */
export function backendPath(route: Route, target: string): string {
  if (route.rewritePrefix === undefined) return target;
  const rest = route.pathPrefix === "/" ? target : target.slice(route.pathPrefix.length);
  const path = `${route.rewritePrefix}${rest}`;
  return path.startsWith("/") ? path : `/${path}`;
}

/**
 * Reads and validates a route file.
 *
 * @throws {RoutesError} naming the file and, for a bad field, its path, value and the expected form.
 * @example
 * const table = await loadRoutes(process.env.LAMBDA_SVID_INGRESS_ROUTES_FILE ?? "routes.yaml");
 */
export async function loadRoutes(path: string): Promise<RouteTable> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new RoutesError(RoutesReason.UNREADABLE, JSON.stringify(path), { cause });
  }
  return parseRoutes(text, path);
}

/**
 * Validates a route document (YAML, or JSON, which is YAML). `source` names
 * the file in errors.
 *
 * @throws {RoutesError} naming `source` and the field at fault.
 * @example
 * parseRoutes(`
 * routes:
 *   - name: orders
 *     match: { pathPrefix: /orders }
 *     backend: { kind: execute-api, region: eu-west-1, host: abc123.execute-api.eu-west-1.amazonaws.com }
 *     acl: [{ ids: [spiffe://example.org/prod/web], methods: [GET] }]
 * `, "routes.yaml");
 */
export function parseRoutes(text: string, source: string): RouteTable {
  const doc = parseDocument(text);
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const at = syntax.linePos?.[0];
    throw new RoutesError(
      RoutesReason.SYNTAX,
      `${source}${at === undefined ? "" : ` at line ${at.line}, column ${at.col}`}`,
    );
  }
  const input: unknown = doc.toJS();
  const parsed = FILE.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeIssue(input, issue));
    throw new RoutesError(RoutesReason.INVALID, `${source}: ${problems.join("; ")}`);
  }
  const names = parsed.data.routes.map((route) => route.name);
  const problems = parsed.data.routes.flatMap((route, i) => [
    ...(names.indexOf(route.name) < i
      ? [
          `routes[${i}].name is ${JSON.stringify(route.name)}; expected a name not used by routes[${names.indexOf(route.name)}]`,
        ]
      : []),
    ...semanticProblems(route, i),
  ]);
  if (problems.length > 0) {
    throw new RoutesError(RoutesReason.INVALID, `${source}: ${problems.join("; ")}`);
  }
  const routes = parsed.data.routes.map(toRoute);
  const unreachable = unreachableRoutes(routes);
  if (unreachable.length > 0) {
    throw new RoutesError(RoutesReason.UNREACHABLE, `${source}: ${unreachable.join("; ")}`);
  }
  return new RouteTable(routes);
}

/** What the schema cannot say: fields that depend on others. */
function semanticProblems(route: RouteInput, i: number): string[] {
  const at = `routes[${i}]`;
  const problems: string[] = [];
  const { match, backend } = route;
  if (match.stripPrefix !== undefined && match.rewritePrefix !== undefined) {
    problems.push(
      `${at}.match.stripPrefix is set; expected only one of stripPrefix, rewritePrefix`,
    );
  }
  if (backend.kind === "s3" && backend.bucket === undefined) {
    problems.push(`${at}.backend.bucket is missing; expected ${EXPECT.bucket} for kind s3`);
  }
  if (backend.kind !== "s3" && backend.bucket !== undefined) {
    problems.push(
      `${at}.backend.bucket is ${JSON.stringify(backend.bucket)}; expected no bucket for kind ${backend.kind}`,
    );
  }
  route.acl.forEach((rule, r) => {
    if (
      rule.ids === undefined &&
      rule.idPrefixes === undefined &&
      rule.trustDomains === undefined
    ) {
      problems.push(`${at}.acl[${r}] names no caller; expected ids, idPrefixes or trustDomains`);
    }
  });
  return problems;
}

function toRoute(input: RouteInput): Route {
  const { match, backend } = input;
  const target: BackendTarget = { kind: backend.kind, region: backend.region, host: backend.host };
  if (backend.roleArn !== undefined) target.roleArn = backend.roleArn;
  if (backend.endpoint !== undefined) target.endpoint = backend.endpoint;
  if (backend.bucket !== undefined) target.bucket = backend.bucket;
  const route: Route = {
    name: input.name,
    pathPrefix: match.pathPrefix,
    target,
    acl: new Acl(
      input.acl.map((rule) => ({
        // Validated above; SPIFFE IDs and trust domains have one spelling (lower-case authority).
        ids: rule.ids ?? [],
        idPrefixes: rule.idPrefixes ?? [],
        trustDomains: rule.trustDomains ?? [],
        ...(rule.methods === undefined ? {} : { methods: rule.methods }),
      })),
    ),
  };
  if (match.sni !== undefined) route.sni = match.sni;
  if (match.host !== undefined) route.host = match.host;
  if (match.stripPrefix === true) route.rewritePrefix = "";
  if (match.rewritePrefix !== undefined) route.rewritePrefix = match.rewritePrefix;
  return route;
}

/** Routes an earlier route matches entirely. */
function unreachableRoutes(routes: readonly Route[]): string[] {
  const problems: string[] = [];
  const label = (i: number) => `routes[${i}] (${JSON.stringify(routes[i]?.name)})`;
  routes.forEach((later, j) => {
    const i = routes.findIndex((earlier, k) => k < j && covers(earlier, later));
    if (i === -1) return;
    problems.push(
      covers(later, routes[i] as Route)
        ? `${label(j)} matches the same requests as ${label(i)}`
        : `${label(j)} is shadowed by ${label(i)}, which matches every request it does; list the more specific route first`,
    );
  });
  return problems;
}

/** Whether every request `b` matches is also matched by `a`. */
function covers(a: Route, b: Route): boolean {
  if (a.sni !== undefined && a.sni !== b.sni) return false;
  if (a.host !== undefined && a.host !== b.host) return false;
  return (
    a.pathPrefix === "/" ||
    b.pathPrefix === a.pathPrefix ||
    b.pathPrefix.startsWith(`${a.pathPrefix}/`)
  );
}

function prefixMatches(prefix: string, target: string): boolean {
  if (prefix === "/") return true;
  if (!target.startsWith(prefix)) return false;
  const next = target.charCodeAt(prefix.length);
  // End of target, "/" or "?": the prefix ends on a segment boundary.
  return Number.isNaN(next) || next === 0x2f || next === 0x3f;
}

function isEndpoint(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (
    (url.protocol === "http:" || url.protocol === "https:") &&
    url.pathname === "/" &&
    !value.endsWith("/") &&
    url.search === "" &&
    url.hash === "" &&
    url.username === "" &&
    url.password === ""
  );
}

function describeIssue(input: unknown, issue: z.core.$ZodIssue): string {
  const path = fieldPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys
      .map(
        (key) =>
          `${path === "" ? key : `${path}.${key}`} is not a known field; expected ${issue.message}`,
      )
      .join("; ");
  }
  const value = valueAt(input, issue.path);
  const shown = value === undefined ? "missing" : `${shortJson(value)}`;
  return `${path === "" ? "the document" : path} is ${shown}; expected ${issue.message}`;
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`))
    .join("");
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let at = input;
  for (const key of path) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/** The value as JSON, cut to keep one bad field from flooding the message. */
function shortJson(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}
