/**
 * The request target as the back sends and signs it. The caller's path and
 * query are decoded once and re-encoded with the SDK's own escaper
 * (`escapeUri`, RFC 3986), so the bytes on the wire are exactly the form the
 * signer canonicalises and any verifier, AWS or botocore, rebuilds the same
 * canonical request from them whatever encoding the caller chose
 * (`%7e` or `~`, `%2f` or `%2F`). The signer, never this file, sorts and
 * canonicalises.
 */
import { escapeUri } from "@smithy/core/protocols";
import { BackendError, BackendReason } from "./errors.ts";

/** The query as the SDK's signer takes it: decoded keys, a list for a repeated key. */
export type QueryBag = Record<string, string | string[]>;

/** One request target, ready to send and to sign. */
export interface RequestTarget {
  /** The percent-encoded path sent on the wire and handed to the signer. */
  path: string;
  /** The decoded query for the signer. */
  query: QueryBag;
  /** The encoded query sent on the wire, parameters in the caller's order; "" for none. */
  search: string;
}

export interface TargetOptions {
  /**
   * Keep empty path segments (`a//b`), as S3 must: `//` is part of an object
   * key there. Other services normalise them away before they check a
   * signature, so the back removes them from what it sends as well.
   */
  keepEmptySegments: boolean;
  /** Prepended to the path, already encoded (S3's path-style `/<bucket>`). */
  prefix?: string;
}

/**
 * Parses a request target (`/path?query`) into what the back sends and signs.
 * A `+` in the query is a space, as in form encoding (URLSearchParams, Go's
 * url.ParseQuery); a literal plus arrives as `%2B`. A query parameter without
 * `=` is sent as `key=`, the form every signer canonicalises it to.
 *
 * @throws {BackendError} `BAD_TARGET` for a target that is not origin-form or
 *   holds malformed percent-encoding; `DOT_SEGMENT` for a `.` or `..` segment,
 *   also percent-encoded or behind an encoded slash or backslash: the route's
 *   prefix is a boundary only while the forwarded path cannot climb out of it.
 * @example
 * requestTarget("/a b/%C3%A9?b=value&a=test", { keepEmptySegments: false });
 * // { path: "/a%20b/%C3%A9", query: { b: "value", a: "test" }, search: "b=value&a=test" }
 */
export function requestTarget(target: string, options: TargetOptions): RequestTarget {
  if (!target.startsWith("/") || target.includes("#")) {
    throw new BackendError(BackendReason.BAD_TARGET, "not origin-form");
  }
  const mark = target.indexOf("?");
  const rawPath = mark === -1 ? target : target.slice(0, mark);
  const rawQuery = mark === -1 ? "" : target.slice(mark + 1);
  return {
    path: (options.prefix ?? "") + encodePath(rawPath, options.keepEmptySegments),
    ...encodeQuery(rawQuery),
  };
}

function encodePath(rawPath: string, keepEmptySegments: boolean): string {
  const segments = rawPath.slice(1).split("/");
  const encoded: string[] = [];
  for (const [index, segment] of segments.entries()) {
    const decoded = decode(segment, "path");
    if (decoded.split(/[/\\]/).some((part) => part === "." || part === "..")) {
      throw new BackendError(BackendReason.DOT_SEGMENT, `segment ${index + 1}`);
    }
    const last = index === segments.length - 1;
    if (decoded === "" && !keepEmptySegments && !(last && encoded.length > 0)) continue;
    encoded.push(escapeUri(decoded));
  }
  return `/${encoded.join("/")}`;
}

function encodeQuery(rawQuery: string): { query: QueryBag; search: string } {
  const query: QueryBag = Object.create(null);
  const sent: string[] = [];
  for (const pair of rawQuery.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = decode((eq === -1 ? pair : pair.slice(0, eq)).replaceAll("+", " "), "query");
    const value = eq === -1 ? "" : decode(pair.slice(eq + 1).replaceAll("+", " "), "query");
    const seen = query[key];
    query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    sent.push(`${escapeUri(key)}=${escapeUri(value)}`);
  }
  return { query, search: sent.join("&") };
}

function decode(text: string, where: "path" | "query"): string {
  try {
    return decodeURIComponent(text);
  } catch (cause) {
    throw new BackendError(BackendReason.BAD_TARGET, `malformed percent-encoding in the ${where}`, {
      cause,
    });
  }
}
