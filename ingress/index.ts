/**
 * The ingress: mesh services call INTO AWS (API Gateway, Lambda function URLs,
 * S3) over SPIFFE mTLS. The front here terminates mTLS with the ingress's own
 * SVID, routes each request by TLS server name, Host and path prefix, checks
 * the caller's SPIFFE ID against the route's ACL, and hands allowed requests
 * to the back (`./backend/`), which signs them with SigV4 and sends them.
 *
 * @example
 * import { createForwarder, FileSvidSource, startIngress } from "./ingress/index.ts";
 * const ingress = await startIngress({
 *   routes: "/etc/lambda-svid/routes.yaml",
 *   svid: new FileSvidSource({ certFile: "svid.pem", keyFile: "svid_key.pem", bundleFile: "svid_bundle.pem" }),
 *   forwarder: createForwarder({ maxBodyBytes: 10 * 1024 * 1024 }),
 *   port: 8443,
 * });
 * process.once("SIGTERM", () => void ingress.close());
 *
 * @module
 */
import { LambdaSvidError } from "../lib/errors/index.ts";
import type { Forwarder } from "./backend/types.ts";
import { DEFAULT_DRAIN_MS, DEFAULT_HEALTH_PORT, DEFAULT_PORT } from "./config.ts";
import { startHealthServer } from "./health.ts";
import { type IngressLogger, jsonLogger } from "./log.ts";
import { IngressMetrics } from "./metrics.ts";
import { loadRoutes, type RouteTable } from "./routes.ts";
import { IngressServer } from "./server.ts";
import type { ServerIdentity, ServerSvidSource } from "./svid.ts";

export { Acl, type AclRule, DENIED_HEADER, DenialReason } from "./acl.ts";
export {
  type BackendTarget,
  CALLER_ID_HEADER,
  createForwarder,
  type Forwarder,
  type ForwarderOptions,
  type ForwardOutcome,
  type ForwardRequest,
} from "./backend/index.ts";
export {
  DEFAULT_DRAIN_MS,
  DEFAULT_HEALTH_PORT,
  DEFAULT_PORT,
  type IngressConfig,
  loadIngressConfig,
  type SvidConfig,
} from "./config.ts";
export {
  IngressSvidError,
  IngressSvidReason,
  RoutesError,
  RoutesReason,
} from "./errors.ts";
export { type HealthServer, type Readiness, startHealthServer } from "./health.ts";
export { type IngressLogger, jsonLogger, type RequestLogEntry } from "./log.ts";
export { IngressMetrics, LATENCY_BUCKETS } from "./metrics.ts";
export {
  ACL_METHODS,
  backendPath,
  loadRoutes,
  parseRoutes,
  type Route,
  RouteTable,
} from "./routes.ts";
export { CALLER_HEADER_PREFIX, IngressServer } from "./server.ts";
export {
  type FileSvidOptions,
  FileSvidSource,
  type SecretSvidOptions,
  SecretSvidSource,
  type ServerIdentity,
  type ServerSvidSource,
} from "./svid.ts";

export interface IngressOptions {
  /** The validated route table, or the route file's path (then {@link RunningIngress.reload} re-reads it). */
  routes: RouteTable | string;
  svid: ServerSvidSource;
  /** The back; closed by {@link RunningIngress.close}. */
  forwarder: Forwarder;
  /** mTLS port; 0 picks a free one. Default {@link DEFAULT_PORT}. */
  port?: number;
  /** Default `0.0.0.0`. */
  host?: string;
  /** Health and metrics port; 0 picks a free one. Default {@link DEFAULT_HEALTH_PORT}. */
  healthPort?: number;
  /** Default `127.0.0.1`: the health port is for the local kubelet and scraper. */
  healthHost?: string;
  /** Default: JSON lines on stdout. */
  logger?: IngressLogger;
  metrics?: IngressMetrics;
  now?: () => Date;
}

export interface RunningIngress {
  port: number;
  healthPort: number;
  metrics: IngressMetrics;
  /** Stops accepting, lets requests in flight finish for up to `drainMs`, then closes everything. */
  close(drainMs?: number): Promise<void>;
  /**
   * Re-reads the route file given as `routes`; requests in flight keep the old table.
   *
   * @throws {RoutesError} when the file is now invalid; the old table stays in use.
   */
  reload(): Promise<void>;
}

/**
 * Starts the ingress: loads the routes and the SVID (failing before
 * listening if either is bad), listens for mTLS and on the health port, and
 * applies SVID rotations as they are read.
 *
 * @throws {RoutesError | IngressSvidError | SvidSourceError} when it cannot start.
 * @example
 * const ingress = await startIngress({ routes: table, svid: source, forwarder, port: 0, healthPort: 0 });
 * console.error(`listening on ${ingress.port}`);
 * await ingress.close();
 */
export async function startIngress(options: IngressOptions): Promise<RunningIngress> {
  const logger = options.logger ?? jsonLogger();
  const metrics = options.metrics ?? new IngressMetrics();
  const now = options.now ?? (() => new Date());
  const routesFile = typeof options.routes === "string" ? options.routes : undefined;
  const routes =
    typeof options.routes === "string" ? await loadRoutes(options.routes) : options.routes;
  let identity = await options.svid.load();
  metrics.svid(identity.svid.notAfter, false);
  const server = new IngressServer({
    identity,
    routes,
    forwarder: options.forwarder,
    metrics,
    logger,
  });
  const port = await server.listen(options.port ?? DEFAULT_PORT, options.host ?? "0.0.0.0");
  let closing = false;
  const health = await startHealthServer(
    options.healthPort ?? DEFAULT_HEALTH_PORT,
    options.healthHost ?? "127.0.0.1",
    metrics,
    () => ({
      ready: !closing && identity.svid.notAfter > now(),
      detail: { ...describeSvid(identity), routes: server.routes.routes.length },
    }),
  ).catch(async (err: unknown) => {
    await server.close(0);
    throw err;
  });
  options.svid.watch(
    (next) => {
      server.rotate(next);
      identity = next;
      metrics.svid(next.svid.notAfter, true);
      logger.info("svid rotated", describeSvid(next));
    },
    (err) => logger.warn("svid re-read failed; keeping the current one", { error: safeText(err) }),
  );
  logger.info("listening", {
    port,
    healthPort: health.port,
    ...describeSvid(identity),
    routes: routes.routes.map((r) => r.name),
  });
  return {
    port,
    healthPort: health.port,
    metrics,
    async close(drainMs = DEFAULT_DRAIN_MS) {
      closing = true;
      options.svid.close();
      logger.info("draining", { inFlightBudgetMs: drainMs });
      await server.close(drainMs);
      await health.close();
      await options.forwarder.close();
    },
    async reload() {
      if (routesFile === undefined) return;
      server.routes = await loadRoutes(routesFile);
      logger.info("routes reloaded", { routes: server.routes.routes.map((r) => r.name) });
    },
  };
}

/** What a log line may say about an SVID: public facts only. */
function describeSvid({ svid }: ServerIdentity): Record<string, string> {
  return {
    spiffeId: svid.id.toString(),
    serial: svid.leaf.serialNumber,
    notAfter: svid.notAfter.toISOString(),
  };
}

/** Only the project's own messages are known to hold nothing secret. */
function safeText(err: Error): string {
  return err instanceof LambdaSvidError || typeof (err as { reason?: unknown }).reason === "string"
    ? err.message
    : err.name;
}
