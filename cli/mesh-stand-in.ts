/**
 * The mesh service `npm run demo` calls through the agent: an HTTPS server on
 * 127.0.0.1 with its own X509-SVID from the local CA, built with the SPIFFE
 * library's server helpers, that accepts only the given client identity and
 * answers with the SPIFFE ID it verified the caller as. A demo's stand-in,
 * not a test fake: `cli/` may not import `test/`.
 */
import type * as https from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import {
  type Authorizer,
  createSpiffeHttpsServer,
  peerChain,
  tlsServerOptions,
  verifyX509Svid,
  type X509BundleSource,
  type X509Svid,
} from "../layers/spiffe/index.ts";

/** A running mesh stand-in. */
export class MeshStandIn {
  private constructor(private readonly server: https.Server) {}

  /**
   * Starts the server on a free loopback port.
   *
   * @example
   * const mesh = await MeshStandIn.start(meshSvid, bundle, authorizeId("spiffe://example.org/prod/payments"));
   * console.log(mesh.url);
   */
  static async start(
    svid: X509Svid,
    bundle: X509BundleSource,
    authorizer: Authorizer,
  ): Promise<MeshStandIn> {
    const server = createSpiffeHttpsServer(
      tlsServerOptions(svid, bundle, authorizer),
      (req, res) => {
        // The handshake already verified and authorized the caller; this names whom it saw.
        const caller = verifyX509Svid(
          peerChain((req.socket as TLSSocket).getPeerCertificate(true)),
          bundle,
          { usage: "client" },
        ).id.toString();
        req.resume();
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(`hello from ${svid.id.toString()} to ${caller}: ${req.method} ${req.url}`);
      },
    );
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    return new MeshStandIn(server);
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }
}
