/**
 * The STS RoleSessionName that names a caller in CloudTrail. AssumeRole
 * accepts `[\w+=,.@-]{2,64}`; a SPIFFE ID uses only letters, digits, `.`,
 * `-`, `_` and `/`, so replacing `/` by `+` (which no SPIFFE ID holds) keeps
 * distinct IDs distinct. An ID that is too long or holds other characters
 * is cut, and a digest of the whole ID keeps it distinct.
 */
import { createHash } from "node:crypto";

const MAX = 64;
const MIN = 2;
/** Hex digits of the SHA-256 of the ID kept after a cut: 48 bits, no collision among any fleet's callers. */
const DIGEST_CHARS = 12;
const SPIFFE_CHARS = /^[A-Za-z0-9._\-/]+$/;

/**
 * The session name for a caller: deterministic, valid for AssumeRole, and
 * readable as the caller's ID where it fits.
 *
 * @example
 * sessionNameFor("spiffe://example.org/ns/prod/sa/web"); // "example.org+ns+prod+sa+web"
 * sessionNameFor(`spiffe://example.org/${"a".repeat(80)}`); // "example.org+aaaa…aaa-<12 hex digits>"
 */
export function sessionNameFor(spiffeId: string): string {
  const bare = spiffeId.replace(/^spiffe:\/\//, "");
  const name = bare.replaceAll("/", "+");
  if (SPIFFE_CHARS.test(bare) && name.length >= MIN && name.length <= MAX) return name;
  const digest = createHash("sha256").update(spiffeId).digest("hex").slice(0, DIGEST_CHARS);
  const kept = name.replace(/[^\w+=,.@-]/g, "-").slice(0, MAX - DIGEST_CHARS - 1);
  return `${kept}-${digest}`;
}
