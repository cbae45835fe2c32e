/**
 * A mesh service stand-in: an HTTPS server built with the SPIFFE library's
 * server helpers that accepts only the given client identity, and records the
 * serial of every client certificate it sees and every request that reached it.
 */
import type * as http from "node:http";
import type * as https from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import {
  type Authorizer,
  createSpiffeHttpsServer,
  tlsServerOptions,
  type X509BundleSource,
  type X509Svid,
} from "../../layers/spiffe/index.ts";

export interface MeshRequest {
  method: string | undefined;
  url: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  clientSerial: string;
}

/**
 * Paths: `/echo` streams the request body back as it arrives, `/hold`
 * answers only when {@link MeshStandIn.release} is called, `/silent` never
 * answers, anything else answers `hello <path>`.
 */
export class MeshStandIn {
  /** Client certificate serial of each TLS connection the server accepted. */
  readonly handshakes: string[] = [];
  readonly requests: MeshRequest[] = [];
  private readonly held: http.ServerResponse[] = [];

  private constructor(readonly server: https.Server) {}

  /**
   * @param keepAliveTimeoutMs how long an idle connection stays open; real
   *   servers close them after a few seconds, so pooled clients must reconnect.
   */
  static async start(
    svid: X509Svid,
    bundle: X509BundleSource,
    authorizer: Authorizer,
    keepAliveTimeoutMs = 60_000,
  ): Promise<MeshStandIn> {
    const server = createSpiffeHttpsServer(tlsServerOptions(svid, bundle, authorizer));
    const mesh = new MeshStandIn(server);
    server.keepAliveTimeout = keepAliveTimeoutMs;
    server.on("secureConnection", (socket: TLSSocket) => {
      mesh.handshakes.push(socket.getPeerCertificate().serialNumber);
    });
    server.on("request", (req, res) => {
      const socket = req.socket as TLSSocket;
      mesh.requests.push({
        method: req.method,
        url: req.url,
        headers: { ...req.headers },
        clientSerial: socket.getPeerCertificate().serialNumber,
      });
      if (req.url?.startsWith("/echo")) {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        req.pipe(res);
      } else if (req.url?.startsWith("/hold")) {
        req.resume();
        mesh.held.push(res);
      } else if (req.url?.startsWith("/silent")) {
        req.resume();
      } else {
        req.resume();
        res.writeHead(200, { "content-type": "text/plain", "x-mesh": "yes" });
        res.end(`hello ${req.url}`);
      }
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    return mesh;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** Resolves once a `/hold` request is waiting. */
  async holding(): Promise<void> {
    while (this.held.length === 0) await new Promise((r) => setTimeout(r, 10));
  }

  /** Answers every waiting `/hold` request. */
  release(body = "released"): void {
    for (const res of this.held.splice(0)) {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(body);
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }
}
