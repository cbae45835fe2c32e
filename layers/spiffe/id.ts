import { SpiffeIdError, SpiffeIdReason } from "./errors.ts";

const SCHEME = "spiffe://";
/** SPIFFE-ID section 2.3: implementations must support 2048 bytes and should not go beyond. */
export const MAX_SPIFFE_ID_BYTES = 2048;
/** SPIFFE-ID section 2.3: the host component of a URI is at most 255 bytes. */
export const MAX_TRUST_DOMAIN_BYTES = 255;

const TRUST_DOMAIN_CHAR = /^[a-z0-9._-]$/;
const PATH_CHAR = /^[a-zA-Z0-9._-]$/;

/**
 * A SPIFFE trust domain: the authority of a SPIFFE ID and the root of trust it names.
 *
 * @example
 * const td = parseTrustDomain("prod.example.com");
 * td.idString(); // "spiffe://prod.example.com"
 */
export class TrustDomain {
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** Validates a bare trust domain name (`example.org`); internal, use {@link parseTrustDomain}. */
  static fromName(name: string): TrustDomain {
    validateTrustDomainName(name, name);
    return new TrustDomain(name);
  }

  /** The trust domain name, e.g. `example.org`. */
  toString(): string {
    return this.name;
  }

  /** The trust domain's own ID as a string, e.g. `spiffe://example.org`. */
  idString(): string {
    return `${SCHEME}${this.name}`;
  }

  /** The trust domain's own (root) ID, which has no path. */
  id(): SpiffeId {
    return SpiffeId.unchecked(this, "");
  }

  equals(other: TrustDomain): boolean {
    return this.name === other.name;
  }
}

/**
 * A SPIFFE ID: `spiffe://<trust-domain>[/<path>]`, in the canonical form the
 * SPIFFE-ID standard requires. Instances only come from the validating
 * constructors, so holding one means the ID is valid.
 *
 * @example
 * const id = parseSpiffeId("spiffe://example.org/prod/payments");
 * id.trustDomain.name; // "example.org"
 * id.path;             // "/prod/payments"
 * id.memberOf("example.org"); // true
 */
export class SpiffeId {
  readonly trustDomain: TrustDomain;
  /** The path, `""` for the trust domain's root ID, otherwise starting with `/`. */
  readonly path: string;

  private constructor(trustDomain: TrustDomain, path: string) {
    this.trustDomain = trustDomain;
    this.path = path;
  }

  /** @internal for already validated parts. */
  static unchecked(trustDomain: TrustDomain, path: string): SpiffeId {
    return new SpiffeId(trustDomain, path);
  }

  /** The ID as a URI string. Equal to the string it was parsed from. */
  toString(): string {
    return `${SCHEME}${this.trustDomain.name}${this.path}`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** True for the trust domain's own ID, which has no path and never names a workload. */
  isRoot(): boolean {
    return this.path === "";
  }

  /** True when the ID belongs to the given trust domain (a `TrustDomain` or its name). */
  memberOf(trustDomain: TrustDomain | string): boolean {
    const name = typeof trustDomain === "string" ? trustDomain : trustDomain.name;
    return this.trustDomain.name === name;
  }

  equals(other: SpiffeId): boolean {
    return this.trustDomain.name === other.trustDomain.name && this.path === other.path;
  }
}

/**
 * Parses a SPIFFE ID, enforcing every rule of SPIFFE-ID section 2.
 *
 * Only the canonical form is accepted: the scheme and trust domain must be
 * lowercase (the standard requires a lowercase host and treats the scheme as
 * case-insensitive; accepting `SPIFFE://` would give one identity two spellings).
 *
 * @throws {SpiffeIdError} whose `reason` names the violated rule.
 * @example
 * parseSpiffeId("spiffe://example.org/ns/prod/sa/web").path; // "/ns/prod/sa/web"
 */
export function parseSpiffeId(s: string): SpiffeId {
  if (s === "") throw new SpiffeIdError(SpiffeIdReason.EMPTY, s);
  if (Buffer.byteLength(s, "utf8") > MAX_SPIFFE_ID_BYTES) {
    throw new SpiffeIdError(SpiffeIdReason.TOO_LONG, s);
  }
  if (!s.startsWith(SCHEME)) throw new SpiffeIdError(SpiffeIdReason.WRONG_SCHEME, s);
  const rest = s.slice(SCHEME.length);
  const authorityEnd = firstIndexOf(rest, "/?#");
  const authority = rest.slice(0, authorityEnd);
  validateTrustDomainName(authority, s);

  const afterAuthority = rest.slice(authorityEnd);
  const pathEnd = firstIndexOf(afterAuthority, "?#");
  if (pathEnd < afterAuthority.length) {
    throw new SpiffeIdError(
      afterAuthority[pathEnd] === "?" ? SpiffeIdReason.QUERY : SpiffeIdReason.FRAGMENT,
      s,
    );
  }
  validatePath(afterAuthority, s);
  return SpiffeId.unchecked(TrustDomain.fromName(authority), afterAuthority);
}

/**
 * Parses a trust domain from its bare name (`example.org`) or from any SPIFFE ID
 * in it (`spiffe://example.org/...`).
 *
 * @throws {SpiffeIdError}
 * @example
 * parseTrustDomain("example.org").idString(); // "spiffe://example.org"
 */
export function parseTrustDomain(s: string): TrustDomain {
  if (s === "") throw new SpiffeIdError(SpiffeIdReason.MISSING_TRUST_DOMAIN, s);
  if (s.includes(":/")) return parseSpiffeId(s).trustDomain;
  return TrustDomain.fromName(s);
}

/**
 * Builds the ID `spiffe://<td><path>` from a trust domain and a path, validating the path.
 *
 * @throws {SpiffeIdError}
 * @example
 * spiffeIdFromPath(parseTrustDomain("example.org"), "/prod/web").toString();
 */
export function spiffeIdFromPath(trustDomain: TrustDomain, path: string): SpiffeId {
  const full = `${trustDomain.idString()}${path}`;
  if (Buffer.byteLength(full, "utf8") > MAX_SPIFFE_ID_BYTES) {
    throw new SpiffeIdError(SpiffeIdReason.TOO_LONG, full);
  }
  if (path !== "" && !path.startsWith("/")) {
    throw new SpiffeIdError(SpiffeIdReason.PATH_NOT_ABSOLUTE, path);
  }
  validatePath(path, path);
  return SpiffeId.unchecked(trustDomain, path);
}

/**
 * Builds `spiffe://<td>/<seg1>/<seg2>...` from path segments, validating each
 * segment; a segment cannot smuggle in a `/`.
 *
 * @throws {SpiffeIdError}
 * @example
 * spiffeIdFromSegments(td, "prod", "payments").path; // "/prod/payments"
 */
export function spiffeIdFromSegments(trustDomain: TrustDomain, ...segments: string[]): SpiffeId {
  for (const segment of segments) {
    if (segment.includes("/")) throw new SpiffeIdError(SpiffeIdReason.PATH_CHARS, segment);
  }
  return spiffeIdFromPath(trustDomain, segments.map((seg) => `/${seg}`).join(""));
}

function validateTrustDomainName(name: string, input: string): void {
  if (name === "") throw new SpiffeIdError(SpiffeIdReason.MISSING_TRUST_DOMAIN, input);
  if (name.includes("@")) throw new SpiffeIdError(SpiffeIdReason.TRUST_DOMAIN_USERINFO, input);
  // An IPv6 literal ("[::1]") is excluded by the character rule, not a port.
  if (name.includes(":") && !name.startsWith("["))
    throw new SpiffeIdError(SpiffeIdReason.TRUST_DOMAIN_PORT, input);
  for (const ch of name) {
    if (!TRUST_DOMAIN_CHAR.test(ch)) {
      throw new SpiffeIdError(SpiffeIdReason.TRUST_DOMAIN_CHARS, input);
    }
  }
  if (name.length > MAX_TRUST_DOMAIN_BYTES) {
    throw new SpiffeIdError(SpiffeIdReason.TRUST_DOMAIN_TOO_LONG, input);
  }
}

function validatePath(path: string, input: string): void {
  if (path === "") return;
  const segments = path.slice(1).split("/");
  segments.forEach((segment, i) => {
    if (segment === "") {
      throw new SpiffeIdError(
        i === segments.length - 1 ? SpiffeIdReason.TRAILING_SLASH : SpiffeIdReason.EMPTY_SEGMENT,
        input,
      );
    }
    if (segment === "." || segment === "..") {
      throw new SpiffeIdError(SpiffeIdReason.DOT_SEGMENT, input);
    }
    for (const ch of segment) {
      if (!PATH_CHAR.test(ch)) throw new SpiffeIdError(SpiffeIdReason.PATH_CHARS, input);
    }
  });
}

function firstIndexOf(s: string, chars: string): number {
  for (let i = 0; i < s.length; i++) {
    if (chars.includes(s[i] as string)) return i;
  }
  return s.length;
}
