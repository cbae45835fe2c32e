/**
 * The SPIFFE bundle format (SPIFFE Trust Domain and Bundle, sections 4 and 5;
 * X509-SVID section 6): a JWK Set whose `x509-svid` entries carry the trust
 * domain's X.509 roots, and the bundle map that holds bundles by trust domain.
 */
import { ParsedCertificate } from "./certificate.ts";
import { BundleError, BundleReason, SpiffeIdError } from "./errors.ts";
import { parseTrustDomain, type TrustDomain } from "./id.ts";

/** Key types of RFC 7518 that an X.509 root can carry. */
const KNOWN_KEY_TYPES = new Set(["EC", "RSA", "OKP"]);
const X509_SVID_USE = "x509-svid";

/** What a SPIFFE bundle document says besides its roots. */
export interface JwksBundle {
  roots: ParsedCertificate[];
  sequence: number | undefined;
  refreshHintSeconds: number | undefined;
}

/**
 * Reads the X.509 roots of a SPIFFE bundle (a JWK Set). Entries of unknown key
 * type, without `use`, or with another `use` are ignored, as are `x509-svid`
 * entries without `x5c`; only the first `x5c` value counts. An empty result is
 * valid: it means the trust domain has revoked its keys, and every SVID from
 * it must then be refused.
 *
 * @throws {BundleError} when the document is not a JWK Set, or an `x509-svid`
 *   entry holds something other than a CA certificate matching its `kty`.
 */
export function readJwksBundle(input: string | unknown): JwksBundle {
  const doc = typeof input === "string" ? parseJson(input, BundleReason.NOT_A_JWK_SET) : input;
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new BundleError(BundleReason.NOT_A_JWK_SET);
  }
  const set = doc as Record<string, unknown>;
  if (!Array.isArray(set.keys)) throw new BundleError(BundleReason.MISSING_KEYS);
  const sequence = optionalInteger(set.spiffe_sequence, BundleReason.BAD_SEQUENCE);
  const refreshHintSeconds = optionalInteger(
    set.spiffe_refresh_hint,
    BundleReason.BAD_REFRESH_HINT,
  );

  const roots: ParsedCertificate[] = [];
  set.keys.forEach((key, i) => {
    if (typeof key !== "object" || key === null || Array.isArray(key)) return;
    const jwk = key as Record<string, unknown>;
    if (typeof jwk.kty !== "string" || !KNOWN_KEY_TYPES.has(jwk.kty)) return;
    if (jwk.use !== X509_SVID_USE) return;
    if (!Array.isArray(jwk.x5c) || jwk.x5c.length === 0 || typeof jwk.x5c[0] !== "string") return;
    let cert: ParsedCertificate;
    try {
      cert = new ParsedCertificate(Buffer.from(jwk.x5c[0], "base64"));
      // Roots go to Node's TLS as its CAs (see X509Bundle.fromCertificates): OpenSSL must read them too.
      cert.x509;
    } catch (cause) {
      throw new BundleError(BundleReason.MALFORMED_CERTIFICATE, `keys[${i}].x5c[0]`, { cause });
    }
    if (!cert.isCA) throw new BundleError(BundleReason.NOT_A_CA, `keys[${i}]`);
    const actual = cert.x509.publicKey.export({ format: "jwk" }).kty;
    if (actual !== jwk.kty) {
      throw new BundleError(
        BundleReason.KEY_TYPE_MISMATCH,
        `keys[${i}] says ${jwk.kty}, certificate has ${actual}`,
      );
    }
    roots.push(cert);
  });
  return { roots, sequence, refreshHintSeconds };
}

/**
 * Writes roots as a SPIFFE bundle: one `x509-svid` JWK per root with the
 * public key, exactly one `x5c` value and no `kid`.
 */
export function writeJwksBundle(
  roots: readonly ParsedCertificate[],
  options: { sequence?: number; refreshHintSeconds?: number } = {},
): string {
  const keys = roots.map((root) => ({
    ...root.x509.publicKey.export({ format: "jwk" }),
    use: X509_SVID_USE,
    x5c: [root.der.toString("base64")],
  }));
  return JSON.stringify({
    keys,
    ...(options.sequence === undefined ? {} : { spiffe_sequence: options.sequence }),
    ...(options.refreshHintSeconds === undefined
      ? {}
      : { spiffe_refresh_hint: options.refreshHintSeconds }),
  });
}

/**
 * Reads a SPIFFE bundle map: `{"trust_domains": {"<name>": <bundle>, ...}}`,
 * returning each trust domain's bundle document for {@link readJwksBundle}.
 * A duplicate key anywhere in the document is refused, since a JSON parser
 * would silently keep one of two bundles for the same trust domain. Per-bundle
 * refresh hints are read but carry no meaning for the map.
 *
 * @throws {BundleError}
 */
export function readBundleMap(text: string): Map<TrustDomain, unknown> {
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined)
    throw new BundleError(BundleReason.DUPLICATE_JSON_KEY, JSON.stringify(duplicate));
  const doc = parseJson(text, BundleReason.NOT_A_BUNDLE_MAP) as { trust_domains?: unknown } | null;
  const domains = doc?.trust_domains;
  if (typeof domains !== "object" || domains === null || Array.isArray(domains)) {
    throw new BundleError(BundleReason.NOT_A_BUNDLE_MAP);
  }
  const out = new Map<TrustDomain, unknown>();
  for (const [name, bundle] of Object.entries(domains)) {
    let td: TrustDomain;
    try {
      td = parseTrustDomain(name);
    } catch (cause) {
      if (!(cause instanceof SpiffeIdError)) throw cause;
      throw new BundleError(BundleReason.NOT_A_BUNDLE_MAP, `key ${JSON.stringify(name)}`, {
        cause,
      });
    }
    out.set(td, bundle);
  }
  return out;
}

function parseJson(
  text: string,
  reason: (typeof BundleReason)[keyof typeof BundleReason],
): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new BundleError(reason, "invalid JSON", { cause });
  }
}

function optionalInteger(
  value: unknown,
  reason: (typeof BundleReason)[keyof typeof BundleReason],
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new BundleError(reason, JSON.stringify(value));
  }
  return value;
}

/**
 * The first object key that appears twice in the same object, scanning the
 * JSON text itself (JSON.parse keeps the last silently). Assumes the text is
 * otherwise valid JSON; JSON.parse checks that afterwards.
 */
export function firstDuplicateKey(text: string): string | undefined {
  const stack: Array<{ keys: Set<string>; expectKey: boolean } | null> = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const frame = stack[stack.length - 1];
      if (frame?.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, end + 1)) as string;
        } catch {
          return undefined;
        }
        if (frame.keys.has(key)) return key;
        frame.keys.add(key);
        frame.expectKey = false;
      }
      i = end;
    } else if (ch === "{") {
      stack.push({ keys: new Set(), expectKey: true });
    } else if (ch === "[") {
      stack.push(null);
    } else if (ch === "}" || ch === "]") {
      stack.pop();
    } else if (ch === ",") {
      const frame = stack[stack.length - 1];
      if (frame) frame.expectKey = true;
    }
  }
  return undefined;
}
