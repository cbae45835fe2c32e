/**
 * The function owner's routes: which mesh service a route name reaches, under
 * which TLS server name, and which SPIFFE identity must answer there.
 */

import { ConfigError } from "../../lib/config/index.ts";
import {
  type Authorizer,
  authorizeMemberOf,
  authorizeOneOf,
  parseSpiffeId,
  parseTrustDomain,
  SpiffeError,
} from "../spiffe/index.ts";

/** One upstream of the proxy. */
export interface Route {
  name: string;
  /** `https://host:port[/base]`; the request path is appended to the base. */
  url: URL;
  /** SNI sent to the upstream; defaults to the URL's host name. */
  serverName: string;
  /** The expected peer, as text for logs and errors. */
  peer: string;
  authorize: Authorizer;
}

const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * Parses the routes document:
 * `{"<route>": {"url": "https://host:port", "serverName": "...", "peer": {"id": "spiffe://..."} | {"ids": [...]} | {"trustDomain": "..."}}}`.
 * `source` names the variable or file for errors.
 *
 * @throws {ConfigError} naming `source` and the route at fault.
 * @example
 * parseRoutes('{"db": {"url": "https://db.internal:8443", "peer": {"id": "spiffe://example.org/prod/db"}}}', "LAMBDA_SVID_ROUTES");
 */
export function parseRoutes(text: string, source: string): Map<string, Route> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ConfigError(source, "a JSON object of routes");
  }
  if (!isObject(doc)) throw new ConfigError(source, "a JSON object of routes");
  const routes = new Map<string, Route>();
  for (const [name, spec] of Object.entries(doc)) {
    routes.set(name, parseRoute(name, spec, source));
  }
  return routes;
}

function parseRoute(name: string, spec: unknown, source: string): Route {
  const fail = (expected: string) =>
    new ConfigError(source, `route ${JSON.stringify(name)}: ${expected}`);
  if (!ROUTE_NAME.test(name)) throw fail("name of letters, digits, dots, dashes, underscores");
  if (!isObject(spec)) throw fail("an object with url and peer");
  let url: URL;
  try {
    url = new URL(String(spec.url));
  } catch {
    throw fail('url of the form "https://host:port"');
  }
  if (url.protocol !== "https:" || url.search !== "" || url.hash !== "" || url.username !== "") {
    throw fail('url of the form "https://host:port[/base]" without query or credentials');
  }
  const serverName = spec.serverName ?? url.hostname;
  if (typeof serverName !== "string" || serverName === "") throw fail("serverName a host name");
  const peer = spec.peer;
  try {
    if (isObject(peer) && typeof peer.id === "string" && Object.keys(peer).length === 1) {
      return { name, url, serverName, peer: peer.id, authorize: authorizeOneOf(peer.id) };
    }
    if (isObject(peer) && isStringList(peer.ids) && Object.keys(peer).length === 1) {
      const ids = peer.ids.map((id) => parseSpiffeId(id));
      return { name, url, serverName, peer: ids.join(","), authorize: authorizeOneOf(...ids) };
    }
    if (isObject(peer) && typeof peer.trustDomain === "string" && Object.keys(peer).length === 1) {
      const td = parseTrustDomain(peer.trustDomain);
      return { name, url, serverName, peer: td.idString(), authorize: authorizeMemberOf(td) };
    }
  } catch (err) {
    if (err instanceof SpiffeError) throw fail(`peer: ${err.message}`);
    throw err;
  }
  throw fail(
    'peer {"id": "spiffe://..."}, {"ids": ["spiffe://...", ...]} or {"trustDomain": "..."}',
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string");
}
