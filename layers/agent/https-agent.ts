/**
 * `https.Agent`s that do mTLS with the current SVID and accept only the peers
 * an authorizer allows; kept alive, TLS sessions resumed, rebuilt on rotation.
 */
import * as https from "node:https";
import { type Authorizer, tlsClientOptions } from "../spiffe/index.ts";
import { type Rotating, rotating } from "./rotating.ts";
import type { SvidSource } from "./svid-source.ts";

export interface MtlsAgentOptions {
  /** Decides which server SPIFFE IDs are accepted. */
  authorizer: Authorizer;
  /** Most connections per upstream; defaults to 16. */
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
    (held) =>
      new https.Agent({
        keepAlive: true,
        maxSockets: options.maxSockets ?? 16,
        ...tlsClientOptions(held.svid, held.bundles, options.authorizer),
      }),
    retireAgent,
  );
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
