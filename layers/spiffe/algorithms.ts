/**
 * Which signatures and public keys verification trusts. Go's crypto/x509,
 * under go-spiffe, refuses SHA-1 and MD5 signatures; a verifier that accepted
 * them would let a peer that every Go service refuses into this one. The lists
 * are allow-lists, so an algorithm nobody has reviewed is refused too.
 */
import type { KeyObject } from "node:crypto";
import type { ParsedCertificate } from "./certificate.ts";
import { contextTag, DerReader } from "./der.ts";
import { SvidError, SvidReason } from "./errors.ts";

const RSASSA_PSS = "1.2.840.113549.1.1.10";
const MGF1 = "1.2.840.113549.1.1.8";

/** Hash OIDs allowed inside RSASSA-PSS parameters, with the digest length in bytes. */
const PSS_HASHES: Record<string, { name: string; bytes: number }> = {
  "2.16.840.1.101.3.4.2.1": { name: "SHA-256", bytes: 32 },
  "2.16.840.1.101.3.4.2.2": { name: "SHA-384", bytes: 48 },
  "2.16.840.1.101.3.4.2.3": { name: "SHA-512", bytes: 64 },
};

/** Refused hashes that RSASSA-PSS parameters may name, for the message. */
const REFUSED_PSS_HASHES: Record<string, string> = {
  "1.3.14.3.2.26": "SHA-1",
  "2.16.840.1.101.3.4.2.4": "SHA-224",
};

/** Signature algorithms whose parameters carry nothing to check. */
const ALLOWED_SIGNATURES = new Map([
  ["1.2.840.10045.4.3.2", "ecdsa-with-SHA256"],
  ["1.2.840.10045.4.3.3", "ecdsa-with-SHA384"],
  ["1.2.840.10045.4.3.4", "ecdsa-with-SHA512"],
  ["1.2.840.113549.1.1.11", "sha256WithRSAEncryption"],
  ["1.2.840.113549.1.1.12", "sha384WithRSAEncryption"],
  ["1.2.840.113549.1.1.13", "sha512WithRSAEncryption"],
  ["1.3.101.112", "Ed25519"],
]);

/**
 * How node:crypto's `verify` checks the allowed algorithms other than
 * RSASSA-PSS: its digest (`null` for Ed25519), the key type it needs, and
 * whether the parameters are absent (RFC 5758 3.2, RFC 8410 3) or may also
 * be NULL (RFC 4055 5).
 */
const NODE_VERIFY = new Map<
  string,
  { digest: string | null; keyType: string; nullParams: boolean }
>([
  ["1.2.840.10045.4.3.2", { digest: "sha256", keyType: "ec", nullParams: false }],
  ["1.2.840.10045.4.3.3", { digest: "sha384", keyType: "ec", nullParams: false }],
  ["1.2.840.10045.4.3.4", { digest: "sha512", keyType: "ec", nullParams: false }],
  ["1.2.840.113549.1.1.11", { digest: "sha256", keyType: "rsa", nullParams: true }],
  ["1.2.840.113549.1.1.12", { digest: "sha384", keyType: "rsa", nullParams: true }],
  ["1.2.840.113549.1.1.13", { digest: "sha512", keyType: "rsa", nullParams: true }],
  ["1.3.101.112", { digest: null, keyType: "ed25519", nullParams: false }],
]);

const DER_NULL = Buffer.from([0x05, 0x00]);

/**
 * The digest to give node:crypto's `verify` for a signature made with
 * `algorithm` by a key of `keyType`: `null` for Ed25519, `undefined` when
 * `verify` alone would not check it as OpenSSL's certificate verification
 * does (RSASSA-PSS, whose parameters choose the padding; refused algorithms;
 * a key of another type; parameters other than the RFC's).
 *
 * @example
 * signatureDigest({ oid: "1.2.840.10045.4.3.2", parameters: undefined }, "ec"); // "sha256"
 */
export function signatureDigest(
  algorithm: ParsedCertificate["signatureAlgorithm"],
  keyType: string | undefined,
): string | null | undefined {
  const entry = NODE_VERIFY.get(algorithm.oid);
  if (entry === undefined || entry.keyType !== keyType) return undefined;
  const { parameters } = algorithm;
  if (parameters !== undefined && !(entry.nullParams && parameters.equals(DER_NULL))) {
    return undefined;
  }
  return entry.digest;
}

/** Names of refused algorithms that certificates still carry, so a message says more than an OID. */
const REFUSED_SIGNATURES = new Map([
  ["1.2.840.113549.1.1.4", "md5WithRSAEncryption"],
  ["1.2.840.113549.1.1.5", "sha1WithRSAEncryption"],
  ["1.2.840.113549.1.1.14", "sha224WithRSAEncryption"],
  ["1.2.840.10045.4.1", "ecdsa-with-SHA1"],
  ["1.2.840.10045.4.3.1", "ecdsa-with-SHA224"],
  ["1.2.840.10040.4.3", "dsa-with-sha1"],
  ["2.16.840.1.101.3.4.3.2", "dsa-with-sha256"],
  ["1.3.101.113", "Ed448"],
]);

/** P-256, P-384 and P-521 under the names Node (OpenSSL) reports. */
const ALLOWED_CURVES = new Set(["prime256v1", "secp384r1", "secp521r1"]);

/**
 * The same curves as the namedCurve OIDs (DER) an EC SubjectPublicKeyInfo
 * carries (RFC 5480 2.1.1.1). OpenSSL decoded the key from these very bytes,
 * so reading the curve here spares asking OpenSSL for the key's details, which
 * costs about as much as decoding the key (once per leaf checked).
 */
const ALLOWED_CURVE_OIDS = new Set([
  "06082a8648ce3d030107", // prime256v1 (P-256), 1.2.840.10045.3.1.7
  "06052b81040022", // secp384r1 (P-384), 1.3.132.0.34
  "06052b81040023", // secp521r1 (P-521), 1.3.132.0.35
]);

/** The smallest RSA modulus accepted, in bits (NIST SP 800-131A: 112-bit security). */
const MIN_RSA_BITS = 2048;

/**
 * RSASSA-PSS-params (RFC 4055 section 3.1): the hash's and the mask
 * generation's algorithm OIDs (with MGF1's parameters), the salt length.
 * Absent fields take the RFC's defaults (SHA-1, MGF1 with SHA-1, salt 20), all
 * of which are refused; the trailer field is read but OpenSSL checks it.
 */
interface PssParams {
  hashOid: string | undefined;
  maskGen: { oid: string; parameters: Buffer | undefined } | undefined;
  saltLength: number;
}

/** @throws {DerError} when `parameters` is not an RSASSA-PSS-params encoding. */
function readPssParams(parameters: Buffer): PssParams {
  const outer = DerReader.of(parameters);
  const seq = outer.sequence("RSASSA-PSS-params");
  outer.finish();
  const field = (n: number, what: string) =>
    seq.peekTag() === contextTag(n, true) ? seq.explicit(n, what) : undefined;
  const hash = field(0, "hashAlgorithm");
  const hashOid = hash === undefined ? undefined : readAlgorithmId(hash).oid;
  const mgf = field(1, "maskGenAlgorithm");
  const maskGen = mgf === undefined ? undefined : readAlgorithmId(mgf);
  const salt = field(2, "saltLength");
  const saltLength = salt === undefined ? 20 : salt.smallInteger("", -MAX_INT32, MAX_INT32);
  salt?.finish();
  const trailer = field(3, "trailerField");
  trailer?.smallInteger("", -MAX_INT32, MAX_INT32);
  trailer?.finish();
  seq.finish();
  return { hashOid, maskGen, saltLength };
}

const MAX_INT32 = 2 ** 31 - 1;

/** An AlgorithmIdentifier, alone in `r`: its OID and the whole encoding of its parameters. */
function readAlgorithmId(r: DerReader): { oid: string; parameters: Buffer | undefined } {
  const seq = r.sequence("");
  r.finish();
  const oid = seq.oid("algorithm");
  const parameters = seq.done ? undefined : seq.raw("parameters");
  seq.finish();
  return { oid, parameters };
}

/**
 * Refuses a certificate whose own signature uses an algorithm outside the
 * allow-list: ECDSA, RSA PKCS#1 v1.5 and RSASSA-PSS with SHA-256/384/512, and
 * Ed25519. RSASSA-PSS is held to the shape Go accepts: MGF1 with the same
 * hash and a salt as long as the digest (OpenSSL refuses other trailer fields).
 *
 * @param where names the certificate in the message ("leaf", "intermediate 1").
 * @throws {SvidError} with reason `SIGNATURE_ALGORITHM`.
 */
export function checkSignatureAlgorithm(cert: ParsedCertificate, where: string): void {
  const { oid, parameters } = cert.signatureAlgorithm;
  if (ALLOWED_SIGNATURES.has(oid)) return;
  if (oid === RSASSA_PSS) {
    const refusal = pssRefusal(parameters);
    if (refusal === undefined) return;
    throw new SvidError(SvidReason.SIGNATURE_ALGORITHM, `${where} is signed with ${refusal}`);
  }
  throw new SvidError(
    SvidReason.SIGNATURE_ALGORITHM,
    `${where} is signed with ${REFUSED_SIGNATURES.get(oid) ?? oid}`,
  );
}

/** `undefined` for acceptable RSASSA-PSS parameters, otherwise a description of what was found. */
function pssRefusal(parameters: Buffer | undefined): string | undefined {
  let params: PssParams;
  try {
    params =
      parameters === undefined
        ? { hashOid: undefined, maskGen: undefined, saltLength: 20 }
        : readPssParams(parameters);
  } catch {
    return "RSASSA-PSS with unreadable parameters";
  }
  const { hashOid, maskGen } = params;
  const hash = hashOid === undefined ? undefined : PSS_HASHES[hashOid];
  if (hash === undefined) {
    const name = hashOid === undefined ? "SHA-1" : (REFUSED_PSS_HASHES[hashOid] ?? hashOid);
    return `RSASSA-PSS with ${name}`;
  }
  let mgfHash: string | undefined;
  if (maskGen?.oid === MGF1 && maskGen.parameters) {
    try {
      mgfHash = readAlgorithmId(DerReader.of(maskGen.parameters)).oid;
    } catch {
      mgfHash = undefined;
    }
  }
  if (mgfHash !== hashOid) {
    return `RSASSA-PSS with ${hash.name} and a mask generation other than MGF1 with ${hash.name}`;
  }
  if (params.saltLength !== hash.bytes) {
    return `RSASSA-PSS with ${hash.name} and a ${params.saltLength}-byte salt (want ${hash.bytes})`;
  }
  return undefined;
}

/**
 * Refuses a certificate whose public key is not RSA of at least
 * {@link MIN_RSA_BITS} bits, EC on P-256, P-384 or P-521, or Ed25519.
 *
 * @param where names the certificate in the message ("leaf", "root").
 * @throws {SvidError} with reason `RSA_KEY_TOO_SMALL`, `EC_CURVE` or `KEY_ALGORITHM`
 *   (also for a key that cannot be decoded).
 */
export function checkPublicKey(cert: ParsedCertificate, where: string): void {
  let key: KeyObject;
  try {
    key = cert.publicKey;
  } catch {
    // OpenSSL's decoder names no reason worth passing on: an unknown
    // algorithm and an EC point off its curve fail alike.
    throw new SvidError(
      SvidReason.KEY_ALGORITHM,
      `${where} has a public key that cannot be decoded`,
    );
  }
  switch (key.asymmetricKeyType) {
    case "rsa": {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) {
        throw new SvidError(SvidReason.RSA_KEY_TOO_SMALL, `${where} has a ${bits}-bit RSA key`);
      }
      return;
    }
    case "ec": {
      const { parameters } = cert.publicKeyAlgorithm;
      if (parameters !== undefined && ALLOWED_CURVE_OIDS.has(parameters.toString("hex"))) return;
      const curve = key.asymmetricKeyDetails?.namedCurve ?? "unnamed curve";
      if (!ALLOWED_CURVES.has(curve)) {
        throw new SvidError(SvidReason.EC_CURVE, `${where} has an EC key on ${curve}`);
      }
      return;
    }
    case "ed25519":
      return;
    default:
      throw new SvidError(
        SvidReason.KEY_ALGORITHM,
        `${where} has key type ${key.asymmetricKeyType ?? "unknown"}`,
      );
  }
}
