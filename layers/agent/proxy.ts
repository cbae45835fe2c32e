/**
 * The localhost proxy: the function speaks plain HTTP to 127.0.0.1, the agent
 * speaks mTLS with its SVID to the route's upstream and accepts only the peer
 * the route names. It serves nothing else: no key, no certificate, no status page.
 */
import { timingSafeEqual } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { LambdaSvidError } from "../../lib/errors/index.ts";
import { endToEndHeaders } from "../../lib/http/index.ts";
import { SpiffeError } from "../spiffe/index.ts";
import type { SvidSource } from "../svid-secret/index.ts";
import { TOKEN_HEADER } from "./config.ts";
import { mtlsHttpsAgents } from "./https-agent.ts";
import type { Rotating } from "./rotating.ts";
import type { Route } from "./routes.ts";

/** What the proxy answers when it cannot forward, with the reason sent in {@link ERROR_HEADER}. */
export const ProxyReason = {
  NOT_ORIGIN_FORM: { status: 400, reason: "proxy: request target must be a path (origin-form)" },
  DOT_SEGMENT: { status: 400, reason: 'proxy: request path must not contain "." or ".." segments' },
  TOKEN: { status: 403, reason: "proxy: missing or wrong token header" },
  UNKNOWN_ROUTE: { status: 404, reason: "proxy: unknown route" },
  PEER_REJECTED: { status: 502, reason: "proxy: upstream peer identity rejected" },
  UPSTREAM_FAILED: { status: 502, reason: "proxy: upstream connection failed" },
  NO_SVID: { status: 503, reason: "proxy: agent has no valid SVID" },
  UPSTREAM_TIMEOUT: { status: 504, reason: "proxy: upstream timed out" },
} as const;
export type ProxyReason = (typeof ProxyReason)[keyof typeof ProxyReason];

/** Response header naming a {@link ProxyReason} on answers the proxy itself gives. */
export const ERROR_HEADER = "x-lambda-svid-error";

/** Besides the hop-by-hop fields: the function's host, and the proxy's own token header. */
const DROPPED = new Set(["host", TOKEN_HEADER]);

/** OpenSSL verification failures: the upstream showed a certificate our bundle does not accept. */
const CERT_REJECTED = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "INVALID_CA",
  "INVALID_PURPOSE",
]);

export interface ProxyOptions {
  routes: Map<string, Route>;
  source: SvidSource;
  /** Required value of {@link TOKEN_HEADER}; `undefined` turns the check off. */
  token: string | undefined;
  upstreamTimeoutMs: number;
  maxSocketsPerRoute: number;
}

/** A running proxy. */
export interface LocalProxy {
  readonly port: number;
  /**
   * Stops accepting, lets in-flight requests finish for up to `budgetMs`, then
   * cuts what is left.
   */
  close(budgetMs: number): Promise<void>;
}

/**
 * Starts the proxy on 127.0.0.1:`port` (0 for any free port).
 *
 * @example
 * const proxy = await startProxy(2777, { routes, source, token, upstreamTimeoutMs: 30_000, maxSocketsPerRoute: 16 });
 */
export async function startProxy(port: number, options: ProxyOptions): Promise<LocalProxy> {
  const upstreams = new Map<string, Upstream>();
  for (const route of options.routes.values()) {
    upstreams.set(route.name, upstreamOf(route, options.maxSocketsPerRoute, options.source));
  }
  const expected = options.token === undefined ? undefined : Buffer.from(options.token);
  let closing = false;

  const server = http.createServer((req, res) => {
    if (closing) res.shouldKeepAlive = false;
    if (expected !== undefined && !tokenMatches(req.headers[TOKEN_HEADER], expected)) {
      return refuse(req, res, ProxyReason.TOKEN);
    }
    const refusal = targetRefusal(req.url ?? "");
    if (refusal !== undefined) return refuse(req, res, refusal.why, refusal.detail);
    const target = resolve(req, upstreams);
    if (target === undefined) return refuse(req, res, ProxyReason.UNKNOWN_ROUTE);
    target.upstream.agents.get().then(
      (agent) => forward(req, res, target.upstream, target.path, agent, options.upstreamTimeoutMs),
      () => refuse(req, res, ProxyReason.NO_SVID),
    );
  });
  // Node hands CONNECT to this event alone and otherwise drops the connection unanswered.
  server.on("connect", (req: http.IncomingMessage, socket: Duplex) => {
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    res.on("finish", () => socket.end());
    refuse(req, res, ProxyReason.NOT_ORIGIN_FORM, "authority-form");
  });
  server.keepAliveTimeout = 60_000;
  // A long upload is the function's business, bounded by its own timeout, not Node's 5-minute default.
  server.requestTimeout = 0;
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => done());
  });

  return {
    port: (server.address() as AddressInfo).port,
    close(budgetMs) {
      closing = true;
      return new Promise<void>((done) => {
        const idle = setInterval(() => server.closeIdleConnections(), 20);
        const cut = setTimeout(() => server.closeAllConnections(), budgetMs);
        server.close(() => {
          clearInterval(idle);
          clearTimeout(cut);
          for (const upstream of upstreams.values()) upstream.agents.close();
          done();
        });
        server.closeIdleConnections();
      });
    },
  };
}

function tokenMatches(value: string | string[] | undefined, expected: Buffer): boolean {
  if (typeof value !== "string") return false;
  const given = Buffer.from(value);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Why a request target may not be forwarded, if it may not. The route's base
 * path is a boundary only while the forwarded path cannot climb out of it, so
 * only origin-form targets (RFC 9112 3.2.1) pass, and none with a `.` or `..`
 * segment (RFC 3986 5.2.4), also percent-encoded or hidden behind an encoded
 * slash or backslash, which some servers decode before they resolve dot
 * segments. An encoded slash alone passes: APIs use it inside one segment.
 * The query is not looked at.
 */
function targetRefusal(target: string): { why: ProxyReason; detail: string } | undefined {
  if (!target.startsWith("/") || target.includes("#")) {
    // Node's parser lets through only these shapes besides origin-form (CONNECT aside).
    const form =
      target === "*" ? "asterisk-form" : target.startsWith("/") ? "a fragment" : "absolute-form";
    return { why: ProxyReason.NOT_ORIGIN_FORM, detail: form };
  }
  const query = target.indexOf("?");
  const path = query === -1 ? target : target.slice(0, query);
  // A dot segment needs a "." in the path, as it is or percent-encoded.
  if (!path.includes(".") && !path.includes("%")) return undefined;
  for (const segment of path.split("/")) {
    const decoded = segment.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
    if (decoded.split(/[/\\]/).some((part) => part === "." || part === "..")) {
      return { why: ProxyReason.DOT_SEGMENT, detail: JSON.stringify(segment) };
    }
  }
  return undefined;
}

/** A route with what forwarding to it needs, worked out once instead of on every request. */
interface Upstream {
  route: Route;
  /** The pool for the current SVID. */
  agents: Rotating<https.Agent>;
  /** The URL's host name, without an IPv6 literal's brackets. */
  hostname: string;
  port: number;
  /** The URL's path without its trailing slash, put before every forwarded path. */
  base: string;
}

function upstreamOf(route: Route, maxSockets: number, source: SvidSource): Upstream {
  return {
    route,
    agents: mtlsHttpsAgents(source, { authorizer: route.authorize, maxSockets }),
    hostname: route.url.hostname.replace(/^\[|\]$/g, ""),
    port: route.url.port === "" ? 443 : Number(route.url.port),
    base: route.url.pathname.replace(/\/$/, ""),
  };
}

/** `Host: <route>` forwards the path as it is; otherwise the first path segment names the route. */
function resolve(
  req: http.IncomingMessage,
  upstreams: Map<string, Upstream>,
): { upstream: Upstream; path: string } | undefined {
  const url = req.url ?? "/";
  const host = (req.headers.host ?? "").replace(/:\d+$/, "");
  const byHost = upstreams.get(host);
  if (byHost !== undefined) return { upstream: byHost, path: url };
  const match = /^\/([^/?#]+)(.*)$/.exec(url);
  const upstream = match === null ? undefined : upstreams.get(match[1] as string);
  if (upstream === undefined) return undefined;
  const rest = match?.[2] ?? "";
  return { upstream, path: rest.startsWith("/") ? rest : `/${rest}` };
}

function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  to: Upstream,
  path: string,
  agent: https.Agent,
  timeoutMs: number,
): void {
  const headers = endToEnd(req.headers);
  headers.push("host", to.route.url.host);
  const upstream = https.request(
    {
      agent,
      host: to.hostname,
      port: to.port,
      servername: to.route.serverName,
      method: req.method,
      path: `${to.base}${path}`,
      headers,
      timeout: timeoutMs,
    },
    (upstreamRes) => {
      res.writeHead(
        upstreamRes.statusCode ?? 502,
        upstreamRes.statusMessage,
        endToEnd(upstreamRes.headers),
      );
      // What arrives in this turn of the event loop (often the head, the whole
      // body and its end) leaves in one write; a long body streams after it.
      res.cork();
      setImmediate(uncork, res);
      upstreamRes.on("error", () => res.destroy());
      upstreamRes.pipe(res);
    },
  );
  upstream.on("timeout", () => upstream.destroy(new UpstreamTimeoutError()));
  upstream.on("error", (err) => {
    if (res.headersSent) res.destroy();
    else refuse(req, res, classify(err));
  });
  // pipe(), not pipeline(): pipeline's per-call AbortController was a tenth of the proxy's CPU.
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  if (req.complete && req.readableLength === 0) {
    // Nothing more will come (a GET, most often): no pipe to set up and take down.
    upstream.end();
    return;
  }
  // As for the response: a body that arrives whole leaves with its end in
  // one write, where the end was an empty write (a syscall) of its own.
  upstream.cork();
  setImmediate(uncork, upstream);
  req.on("error", () => upstream.destroy());
  req.pipe(upstream);
}

/** Flushes what `message` held back, unless its `end()` already did. */
function uncork(message: http.OutgoingMessage): void {
  if (message.writableCorked > 0) message.uncork();
}

/** Marks the upstream request the proxy itself cut for silence. */
class UpstreamTimeoutError extends LambdaSvidError {
  constructor() {
    super(ProxyReason.UPSTREAM_TIMEOUT.reason);
    this.name = "UpstreamTimeoutError";
  }
}

function classify(err: Error): ProxyReason {
  if (err instanceof UpstreamTimeoutError) return ProxyReason.UPSTREAM_TIMEOUT;
  if (err instanceof SpiffeError) return ProxyReason.PEER_REJECTED;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && CERT_REJECTED.has(code)) return ProxyReason.PEER_REJECTED;
  return ProxyReason.UPSTREAM_FAILED;
}

/**
 * Headers without the hop-by-hop ones, including any the `Connection` header
 * lists, as `rawHeaders` lists them (name, value, name, value, ...): Node's
 * request and `writeHead` write such a list as it is, where an object goes
 * through `setHeader`'s checks and header map once more.
 */
function endToEnd(headers: http.IncomingHttpHeaders): string[] {
  const flat: string[] = [];
  for (const [name, value] of endToEndHeaders(headers, DROPPED)) {
    if (typeof value === "string") flat.push(name, value);
    else for (const one of value) flat.push(name, one);
  }
  return flat;
}

/**
 * Answers with a short reason and drops the request body unread. `detail`
 * goes into the body only: the header carries the fixed reason to match on.
 */
function refuse(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  why: ProxyReason,
  detail?: string,
): void {
  const body = `${why.reason}${detail === undefined ? "" : `: ${detail}`}\n`;
  res.writeHead(why.status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    [ERROR_HEADER]: why.reason,
  });
  res.end(body);
  req.resume();
}
