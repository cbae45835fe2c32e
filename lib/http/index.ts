/**
 * HTTP plumbing the proxies share (the layer's agent, mesh-bound, and the
 * ingress, AWS-bound): which fields of a message belong to one connection and
 * must not be passed on (RFC 9110 section 7.6.1).
 *
 * Plumbing that knows no product part: imports Node only.
 *
 * @module
 */
import type { IncomingHttpHeaders } from "node:http";

/**
 * Connection-specific fields: RFC 9110's list, with `keep-alive` and
 * `proxy-connection`, which clients still send.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

const NONE: ReadonlySet<string> = new Set();

/**
 * A message's end-to-end headers: without the hop-by-hop fields, those its
 * `Connection` header names, and any in `drop` (lower-case names).
 *
 * @example
 * const out = Object.fromEntries(endToEndHeaders(req.headers, new Set(["host"])));
 */
export function endToEndHeaders(
  headers: IncomingHttpHeaders,
  drop: ReadonlySet<string> = NONE,
): Array<[name: string, value: string | string[]]> {
  // Most messages name nothing in Connection (or only keep-alive): no set to build per request.
  const named =
    headers.connection === undefined
      ? NONE
      : new Set(headers.connection.split(",").map((name) => name.trim().toLowerCase()));
  const out: Array<[string, string | string[]]> = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP_HEADERS.has(name) || named.has(name) || drop.has(name)) {
      continue;
    }
    out.push([name, value]);
  }
  return out;
}
