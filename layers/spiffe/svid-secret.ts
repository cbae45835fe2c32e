import { X509Bundle, X509BundleSet } from "./bundle.ts";
import { SpiffeError, SvidSecretError, SvidSecretReason } from "./errors.ts";
import { parseTrustDomain } from "./id.ts";
import { parseX509Svid, type X509Svid } from "./svid.ts";

/**
 * The JSON document stored in the SVID secret: a superset of what SPIRE's
 * `aws_secretsmanager` SVIDStore writes, plus the leaf's validity.
 */
export interface SvidSecretDocument {
  spiffeId: string;
  /** PEM chain, leaf first. */
  x509Svid: string;
  /** PKCS#8 PEM private key of the leaf. */
  x509SvidKey: string;
  /** PEM roots of the SVID's own trust domain. */
  bundle: string;
  /** PEM roots of federated trust domains, by trust domain name. */
  federatedBundles?: Record<string, string>;
  notBefore: string;
  notAfter: string;
}

/** A parsed SVID secret. */
export interface SvidSecret {
  svid: X509Svid;
  bundle: X509Bundle;
  /** The own bundle plus every federated one, for verifying peers. */
  bundles: X509BundleSet;
}

/**
 * Encodes an SVID, its trust domain's bundle and optional federated bundles as
 * the secret's JSON document.
 *
 * @example
 * await sm.putSecretValue({ SecretId: "lambda-svid/svid", SecretString: encodeSvidSecret(svid, bundle) });
 */
export function encodeSvidSecret(
  svid: X509Svid,
  bundle: X509Bundle,
  federated: readonly X509Bundle[] = [],
): string {
  const doc: SvidSecretDocument = {
    spiffeId: svid.id.toString(),
    x509Svid: svid.chainPem(),
    x509SvidKey: svid.keyPem(),
    bundle: bundle.toPem(),
    notBefore: svid.notBefore.toISOString(),
    notAfter: svid.notAfter.toISOString(),
  };
  if (federated.length > 0) {
    doc.federatedBundles = Object.fromEntries(
      federated.map((b) => [b.trustDomain.name, b.toPem()]),
    );
  }
  return JSON.stringify(doc);
}

/**
 * Parses the SVID secret from a GetSecretValue result: JSON in `SecretString`,
 * or the same JSON in `SecretBinary`. Also reads the field spellings of newer
 * SPIRE SVIDStore versions (`spiffeID`, `x509SVID`, `x509SVIDKey`). Checks the
 * document's structure, the key against the leaf, and that `spiffeId` is the
 * leaf's ID; trust and time are checked by {@link verifyX509Svid}.
 *
 * @throws {SvidSecretError} naming the field at fault, never its content.
 * @example
 * const { svid, bundle } = parseSvidSecret(await sm.getSecretValue({ SecretId: name }));
 */
export function parseSvidSecret(value: {
  SecretString?: string | undefined;
  SecretBinary?: Uint8Array | undefined;
}): SvidSecret {
  const text =
    value.SecretString ??
    (value.SecretBinary === undefined
      ? undefined
      : Buffer.from(value.SecretBinary).toString("utf8"));
  if (text === undefined) throw new SvidSecretError(SvidSecretReason.NO_VALUE);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse messages quote the input, which here holds a private key.
    throw new SvidSecretError(SvidSecretReason.NOT_JSON);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new SvidSecretError(SvidSecretReason.NOT_JSON);
  }
  const doc = raw as Record<string, unknown>;
  const spiffeId = field(doc, "spiffeId", "spiffeID");
  const chain = field(doc, "x509Svid", "x509SVID");
  const key = field(doc, "x509SvidKey", "x509SVIDKey");
  const bundlePem = field(doc, "bundle");

  const svid = wrap("x509Svid", () => parseX509Svid(chain, key));
  if (svid.id.toString() !== spiffeId) {
    throw new SvidSecretError(SvidSecretReason.ID_MISMATCH, JSON.stringify(spiffeId));
  }
  const bundle = wrap("bundle", () => X509Bundle.fromPem(svid.id.trustDomain, bundlePem));
  const federated = wrap("federatedBundles", () => federatedBundles(doc.federatedBundles));
  const bundles = wrap("federatedBundles", () => new X509BundleSet([bundle, ...federated]));
  return { svid, bundle, bundles };
}

function federatedBundles(value: unknown): X509Bundle[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
  return Object.entries(value as Record<string, unknown>).map(([td, pem]) => {
    if (typeof pem !== "string") throw new Error(`${JSON.stringify(td)} is not a PEM string`);
    return X509Bundle.fromPem(parseTrustDomain(td), pem);
  });
}

function field(doc: Record<string, unknown>, name: string, alias?: string): string {
  const value = doc[name] ?? (alias === undefined ? undefined : doc[alias]);
  if (typeof value !== "string" || value === "") {
    throw new SvidSecretError(SvidSecretReason.MISSING_FIELD, name);
  }
  return value;
}

/** Our own errors name rules and public values only, so they may be chained. */
function wrap<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    if (cause instanceof SpiffeError) {
      throw new SvidSecretError(SvidSecretReason.BAD_FIELD, name, { cause });
    }
    throw new SvidSecretError(SvidSecretReason.BAD_FIELD, name);
  }
}
