/**
 * The in-process client: the function's own code reads the SVID and does mTLS
 * itself, without the proxy. One SVID source per process, built on first use
 * from the same variables as the extension, so warm invocations reuse it.
 */
import type * as https from "node:https";
import type { Dispatcher } from "undici";
import { type HeldSvid, SvidSource } from "../svid-secret/index.ts";
import { loadClientConfig } from "./config.ts";
import { mtlsDispatchers } from "./dispatcher.ts";
import { type MtlsAgentOptions, mtlsHttpsAgents } from "./https-agent.ts";
import type { Rotating } from "./rotating.ts";

let shared: SvidSource | undefined;

/**
 * The process's SVID source, configured by `LAMBDA_SVID_SECRET_NAME`,
 * `LAMBDA_SVID_REFRESH_INTERVAL` and `LAMBDA_SVID_REFRESH_THRESHOLD`.
 *
 * @throws {ConfigError} naming a malformed variable.
 */
export function defaultSvidSource(): SvidSource {
  if (shared === undefined) {
    shared = new SvidSource({
      ...loadClientConfig(process.env),
      onRefreshError: (err) =>
        console.warn(`lambda-svid: keeping the current SVID: ${err.message}`),
    });
  }
  return shared;
}

/**
 * The function's current SVID and the bundles to verify peers with: a cached
 * read of the SVID secret, re-read by the same freshness rules as the
 * extension. Only an expired (or not yet read) SVID makes the caller wait.
 *
 * @throws {SvidSourceError} when no unexpired, verified SVID can be read.
 * @example
 * const { svid, bundles } = await getSvid();
 * tls.connect({ host, port, ...tlsClientOptions(svid, bundles, authorizeId("spiffe://example.org/prod/db")) });
 */
export function getSvid(source: SvidSource = defaultSvidSource()): Promise<HeldSvid> {
  return source.get();
}

/**
 * An `https.Agent` factory doing mTLS with the current SVID, accepting only
 * servers `options.authorizer` allows. Call `get()` per request; it returns a
 * new agent after a rotation.
 *
 * @example
 * const db = createHttpsAgents({ authorizer: authorizeId("spiffe://example.org/prod/db") });
 * https.get("https://db.internal:8443/health", { agent: await db.get() }, onResponse);
 */
export function createHttpsAgents(
  options: MtlsAgentOptions & { source?: SvidSource },
): Rotating<https.Agent> {
  return mtlsHttpsAgents(options.source ?? defaultSvidSource(), options);
}

/**
 * A `fetch` dispatcher factory doing mTLS with the current SVID, accepting
 * only servers `options.authorizer` allows. Call `get()` per request.
 *
 * @example
 * const db = createDispatchers({ authorizer: authorizeId("spiffe://example.org/prod/db") });
 * const res = await fetch("https://db.internal:8443/q", { dispatcher: await db.get() });
 */
export function createDispatchers(
  options: MtlsAgentOptions & { source?: SvidSource },
): Rotating<Dispatcher> {
  return mtlsDispatchers(options.source ?? defaultSvidSource(), options);
}
