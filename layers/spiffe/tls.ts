import type { RequestListener } from "node:http";
import * as https from "node:https";
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from "node:tls";
import * as tls from "node:tls";
import type { Authorizer } from "./authorize.ts";
import type { X509BundleSource } from "./bundle.ts";
import type { X509Svid } from "./svid.ts";
import { type VerifiedX509Svid, verifyX509Svid } from "./verify.ts";

const kVerifyPeer = Symbol.for("lambda-svid.spiffe.verifyPeer");

/** Options for `tls.createServer`/`https.createServer` that carry the SPIFFE peer check. */
export interface SpiffeTlsServerOptions extends tls.TlsOptions {
  readonly [kVerifyPeer]: (socket: TLSSocket) => VerifiedX509Svid;
}

/**
 * Options for `tls.connect` / `https.request` that present `svid` and accept
 * the server only if it shows a valid X509-SVID from `bundle` whose SPIFFE ID
 * `authorizer` accepts. There is no DNS host name check: the identity is the
 * URI SAN. A rejected server fails the handshake, before any request byte is
 * written.
 *
 * @example
 * const socket = tls.connect({
 *   host: "10.0.0.5", port: 8443,
 *   ...tlsClientOptions(svid, bundle, authorizeId("spiffe://example.org/prod/db")),
 * });
 */
export function tlsClientOptions(
  svid: X509Svid,
  bundle: X509BundleSource,
  authorizer: Authorizer,
): tls.ConnectionOptions {
  return {
    ...credentials(svid, bundle),
    rejectUnauthorized: true,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      try {
        const verified = verifyX509Svid(peerChain(cert as DetailedPeerCertificate), bundle);
        authorizer(verified.id);
        return undefined;
      } catch (err) {
        return err as Error;
      }
    },
  };
}

/**
 * Options for a server that requires every client to present a valid X509-SVID
 * from `bundle` whose SPIFFE ID `authorizer` accepts.
 *
 * Node's TLS server has no verify callback, so the SPIFFE part of the check
 * runs when the handshake completes: create the server with
 * {@link createSpiffeTlsServer} or {@link createSpiffeHttpsServer}, or pass an
 * existing server to {@link guardServer}. OpenSSL alone already refuses clients
 * without a certificate or with one that does not chain to the bundle.
 *
 * @example
 * const server = createSpiffeHttpsServer(
 *   tlsServerOptions(svid, bundle, authorizeMemberOf("example.org")),
 *   (req, res) => res.end("ok"),
 * );
 */
export function tlsServerOptions(
  svid: X509Svid,
  bundle: X509BundleSource,
  authorizer: Authorizer,
): SpiffeTlsServerOptions {
  return {
    ...credentials(svid, bundle),
    requestCert: true,
    rejectUnauthorized: true,
    [kVerifyPeer]: (socket: TLSSocket) => {
      const verified = verifyX509Svid(peerChain(socket.getPeerCertificate(true)), bundle);
      authorizer(verified.id);
      return verified;
    },
  };
}

/**
 * Makes `server` drop every connection whose client fails the SPIFFE check of
 * `options` before any `secureConnection` listener (and so any HTTP handler)
 * sees it. The failure is emitted as `tlsClientError`, as OpenSSL failures are.
 * Returns the server.
 */
export function guardServer<S extends tls.Server>(server: S, options: SpiffeTlsServerOptions): S {
  const verify = options[kVerifyPeer];
  const emit = server.emit as (this: S, event: string | symbol, ...args: unknown[]) => boolean;
  // Wrapping emit (not adding a listener) also covers listeners added after this call.
  server.emit = function guardedEmit(this: S, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "secureConnection") {
      const socket = args[0] as TLSSocket;
      try {
        verify(socket);
      } catch (err) {
        socket.destroy();
        emit.call(this, "tlsClientError", err, socket);
        return false;
      }
    }
    return emit.call(this, event, ...args);
  } as S["emit"];
  return server;
}

/** `tls.createServer` with {@link guardServer} applied. */
export function createSpiffeTlsServer(
  options: SpiffeTlsServerOptions,
  listener?: (socket: TLSSocket) => void,
): tls.Server {
  return guardServer(tls.createServer(options, listener), options);
}

/** `https.createServer` with {@link guardServer} applied. */
export function createSpiffeHttpsServer(
  options: SpiffeTlsServerOptions,
  handler?: RequestListener,
): https.Server {
  return guardServer(https.createServer(options, handler), options);
}

/**
 * The peer's certificates as DER, leaf first, in the order Node reports them.
 * Node completes the presented chain with roots from `ca`, which holds only
 * bundle roots, so no certificate from elsewhere enters path building.
 */
export function peerChain(cert: DetailedPeerCertificate): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  let current: DetailedPeerCertificate | undefined = cert;
  while (current?.raw !== undefined && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(current.raw);
    current = current.issuerCertificate;
  }
  return chain;
}

function credentials(svid: X509Svid, bundle: X509BundleSource) {
  return {
    key: svid.keyPem(),
    cert: svid.chainPem(),
    ca: bundle.allRoots().map((root) => root.toPem()),
    minVersion: "TLSv1.2" as const,
  };
}
