/**
 * `https.Agent`s that do mTLS with the current SVID and accept only the peers
 * an authorizer allows; kept alive, rebuilt on rotation. Every new connection
 * does a full handshake, so every one has its server checked.
 */

import * as https from "node:https";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";
import { type Authorizer, guardClientSocket, tlsClientOptions } from "../spiffe/index.ts";
import type { SvidSource } from "../svid-secret/index.ts";
import { DEFAULT_MAX_CONNECTIONS } from "./config.ts";
import { type Rotating, rotating } from "./rotating.ts";

export interface MtlsAgentOptions {
  /** Decides which server SPIFFE IDs are accepted. */
  authorizer: Authorizer;
  /** Most connections per upstream; defaults to {@link DEFAULT_MAX_CONNECTIONS}. */
  maxSockets?: number;
}

/**
 * The `https.Agent` for `source`'s current SVID. Pass the agent of each
 * `get()` to `https.request`; a rotated SVID yields a new agent.
 *
 * @example
 * const agents = mtlsHttpsAgents(source, { authorizer: authorizeId("spiffe://example.org/prod/db") });
 * https.request("https://db.internal:8443/q", { agent: await agents.get() });
 */
export function mtlsHttpsAgents(
  source: SvidSource,
  options: MtlsAgentOptions,
): Rotating<https.Agent> {
  return rotating(
    source,
    (held) => {
      const tlsOptions = tlsClientOptions(held.svid, held.bundles, options.authorizer);
      return new SpiffeHttpsAgent({
        keepAlive: true,
        maxSockets: options.maxSockets ?? DEFAULT_MAX_CONNECTIONS,
        ...tlsOptions,
        ...sharedContext(tlsOptions),
      });
    },
    retireAgent,
  );
}

/**
 * One TLS context for all of a pool's connections, instead of Node building
 * one per connection from the PEM text. Node's agent also keys its pool by
 * joining every `key`, `cert` and `ca` string it is given, on every request
 * and again on every socket it frees; a context keeps that key short. The
 * context is the same OpenSSL setup that `tls.connect` would build.
 */
function sharedContext(tlsOptions: tls.ConnectionOptions) {
  return {
    secureContext: tls.createSecureContext(tlsOptions),
    key: undefined,
    cert: undefined,
    ca: undefined,
  };
}

/** An `https.Agent` whose every socket refuses a resumed TLS session. */
class SpiffeHttpsAgent extends https.Agent {
  override createConnection(
    ...args: Parameters<https.Agent["createConnection"]>
  ): ReturnType<https.Agent["createConnection"]> {
    return guardClientSocket(super.createConnection(...args) as Duplex as tls.TLSSocket);
  }
}

/**
 * Node's agent destroys, instead of pooling, every socket freed while its
 * `keepAlive` is off: busy sockets finish their request, then close.
 */
function retireAgent(agent: https.Agent): void {
  (agent as unknown as { keepAlive: boolean }).keepAlive = false;
  for (const sockets of Object.values(agent.freeSockets)) {
    for (const socket of sockets ?? []) socket.destroy();
  }
}
