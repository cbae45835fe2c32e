/**
 * The identity agent of lambda-svid.
 *
 * - The extension (`main.ts`, started by the layer's `extensions/lambda-svid`)
 *   keeps the function's X509-SVID fresh and proxies plain HTTP on
 *   127.0.0.1 to mesh services over mTLS, checking each peer's SPIFFE ID.
 * - The in-process client, exported here and shipped in the layer as
 *   `@lambda-svid/agent`: {@link getSvid} and mTLS `https.Agent` / `fetch`
 *   dispatcher factories that rebuild when the SVID rotates.
 *
 * Imports `layers/svid-secret` (the SVID it serves, and its reader), `layers/spiffe`
 * and `lib/`; nothing from functions/ or cli/.
 *
 * @example
 * import { createDispatchers, getSvid } from "@lambda-svid/agent";
 * import { authorizeId } from "@lambda-svid/spiffe";
 * const db = createDispatchers({ authorizer: authorizeId("spiffe://example.org/prod/db") });
 * const res = await fetch("https://db.internal:8443/q", { dispatcher: await db.get() });
 *
 * @module
 */

// The SVID secret's reader, shipped with the agent so a function needs one package.
export {
  DEFAULT_FRESHNESS,
  type Freshness,
  type FreshnessPolicy,
  freshness,
  type HeldSvid,
  type SecretReader,
  SvidSource,
  SvidSourceError,
  type SvidSourceOptions,
  SvidSourceReason,
} from "../svid-secret/index.ts";
export {
  createDispatchers,
  createHttpsAgents,
  defaultSvidSource,
  getSvid,
} from "./client.ts";
export {
  type AgentConfig,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_PORT,
  loadAgentConfig,
  TOKEN_HEADER,
} from "./config.ts";
export { mtlsDispatchers } from "./dispatcher.ts";
export { AgentError, AgentReason } from "./errors.ts";
export { type MtlsAgentOptions, mtlsHttpsAgents } from "./https-agent.ts";
export {
  ERROR_HEADER,
  type LocalProxy,
  type ProxyOptions,
  ProxyReason,
  startProxy,
} from "./proxy.ts";
export type { Rotating } from "./rotating.ts";
export { parseRoutes, type Route } from "./routes.ts";
