/**
 * Cheap real X.509 for the modelled CA, which signs every certificate of a
 * many-day, many-identity simulation. The CA's own certificate and the
 * template's constant extensions are built once with @peculiar/asn1-x509;
 * each end-entity certificate is read from its CSR and assembled from DER
 * pieces by hand (the CSR's subject, key and SAN copied as they are) and
 * signed with node:crypto, so it costs a CSR signature check, one ECDSA
 * signature and a few buffer copies.
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

const _ID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14";
/** ecdsa-with-SHA256, parameters absent (RFC 5758). */
const ECDSA_SHA256 = new AlgorithmIdentifier({ algorithm: "1.2.840.10045.4.3.2" });
const ECDSA_SHA256_DER = Buffer.from(AsnConvert.serialize(ECDSA_SHA256));

/** A signing CA: its P-256 key, its name, its key identifier and its self-signed certificate. */
export interface SigningCa {
  readonly key: KeyObject;
  readonly name: Name;
  readonly nameDer: Buffer;
  readonly keyId: Buffer;
  readonly certificatePem: string;
  /** The template's extensions that are the same in every certificate, DER, in order. */
  readonly endEntityExtensions: Buffer;
}

/** What a CSR asks for, once its signature has been checked: DER pieces, copied into the certificate as they are. */
export interface CsrContent {
  subjectDer: Buffer;
  spkiDer: Buffer;
  /** The DER value of the requested subjectAltName extension, when there is one. */
  sanDer: Buffer | undefined;
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
  const endEntityExtensions = Buffer.concat(
    [
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
      extension(
        id_ce_keyUsage,
        true,
        new KeyUsage(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment),
      ),
      extension(
        id_ce_extKeyUsage,
        false,
        new ExtendedKeyUsage([id_kp_serverAuth, id_kp_clientAuth]),
      ),
      extension(
        id_ce_authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyId) }),
      ),
    ].map((e) => Buffer.from(AsnConvert.serialize(e))),
  );
  return {
    key: privateKey,
    name,
    nameDer: Buffer.from(AsnConvert.serialize(name)),
    keyId: Buffer.from(keyId),
    certificatePem: pem(der),
    endEntityExtensions,
  };
}

/**
 * Reads a PEM or DER PKCS#10 request by walking its DER (no ASN.1 object
 * model: this runs for every certificate of a simulation) and checks its
 * signature with its own key.
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
    const csr = expect(der, 0, SEQUENCE);
    const info = expect(der, csr.start, SEQUENCE);
    const algorithm = expect(der, info.end, SEQUENCE);
    const signature = expect(der, algorithm.end, BIT_STRING);
    const version = expect(der, info.start, INTEGER);
    const subject = expect(der, version.end, SEQUENCE);
    const spki = expect(der, subject.end, SEQUENCE);
    const spkiDer = der.subarray(spki.from, spki.end);
    const key = createPublicKey({ key: spkiDer, format: "der", type: "spki" });
    const signed = der.subarray(info.from, info.end);
    const sig = der.subarray(signature.start + 1, signature.end);
    if (!verify("sha256", signed, { key, dsaEncoding: "der" }, sig)) return undefined;
    return {
      subjectDer: der.subarray(subject.from, subject.end),
      spkiDer,
      sanDer: spki.end < info.end ? requestedSan(der, spki.end, info.end) : undefined,
    };
  } catch {
    return undefined;
  }
}

/**
 * Issues an end-entity certificate as AWS Private CA's EndEntityCertificate/V1
 * template does: basicConstraints CA:false, keyUsage digitalSignature and
 * keyEncipherment (critical), extKeyUsage serverAuth and clientAuth, subject
 * and authority key identifiers, the CSR's subject, key and SAN. The
 * TBSCertificate is assembled from DER pieces.
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
  const spki = expect(csr.spkiDer, 0, SEQUENCE);
  const keyBits = expect(csr.spkiDer, expect(csr.spkiDer, spki.start, SEQUENCE).end, BIT_STRING);
  const keyId = createHash("sha1")
    .update(csr.spkiDer.subarray(keyBits.start + 1, keyBits.end))
    .digest();
  const extensions = [
    ca.endEntityExtensions,
    rawExtension(SKI_OID, tlv(OCTET_STRING, keyId)),
    ...(csr.sanDer === undefined ? [] : [rawExtension(SAN_OID, csr.sanDer)]),
  ];
  const tbs = tlv(
    SEQUENCE,
    V3,
    tlv(INTEGER, Buffer.from(serial())),
    ECDSA_SHA256_DER,
    ca.nameDer,
    tlv(SEQUENCE, time(notBefore), time(notAfter)),
    csr.subjectDer,
    csr.spkiDer,
    tlv(0xa3, tlv(SEQUENCE, ...extensions)),
  );
  return pem(signDer(ca.key, tbs));
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const OID = 0x06;
const SET = 0x31;
/** [0] EXPLICIT INTEGER 2: version v3. */
const V3 = Buffer.from([0xa0, 0x03, 0x02, 0x01, 0x02]);
const SAN_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11]);
const SKI_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x0e]);
/** 1.2.840.113549.1.9.14, PKCS #9 extensionRequest. */
const EXTENSION_REQUEST_OID = Buffer.from([
  0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e,
]);

/** One DER element at `at`: its tag, where it starts (`from`), where its content starts and ends. */
interface Element {
  tag: number;
  from: number;
  start: number;
  end: number;
}

function element(der: Buffer, at: number): Element {
  if (at + 2 > der.length) throw new RangeError("DER element past the end of its input");
  const tag = der[at] as number;
  let length = der[at + 1] as number;
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[start + i] as number);
    start += bytes;
  }
  const end = start + length;
  if (end > der.length) throw new RangeError("DER element overruns its input");
  return { tag, from: at, start, end };
}

function expect(der: Buffer, at: number, tag: number): Element {
  const e = element(der, at);
  if (e.tag !== tag) throw new RangeError(`DER tag ${e.tag}, expected ${tag}`);
  return e;
}

/** The subjectAltName value in the request's extensionRequest attribute, if any. */
function requestedSan(der: Buffer, from: number, to: number): Buffer | undefined {
  const attributes = element(der, from);
  for (let at = attributes.start; at < Math.min(attributes.end, to); ) {
    const attribute = expect(der, at, SEQUENCE);
    at = attribute.end;
    const type = expect(der, attribute.start, OID);
    if (!der.subarray(type.from, type.end).equals(EXTENSION_REQUEST_OID)) continue;
    const values = expect(der, type.end, SET);
    const extensions = expect(der, values.start, SEQUENCE);
    for (let e = extensions.start; e < extensions.end; ) {
      const ext = expect(der, e, SEQUENCE);
      e = ext.end;
      const id = expect(der, ext.start, OID);
      if (!der.subarray(id.from, id.end).equals(SAN_OID)) continue;
      let value = element(der, id.end);
      if (value.tag === 0x01) value = element(der, value.end);
      return der.subarray(value.start, value.end);
    }
  }
  return undefined;
}

/** Extension ::= SEQUENCE { extnID, extnValue OCTET STRING }, not critical. */
function rawExtension(oid: Buffer, value: Buffer): Buffer {
  return tlv(SEQUENCE, oid, tlv(OCTET_STRING, value));
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = content.length === 1 ? (content[0] as Buffer) : Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

/** UTCTime before 2050, GeneralizedTime from then (RFC 5280), to the second. */
function time(date: Date): Buffer {
  const iso = date.toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(digits.slice(2), "latin1"))
    : tlv(0x18, Buffer.from(digits, "latin1"));
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

function signTbs(key: KeyObject, tbs: TBSCertificate): Buffer {
  return signDer(key, Buffer.from(AsnConvert.serialize(tbs)));
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }. */
function signDer(key: KeyObject, tbsDer: Buffer): Buffer {
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
  if (n < 0x10000) return Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
}

function pem(der: Buffer): string {
  const body =
    der
      .toString("base64")
      .match(/.{1,64}/g)
      ?.join("\n") ?? "";
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}
