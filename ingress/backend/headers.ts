/**
 * Which headers cross the ingress, and which of them are signed. The back
 * signs an allow-list only, so a header a caller adds cannot change what the
 * signature covers; headers outside it are forwarded unsigned, as proxies
 * and the SDK itself leave `user-agent` unsigned.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { endToEndHeaders } from "../../lib/http/index.ts";

/** The caller's SPIFFE ID as the back sends it to the backend, signed, never taken from the caller. */
export const CALLER_ID_HEADER = "x-lambda-svid-caller-spiffe-id";

/** Headers of the ingress's own namespace: a caller's copy is dropped, only the back sets them. */
const OWN_PREFIX = "x-lambda-svid-";

/** Besides the hop-by-hop fields: those the back computes itself. */
const DROPPED = new Set([
  "expect",
  "host",
  "content-length",
  // A signature of the caller's own, or the pieces of one, must not reach AWS beside ours.
  "authorization",
  "x-amz-date",
  "x-amz-security-token",
  "x-amz-content-sha256",
]);

/** Signed besides `host`, the back's own headers and `x-amz-*`: what a backend acts on. */
const SIGNED = new Set(["content-type", "content-md5", "content-encoding", "content-language"]);

/** The caller's headers split into those the back signs and those it forwards unsigned. */
export interface ForwardedHeaders {
  signed: Record<string, string>;
  unsigned: Record<string, string>;
}

/**
 * Splits the caller's end-to-end headers into signed and unsigned ones,
 * dropping hop-by-hop fields (also those the `connection` header names), the
 * caller's `host`, any signature material and any copy of the ingress's own
 * headers, then sets {@link CALLER_ID_HEADER} from the authorised caller.
 *
 * @example
 * const { signed, unsigned } = forwardedHeaders(req.headers, "spiffe://example.org/web");
 */
export function forwardedHeaders(
  incoming: IncomingHttpHeaders,
  callerId: string,
): ForwardedHeaders {
  const signed: Record<string, string> = {};
  const unsigned: Record<string, string> = {};
  for (const [name, value] of endToEndHeaders(incoming, DROPPED)) {
    if (name.startsWith(OWN_PREFIX)) continue;
    const joined = Array.isArray(value) ? value.join(", ") : value;
    if (SIGNED.has(name) || name.startsWith("x-amz-")) signed[name] = joined;
    else unsigned[name] = joined;
  }
  signed[CALLER_ID_HEADER] = callerId;
  return { signed, unsigned };
}

/**
 * The backend's response headers without its hop-by-hop fields.
 *
 * @example
 * res.writeHead(upstream.statusCode ?? 502, responseHeaders(upstream.headers));
 */
export function responseHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(endToEndHeaders(incoming));
}
