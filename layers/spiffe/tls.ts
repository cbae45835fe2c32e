import { constants } from "node:crypto";
import type { RequestListener } from "node:http";
import * as https from "node:https";
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from "node:tls";
import * as tls from "node:tls";
import type { Authorizer } from "./authorize.ts";
import type { X509BundleSource } from "./bundle.ts";
import { SpiffeTlsError, TlsReason } from "./errors.ts";
import type { X509Svid } from "./svid.ts";
import { type VerifiedX509Svid, verifyX509Svid } from "./verify.ts";

const kVerifyPeer = Symbol.for("lambda-svid.spiffe.verifyPeer");

/** Options for `tls.createServer`/`https.createServer` that carry the SPIFFE peer check. */
export interface SpiffeTlsServerOptions extends tls.TlsOptions {
  readonly [kVerifyPeer]: (socket: TLSSocket) => VerifiedX509Svid;
}

/**
 * Options for `tls.connect`, `https.Agent` and undici's `Agent({ connect })`
 * that carry the SPIFFE server check and turn TLS session resumption off.
 */
export interface SpiffeTlsClientOptions extends tls.ConnectionOptions {
  /**
   * Node skips `checkServerIdentity` on a resumed session, so a resumed
   * connection would never have its peer authorized: no session is offered.
   * An own `undefined` also overrides the session an `https.Agent` would add.
   */
  readonly session: undefined;
  /** Read by `https.Agent` and undici: keep no sessions to offer later. */
  readonly maxCachedSessions: 0;
}

/**
 * Options for `tls.connect` / `https.request` that present `svid` and accept
 * the server only if it shows a valid X509-SVID from `bundle` whose SPIFFE ID
 * `authorizer` accepts. There is no DNS host name check: the identity is the
 * URI SAN. A rejected server fails the handshake, before any request byte is
 * written.
 *
 * Every connection made with these options does a full handshake, as
 * go-spiffe's do: Node checks the server only on full handshakes, and a
 * resumed session keeps no certificate chain to check. Do not add a
 * `session` of your own; sockets you make yourself can be passed to
 * {@link guardClientSocket}, which refuses a resumed session outright.
 *
 * @example
 * const socket = guardClientSocket(tls.connect({
 *   host: "10.0.0.5", port: 8443,
 *   ...tlsClientOptions(svid, bundle, authorizeId("spiffe://example.org/prod/db")),
 * }));
 */
export function tlsClientOptions(
  svid: X509Svid,
  bundle: X509BundleSource,
  authorizer: Authorizer,
): SpiffeTlsClientOptions {
  return {
    ...credentials(svid, bundle),
    rejectUnauthorized: true,
    session: undefined,
    maxCachedSessions: 0,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      try {
        const verified = verifyX509Svid(peerChain(cert as DetailedPeerCertificate), bundle, {
          usage: "server",
        });
        authorizer(verified.id);
        return undefined;
      } catch (err) {
        return err as Error;
      }
    },
  };
}

/**
 * Makes a client socket fail with a {@link SpiffeTlsError} if its handshake
 * resumed a session instead of checking the server's certificate. The check
 * runs before any other `secureConnect` listener, and so before data written
 * early leaves the process. Returns the socket.
 *
 * @example
 * const socket = guardClientSocket(tls.connect({ host, port, ...tlsClientOptions(svid, bundle, authorizer) }));
 */
export function guardClientSocket<S extends TLSSocket>(socket: S): S {
  socket.prependOnceListener("secureConnect", () => {
    if (socket.isSessionReused()) socket.destroy(new SpiffeTlsError(TlsReason.SESSION_RESUMED));
  });
  return socket;
}

/**
 * Options for a server that requires every client to present a valid X509-SVID
 * from `bundle` whose SPIFFE ID `authorizer` accepts.
 *
 * Session resumption is off: a resumed session would keep no chain to verify.
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
    // No session tickets, and Node keeps no server session cache unless asked:
    // every client does a full handshake and sends its whole chain.
    secureOptions: constants.SSL_OP_NO_TICKET,
    [kVerifyPeer]: (socket: TLSSocket) => {
      // A resumed session keeps only the client's leaf, not the intermediates it sent.
      if (socket.isSessionReused()) throw new SpiffeTlsError(TlsReason.SESSION_RESUMED);
      const verified = verifyX509Svid(peerChain(socket.getPeerCertificate(true)), bundle, {
        usage: "client",
      });
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
