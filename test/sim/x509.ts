/**
 * Cheap real X.509 for the modelled CA: the TBSCertificate is built with
 * @peculiar/asn1-x509 and serialized once, signed with node:crypto, and the
 * outer Certificate SEQUENCE is concatenated by hand, so a certificate costs
 * one ASN.1 serialization and one ECDSA signature. The modelled Private CA
 * signs every certificate of a many-day, many-identity simulation with it.
 */
import "reflect-metadata";
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from "node:crypto";
import { CertificationRequest } from "@peculiar/asn1-csr";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
} from "@peculiar/asn1-x509";

const ID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
/** ecdsa-with-SHA256, parameters absent (RFC 5758). */
const ECDSA_SHA256 = new AlgorithmIdentifier({ algorithm: "1.2.840.10045.4.3.2" });
const ECDSA_SHA256_DER = Buffer.from(AsnConvert.serialize(ECDSA_SHA256));

/** A signing CA: its P-256 key, its name, its key identifier and its self-signed certificate. */
export interface SigningCa {
  readonly key: KeyObject;
  readonly name: Name;
  readonly keyId: Buffer;
  readonly certificatePem: string;
}

/** What a CSR asks for, once its signature has been checked. */
export interface CsrContent {
  subject: Name;
  spki: SubjectPublicKeyInfo;
  spkiDer: Buffer;
  /** The DER value of the requested subjectAltName extension, when there is one. */
  sanDer: ArrayBuffer | undefined;
}

/**
 * Makes a root CA with a fresh P-256 key, valid from `notBefore` for `validityMs`.
 *
 * @example
 * const ca = createSigningCa("lambda-svid sim root", new Date(), 10 * 365 * 86_400_000);
 */
export function createSigningCa(
  commonName: string,
  notBefore: Date,
  validityMs: number,
): SigningCa {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const spkiDer = publicKey.export({ type: "spki", format: "der" });
  const spki = AsnConvert.parse(spkiDer, SubjectPublicKeyInfo);
  const keyId = keyIdentifier(spki);
  const name = new Name([
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({
        type: "2.5.4.3",
        value: new AttributeValue({ utf8String: commonName }),
      }),
    ]),
  ]);
  const der = signTbs(
    privateKey,
    new TBSCertificate({
      version: 2,
      serialNumber: serial(),
      signature: ECDSA_SHA256,
      issuer: name,
      validity: new Validity({ notBefore, notAfter: new Date(notBefore.getTime() + validityMs) }),
      subject: name,
      subjectPublicKeyInfo: spki,
      extensions: new Extensions([
        extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: true })),
        extension(
          id_ce_keyUsage,
          true,
          new KeyUsage(
            KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature,
          ),
        ),
        extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId)),
      ]),
    }),
  );
  return { key: privateKey, name, keyId: Buffer.from(keyId), certificatePem: pem(der) };
}

/**
 * Parses a PEM or DER PKCS#10 request and checks its signature with its own key.
 *
 * @returns `undefined` when it is not a well-formed, correctly signed request.
 * @example
 * const csr = readCsr(Buffer.from(csrPem));
 */
export function readCsr(bytes: Buffer): CsrContent | undefined {
  try {
    const text = bytes.toString("latin1");
    const der = text.includes("-----BEGIN")
      ? Buffer.from(text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64")
      : bytes;
    const csr = AsnConvert.parse(der, CertificationRequest);
    const info = csr.certificationRequestInfo;
    const spkiDer = Buffer.from(AsnConvert.serialize(info.subjectPKInfo));
    const key = createPublicKey({ key: spkiDer, format: "der", type: "spki" });
    const infoDer = Buffer.from(AsnConvert.serialize(info));
    if (!verify("sha256", infoDer, { key, dsaEncoding: "der" }, Buffer.from(csr.signature))) {
      return undefined;
    }
    let sanDer: ArrayBuffer | undefined;
    for (const attribute of info.attributes) {
      if (attribute.type !== ID_EXTENSION_REQUEST) continue;
      for (const value of attribute.values) {
        for (const ext of AsnConvert.parse(value, Extensions)) {
          if (ext.extnID === id_ce_subjectAltName) sanDer = ext.extnValue.buffer;
        }
      }
    }
    return { subject: info.subject, spki: info.subjectPKInfo, spkiDer, sanDer };
  } catch {
    return undefined;
  }
}

/**
 * Issues an end-entity certificate as AWS Private CA's EndEntityCertificate/V1
 * template does: basicConstraints CA:false, keyUsage digitalSignature and
 * keyEncipherment (critical), extKeyUsage serverAuth and clientAuth, subject
 * and authority key identifiers, the CSR's subject, key and SAN.
 *
 * @example
 * const certPem = issueEndEntity(ca, csr, notBefore, notAfter);
 */
export function issueEndEntity(
  ca: SigningCa,
  csr: CsrContent,
  notBefore: Date,
  notAfter: Date,
): string {
  const extensions = [
    extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
    extension(
      id_ce_keyUsage,
      true,
      new KeyUsage(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment),
    ),
    extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_serverAuth, id_kp_clientAuth])),
    extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(csr.spki))),
    extension(
      id_ce_authorityKeyIdentifier,
      false,
      new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(ca.keyId) }),
    ),
  ];
  if (csr.sanDer !== undefined) {
    extensions.push(
      new Extension({
        extnID: id_ce_subjectAltName,
        critical: false,
        extnValue: new OctetString(csr.sanDer),
      }),
    );
  }
  return pem(
    signTbs(
      ca.key,
      new TBSCertificate({
        version: 2,
        serialNumber: serial(),
        signature: ECDSA_SHA256,
        issuer: ca.name,
        validity: new Validity({ notBefore, notAfter }),
        subject: csr.subject,
        subjectPublicKeyInfo: csr.spki,
        extensions: new Extensions(extensions),
      }),
    ),
  );
}

function extension(extnID: string, critical: boolean, value: object): Extension {
  return new Extension({
    extnID,
    critical,
    extnValue: new OctetString(AsnConvert.serialize(value)),
  });
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(spki: SubjectPublicKeyInfo): ArrayBuffer {
  const digest = createHash("sha1").update(Buffer.from(spki.subjectPublicKey)).digest();
  return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength);
}

/** A positive 16-byte serial number. */
function serial(): ArrayBuffer {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 16);
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }. */
function signTbs(key: KeyObject, tbs: TBSCertificate): Buffer {
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign("sha256", tbsDer, { key, dsaEncoding: "der" });
  const bitString = Buffer.concat([
    Buffer.from([0x03]),
    derLength(signature.length + 1),
    Buffer.from([0]),
    signature,
  ]);
  const body = Buffer.concat([tbsDer, ECDSA_SHA256_DER, bitString]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

function pem(der: Buffer): string {
  const body =
    der
      .toString("base64")
      .match(/.{1,64}/g)
      ?.join("\n") ?? "";
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}
