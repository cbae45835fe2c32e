/**
 * `fetch` dispatchers (undici Agents) that do mTLS with the current SVID and
 * accept only the peers an authorizer allows; rebuilt on rotation.
 */
import type { TLSSocket } from "node:tls";
import { Agent, buildConnector, type Dispatcher } from "undici";
import { SpiffeTlsError, TlsReason, tlsClientOptions } from "../spiffe/index.ts";
import type { SvidSource } from "../svid-secret/index.ts";
import { DEFAULT_MAX_CONNECTIONS } from "./config.ts";
import type { MtlsAgentOptions } from "./https-agent.ts";
import { type Rotating, rotating } from "./rotating.ts";

/**
 * The dispatcher for `source`'s current SVID. Pass the dispatcher of each
 * `get()` to `fetch`; a rotated SVID yields a new one, and the old one closes
 * once its requests are done.
 *
 * @example
 * const dispatchers = mtlsDispatchers(source, { authorizer: authorizeMemberOf("example.org") });
 * await fetch("https://db.internal:8443/q", { dispatcher: await dispatchers.get() });
 */
export function mtlsDispatchers(
  source: SvidSource,
  options: MtlsAgentOptions,
): Rotating<Dispatcher> {
  return rotating(
    source,
    (held) =>
      new Agent({
        connections: options.maxSockets ?? DEFAULT_MAX_CONNECTIONS,
        connect: refuseResumed(
          buildConnector(tlsClientOptions(held.svid, held.bundles, options.authorizer)),
        ),
      }),
    (old) => {
      old.close().catch(() => {});
    },
  );
}

/**
 * undici hands a connection to its client only through this callback, so
 * refusing a resumed session here happens before any request byte is written.
 */
function refuseResumed(connect: buildConnector.connector): buildConnector.connector {
  return (options, callback) =>
    connect(options, (...args) => {
      const [err, socket] = args;
      if (err === null && (socket as TLSSocket).isSessionReused()) {
        socket.destroy();
        callback(new SpiffeTlsError(TlsReason.SESSION_RESUMED), null);
      } else {
        callback(...args);
      }
    });
}
