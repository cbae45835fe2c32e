/**
 * The mTLS server callers from the mesh reach. The handshake admits only
 * clients with a valid X509-SVID from the ingress's bundles (expired SVIDs,
 * unknown trust domains and clients without a certificate are refused there);
 * then each request is routed and checked against its route's ACL before
 * anything else happens: a refused caller gets a 403 naming the reason and
 * the back never sees the request. An allowed request has every incoming
 * caller-identity header replaced by the verified peer's, and goes to the
 * {@link Forwarder}.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { TLSSocket } from "node:tls";
import {
  createSpiffeHttpsServer,
  type SpiffeId,
  type SpiffeTlsServerOptions,
  type TrustDomain,
  tlsServerOptions,
  type X509Bundle,
  type X509BundleSource,
} from "../layers/spiffe/index.ts";
import { DENIED_HEADER } from "./acl.ts";
import { CALLER_ID_HEADER } from "./backend/index.ts";
import type { Forwarder } from "./backend/types.ts";
import type { IngressLogger, RequestLogEntry } from "./log.ts";
import { type IngressMetrics, NO_ROUTE } from "./metrics.ts";
import { backendPath, type RouteTable } from "./routes.ts";
import type { ServerIdentity } from "./svid.ts";

/**
 * Every incoming header with this prefix is removed: only the ingress speaks
 * for the caller, in the back's `CALLER_ID_HEADER`.
 */
export const CALLER_HEADER_PREFIX = "x-lambda-svid-caller-";

export interface IngressServerOptions {
  identity: ServerIdentity;
  routes: RouteTable;
  forwarder: Forwarder;
  metrics: IngressMetrics;
  logger: IngressLogger;
}

/**
 * The bundles the handshake verifies callers against. The SPIFFE check keeps
 * the source it was made with, so a rotation that brings new roots swaps what
 * this holds instead.
 */
class CurrentBundles implements X509BundleSource {
  constructor(public current: X509BundleSource) {}

  bundleFor(trustDomain: TrustDomain): X509Bundle | undefined {
    return this.current.bundleFor(trustDomain);
  }

  allRoots() {
    return this.current.allRoots();
  }
}

/**
 * The ingress's mTLS server.
 *
 * @example
 * const server = new IngressServer({ identity, routes, forwarder, metrics: new IngressMetrics(), logger: jsonLogger() });
 * const port = await server.listen(8443, "0.0.0.0");
 * source.watch((next) => server.rotate(next), (err) => logger.warn("svid", { error: err.message }));
 */
export class IngressServer {
  readonly server: https.Server;
  /** Swapped whole by a reload; requests in flight keep the table they matched in. */
  routes: RouteTable;
  private readonly bundles: CurrentBundles;
  private readonly callers = new WeakMap<Socket, SpiffeId>();
  private readonly forwarder: Forwarder;
  private readonly metrics: IngressMetrics;
  private readonly logger: IngressLogger;
  private verified: SpiffeId | undefined;
  private inFlight = 0;

  constructor(options: IngressServerOptions) {
    this.routes = options.routes;
    this.forwarder = options.forwarder;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.bundles = new CurrentBundles(options.identity.bundles);
    this.server = createSpiffeHttpsServer(this.tlsOptions(options.identity));
    // Runs first among the listeners of a connection that passed the SPIFFE
    // check, in the same emit as the check: `verified` is that connection's ID.
    this.server.prependListener("secureConnection", (socket: TLSSocket) => {
      if (this.verified !== undefined) this.callers.set(socket, this.verified);
      this.verified = undefined;
      this.metrics.handshake();
    });
    this.server.on("tlsClientError", (err: Error & { reason?: string; code?: string }) => {
      this.metrics.handshakeFailure(err.reason ?? err.code ?? err.name);
    });
    this.server.on("connection", (socket: Socket) => {
      this.metrics.connectionOpened();
      socket.once("close", () => this.metrics.connectionClosed());
    });
    this.server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      void this.handle(req, res, false);
    });
    // With this listener Node no longer sends "100 Continue" by itself: a
    // caller that waits for it sends no body until its request is authorised.
    this.server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
      void this.handle(req, res, true);
    });
  }

  /** Listens; resolves with the port (useful with port 0). */
  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((done, fail) => {
      this.server.once("error", fail);
      this.server.listen(port, host, () => {
        this.server.off("error", fail);
        done();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * Presents `identity`'s SVID and verifies callers against its bundles from
   * the next handshake on. Connections already open keep their session.
   */
  rotate(identity: ServerIdentity): void {
    this.bundles.current = identity.bundles;
    this.server.setSecureContext(this.tlsOptions(identity));
  }

  /**
   * Stops accepting connections, lets requests in flight finish for up to
   * `budgetMs`, then closes every connection.
   */
  async close(budgetMs: number): Promise<void> {
    const closed = new Promise<void>((done) => this.server.close(() => done()));
    const deadline = Date.now() + budgetMs;
    while (this.inFlight > 0 && Date.now() < deadline) {
      this.server.closeIdleConnections();
      await new Promise((r) => setTimeout(r, 10));
    }
    this.server.closeAllConnections();
    await closed;
  }

  private tlsOptions(identity: ServerIdentity): SpiffeTlsServerOptions {
    // Any caller with a valid SVID completes the handshake; who may use which
    // route is the route's ACL, checked per request.
    return tlsServerOptions(identity.svid, this.bundles, (peer) => {
      this.verified = peer;
    });
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
    expectsContinue: boolean,
  ): Promise<void> {
    const started = performance.now();
    this.inFlight += 1;
    const caller = this.callers.get(req.socket);
    const method = req.method ?? "";
    const target = req.url ?? "";
    const mark = target.indexOf("?");
    const path = mark === -1 ? target : target.slice(0, mark);
    const entry: RequestLogEntry = {
      callerId: caller?.toString() ?? "",
      route: undefined,
      method,
      path,
      status: 0,
      latencyMs: 0,
      bytesIn: 0,
      bytesOut: 0,
    };
    try {
      if (caller === undefined) {
        // Every socket that reaches here passed the SPIFFE check; fail closed all the same.
        req.socket.destroy();
        return;
      }
      if (!path.startsWith("/") || DOT_SEGMENT.test(path)) {
        this.answer(req, res, entry, 400, "bad request target\n");
        return;
      }
      const socket = req.socket as TLSSocket;
      const route = this.routes.match(
        typeof socket.servername === "string" ? socket.servername.toLowerCase() : undefined,
        hostName(req.headers.host),
        target,
      );
      if (route === undefined) {
        this.answer(req, res, entry, 404, "no route\n");
        return;
      }
      entry.route = route.name;
      const denied = route.acl.check(caller, method);
      if (denied !== undefined) {
        entry.denied = denied;
        this.metrics.denial(route.name, denied);
        res.setHeader(DENIED_HEADER, denied);
        this.answer(req, res, entry, 403, "forbidden\n");
        return;
      }
      setCallerHeaders(req, entry.callerId);
      if (expectsContinue) res.writeContinue();
      try {
        const outcome = await this.forwarder.forward({
          target: route.target,
          callerId: entry.callerId,
          route: route.name,
          path: backendPath(route, target),
          req,
          res,
        });
        entry.status = outcome.status;
        entry.bytesIn = outcome.bytesIn;
        entry.bytesOut = outcome.bytesOut;
      } catch (err) {
        entry.error = (err as Error).name;
        if (res.headersSent) {
          entry.status = res.statusCode;
          res.destroy();
        } else {
          this.answer(req, res, entry, 502, "bad gateway\n");
        }
      }
    } finally {
      entry.latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
      this.inFlight -= 1;
      if (entry.status !== 0) {
        this.metrics.request(entry.route ?? NO_ROUTE, entry.status, entry.latencyMs / 1000);
        this.logger.request(entry);
      }
    }
  }

  /**
   * The front's own short answer. A body the caller sends is never read: the
   * connection closes after the answer instead of reading it to the end.
   */
  private answer(
    req: IncomingMessage,
    res: ServerResponse,
    entry: RequestLogEntry,
    status: number,
    body: string,
  ): void {
    const hasBody =
      req.headers["transfer-encoding"] !== undefined ||
      (req.headers["content-length"] ?? "0") !== "0";
    if (hasBody) res.shouldKeepAlive = false;
    res.writeHead(status, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
    entry.status = status;
    entry.bytesOut = Buffer.byteLength(body);
  }
}

/** Removes every incoming caller-identity header and sets the verified one. */
function setCallerHeaders(req: IncomingMessage, callerId: string): void {
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith(CALLER_HEADER_PREFIX)) delete req.headers[name];
  }
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if ((raw[i] as string).toLowerCase().startsWith(CALLER_HEADER_PREFIX)) raw.splice(i, 2);
  }
  req.headers[CALLER_ID_HEADER] = callerId;
  raw.push(CALLER_ID_HEADER, callerId);
}

/** The Host header's host name in lower case, without a port. */
function hostName(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const end = host.startsWith("[") ? host.indexOf("]") + 1 : host.indexOf(":");
  return (end <= 0 ? host : host.slice(0, end)).toLowerCase();
}

/**
 * A `.` or `..` segment of a path, spelled plainly or percent-encoded: a
 * backend that resolves them would reach a path outside the route's prefix
 * after the ACL allowed the prefix.
 */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;
