/**
 * The ingress's local operations port, plain HTTP on 127.0.0.1 by default
 * and apart from the mTLS port: `/healthz` answers 200 when the ingress can
 * serve (routes valid, its SVID loaded and unexpired) and 503 otherwise,
 * `/metrics` the Prometheus text of {@link IngressMetrics}.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { IngressMetrics } from "./metrics.ts";

/** What `/healthz` reports: public facts only. */
export interface Readiness {
  ready: boolean;
  /** The SVID's SPIFFE ID and not-after, the number of routes. */
  detail: Record<string, unknown>;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Starts the health and metrics server on `host`:`port` (0 picks a free port).
 *
 * @example
 * const health = await startHealthServer(8081, "127.0.0.1", metrics, () => ({ ready: true, detail: {} }));
 * // curl http://127.0.0.1:8081/healthz
 */
export async function startHealthServer(
  port: number,
  host: string,
  metrics: IngressMetrics,
  readiness: () => Readiness,
): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = req.url?.split("?", 1)[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/healthz") {
      const { ready, detail } = readiness();
      res.writeHead(ready ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: ready ? "ready" : "not ready", ...detail }));
    } else if (path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(metrics.render());
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => {
      server.off("error", fail);
      done();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
