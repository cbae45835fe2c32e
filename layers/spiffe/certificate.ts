import { createPublicKey, type KeyObject, verify, X509Certificate } from "node:crypto";
import { signatureDigest } from "./algorithms.ts";
import { type BitString, contextTag, DerReader, Tag } from "./der.ts";
import { DerError, DerReason } from "./errors.ts";
import { encodePem } from "./pem.ts";

/** id-kp-serverAuth (RFC 5280 4.2.1.12). */
export const id_kp_serverAuth = "1.3.6.1.5.5.7.3.1";
/** id-kp-clientAuth (RFC 5280 4.2.1.12). */
export const id_kp_clientAuth = "1.3.6.1.5.5.7.3.2";

/**
 * Key usage bits (RFC 5280 4.2.1.3) as flags: bit n of the BIT STRING is 2^n.
 *
 * @example
 * cert.hasKeyUsage(KeyUsageFlags.keyCertSign);
 */
export const KeyUsageFlags = {
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
  encipherOnly: 128,
  decipherOnly: 256,
} as const;
export type KeyUsageFlags = (typeof KeyUsageFlags)[keyof typeof KeyUsageFlags];

const id_ce_basicConstraints = "2.5.29.19";
const id_ce_keyUsage = "2.5.29.15";
const id_ce_extKeyUsage = "2.5.29.37";
const id_ce_subjectAltName = "2.5.29.17";
const id_ce_nameConstraints = "2.5.29.30";

/** URI and DNS name constraints of a signing certificate. */
export interface NameConstraintSet {
  permittedUris: string[];
  excludedUris: string[];
  permittedDns: string[];
  excludedDns: string[];
  /** Constraint name types this library does not evaluate (e.g. directoryName). */
  unsupported: string[];
}

/**
 * The parts of an X.509 certificate that SPIFFE verification needs, parsed once
 * by the library's own strict DER reader ({@link DerReader}), including what
 * Node does not expose (key usage bits, critical flags, name constraints).
 *
 * OpenSSL's reading (Node's `X509Certificate`, {@link ParsedCertificate.x509})
 * is built on first use, not here: the public key comes from the
 * SubjectPublicKeyInfo bytes this reader delimited ({@link ParsedCertificate.spkiDer}),
 * and signatures other than RSASSA-PSS are checked over the TBS bytes it
 * delimited, so most certificates never need it. Where OpenSSL must accept
 * the certificate too, the caller asks for `x509`: `verifyX509Svid` does so
 * for every certificate of the chain it accepts (see `requireOpenSslReads`),
 * and bundles for their roots.
 *
 * Immutable once built (its arrays and records are frozen), so one instance
 * may be shared between chains; its buffers are views into `der`, which must
 * not be written to.
 *
 * @example
 * const cert = new ParsedCertificate(der);
 * cert.uriSans; // ["spiffe://example.org/web"]
 */
export class ParsedCertificate {
  readonly der: Buffer;
  /** DER of the SubjectPublicKeyInfo, exactly as the certificate carries it (a view into `der`). */
  readonly spkiDer: Buffer;
  /** The SubjectPublicKeyInfo's algorithm: for an EC key, `parameters` is its curve's OID (DER). */
  readonly publicKeyAlgorithm: { oid: string; parameters: Buffer | undefined };
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Upper-case hex of the serial number's magnitude, as Node's `X509Certificate` prints it. */
  readonly serialNumber: string;
  /** The algorithm of this certificate's own signature: its outer `signatureAlgorithm` field. */
  readonly signatureAlgorithm: { oid: string; parameters: Buffer | undefined };
  readonly subjectIsEmpty: boolean;
  /** DER of the subject and issuer names, compared byte for byte when chaining. */
  readonly subjectDer: Buffer;
  readonly issuerDer: Buffer;
  /** `undefined` when the extension is absent. */
  readonly basicConstraints: { cA: boolean; pathLen: number | undefined } | undefined;
  /** Key usage bit flags, `undefined` when the extension is absent. */
  readonly keyUsage: { flags: number; critical: boolean } | undefined;
  /** EKU OIDs, `undefined` when the extension is absent. */
  readonly extKeyUsage: string[] | undefined;
  readonly uriSans: string[];
  readonly dnsSans: string[];
  readonly sanCritical: boolean;
  readonly nameConstraints: NameConstraintSet | undefined;
  readonly unhandledCriticalExtensions: string[];
  /** The bytes the issuer signed, as this reader delimits them, and the signature over them. */
  readonly #tbs: Buffer;
  readonly #signature: Buffer;
  #publicKey: KeyObject | undefined;
  #x509: X509Certificate | undefined;

  /**
   * @throws {DerError} when the DER is not a well-formed certificate;
   *   Error when it repeats an extension. Callers wrap both in their own
   *   typed error.
   */
  constructor(der: Buffer) {
    this.der = der;
    const outer = DerReader.of(der);
    const cert = outer.sequence("certificate", "");
    outer.finish("after certificate");
    const tbsElement = cert.next("tbsCertificate", Tag.SEQUENCE);
    this.#tbs = cert.encoding(tbsElement);
    const tbs = cert.within(tbsElement, "tbsCertificate");
    const signatureAlgorithm = cert.raw("signatureAlgorithm", Tag.SEQUENCE);
    const signatureValue = cert.bitString("signatureValue");
    noUnusedBits(signatureValue, "signatureValue");
    this.#signature = signatureValue.bytes;
    cert.finish("certificate");

    // Version DEFAULT v1: an explicit v1 is not DER, but Go's parser takes it, so this one does.
    const version =
      tbs.peekTag() === contextTag(0, true) ? readVersion(tbs.explicit(0, "version")) : 0;
    const serial = tbs.integer("serialNumber");
    if ((serial[0] as number) >= 0x80) {
      throw new DerError(DerReason.NEGATIVE_SERIAL, tbs.join("serialNumber"));
    }
    this.serialNumber = serialHex(serial);
    const innerAlgorithm = tbs.raw("signature", Tag.SEQUENCE);
    // RFC 5280 4.1.1.2: the two must match; OpenSSL's verify refuses a mismatch too.
    if (!innerAlgorithm.equals(signatureAlgorithm)) {
      throw new DerError(DerReason.SIGNATURE_ALGORITHM_MISMATCH, "signatureAlgorithm");
    }
    this.signatureAlgorithm = readAlgorithm(
      DerReader.of(signatureAlgorithm).sequence("signatureAlgorithm"),
    );
    this.issuerDer = readName(tbs, "issuer");
    const validity = tbs.sequence("validity");
    this.notBefore = validity.time("notBefore");
    this.notAfter = validity.time("notAfter");
    validity.finish();
    this.subjectDer = readName(tbs, "subject");
    this.subjectIsEmpty = this.subjectDer.length === 2;
    const spkiElement = tbs.next("subjectPublicKeyInfo", Tag.SEQUENCE);
    this.spkiDer = tbs.encoding(spkiElement);
    const spki = tbs.within(spkiElement, tbs.join("subjectPublicKeyInfo"));
    this.publicKeyAlgorithm = readAlgorithm(spki.sequence("algorithm"));
    noUnusedBits(spki.bitString("subjectPublicKey"), spki.join("subjectPublicKey"));
    spki.finish();
    for (const [n, what] of [
      [1, "issuerUniqueID"],
      [2, "subjectUniqueID"],
    ] as const) {
      if (tbs.peekTag() !== contextTag(n, false)) continue;
      if (version < 1) throw new DerError(DerReason.VERSION, tbs.join(what));
      tbs.bitString(what, contextTag(n, false));
    }

    let basicConstraints: ParsedCertificate["basicConstraints"];
    let keyUsage: ParsedCertificate["keyUsage"];
    let extKeyUsage: string[] | undefined;
    let uriSans: string[] = [];
    let dnsSans: string[] = [];
    let sanCritical = false;
    let nameConstraints: NameConstraintSet | undefined;
    const unhandled: string[] = [];

    if (tbs.peekTag() === contextTag(3, true)) {
      if (version !== 2) throw new DerError(DerReason.VERSION, tbs.join("extensions"));
      const wrapper = tbs.explicit(3, "extensions");
      const extensions = wrapper.sequence("", wrapper.path);
      wrapper.finish();
      const seen = new Set<string>();
      for (let i = 0; !extensions.done; i++) {
        const ext = extensions.sequence(`[${i}]`);
        const id = ext.oid("extnID");
        // DEFAULT FALSE: an explicit FALSE is not DER, but Go's parser takes it, so this one does.
        const critical = ext.peekTag() === Tag.BOOLEAN ? ext.boolean("critical") : false;
        const value = ext.next("extnValue", Tag.OCTET_STRING);
        ext.finish();
        // RFC 5280 4.2: at most one instance of each extension. Two SAN extensions
        // would let two parsers see two different identities in one certificate.
        // A plain Error, as before this reader: its text is part of the refusal callers see.
        if (seen.has(id)) throw new Error(`extension ${id} appears more than once`);
        seen.add(id);
        switch (id) {
          case id_ce_basicConstraints:
            basicConstraints = readBasicConstraints(ext.within(value, "basicConstraints"));
            break;
          case id_ce_keyUsage:
            keyUsage = { flags: readKeyUsage(ext.within(value, "keyUsage")), critical };
            break;
          case id_ce_extKeyUsage:
            extKeyUsage = readExtKeyUsage(ext.within(value, "extKeyUsage"));
            break;
          case id_ce_subjectAltName: {
            const names = readGeneralNames(ext.within(value, "subjectAltName"));
            uriSans = names.uris;
            dnsSans = names.dns;
            sanCritical = critical;
            break;
          }
          case id_ce_nameConstraints:
            nameConstraints = readNameConstraints(ext.within(value, "nameConstraints"));
            break;
          default:
            if (critical) unhandled.push(id);
        }
      }
    }
    tbs.finish();

    this.basicConstraints = freeze(basicConstraints);
    this.keyUsage = freeze(keyUsage);
    this.extKeyUsage = freeze(extKeyUsage);
    this.uriSans = Object.freeze(uriSans) as string[];
    this.dnsSans = Object.freeze(dnsSans) as string[];
    this.sanCritical = sanCritical;
    this.nameConstraints = freezeNameConstraints(nameConstraints);
    this.unhandledCriticalExtensions = Object.freeze(unhandled) as string[];
    Object.freeze(this.signatureAlgorithm);
    Object.freeze(this.publicKeyAlgorithm);
  }

  /**
   * The subject public key, decoded from {@link spkiDer} on first use and
   * kept: the bytes this reader delimited, not another parser's view of them.
   *
   * @throws Error (OpenSSL's) when the key cannot be decoded, e.g. an EC
   *   point off its curve or an unknown algorithm.
   * @example
   * cert.publicKey.asymmetricKeyType; // "ec"
   */
  get publicKey(): KeyObject {
    this.#publicKey ??= createPublicKey({ key: this.spkiDer, format: "der", type: "spki" });
    return this.#publicKey;
  }

  /**
   * Node's `X509Certificate` of the same DER: OpenSSL's reading, built on
   * first use and kept. Asking for it is how a caller requires that OpenSSL
   * accepts the certificate too.
   *
   * @throws Error (OpenSSL's, `code` `ERR_OSSL_...`) when OpenSSL refuses the DER.
   * @example
   * cert.x509.fingerprint256;
   */
  get x509(): X509Certificate {
    this.#x509 ??= new X509Certificate(this.der);
    return this.#x509;
  }

  /** The certificate as one PEM block. */
  toPem(): string {
    return encodePem("CERTIFICATE", this.der);
  }

  get isCA(): boolean {
    return this.basicConstraints?.cA === true;
  }

  hasKeyUsage(flag: KeyUsageFlags): boolean {
    return this.keyUsage !== undefined && (this.keyUsage.flags & flag) !== 0;
  }

  /**
   * True when `issuer`'s subject is this certificate's issuer name and its key
   * made this certificate's signature. Whether `issuer` may sign certificates
   * at all is checked separately, so that failure gets its own reason. A key
   * that cannot be decoded made no signature: a presented certificate with
   * such a key is a dead end for path building, not a crash.
   */
  isIssuedBy(issuer: ParsedCertificate): boolean {
    if (!this.issuerDer.equals(issuer.subjectDer)) return false;
    let key: KeyObject;
    try {
      key = issuer.publicKey;
    } catch {
      return false;
    }
    return this.#isSignedBy(key);
  }

  /**
   * Checks the signature over the TBS bytes this reader parsed the fields
   * from, so no other parser's view of the certificate decides. RSASSA-PSS and
   * refused algorithms go to OpenSSL's certificate verification, which reads
   * their parameters (a refused one is then reported by its name, not as a
   * missing issuer); a certificate OpenSSL cannot read has no signature it
   * can check.
   */
  #isSignedBy(key: KeyObject): boolean {
    const digest = signatureDigest(this.signatureAlgorithm, key.asymmetricKeyType);
    try {
      if (digest === undefined) return this.x509.verify(key);
      return verify(digest, this.#tbs, key, this.#signature);
    } catch {
      return false;
    }
  }

  /** True for a certificate whose own key signed it under its own name. */
  isSelfSigned(): boolean {
    return this.isIssuedBy(this);
  }
}

function freeze<T extends object | undefined>(value: T): T {
  return value === undefined ? value : Object.freeze(value);
}

function freezeNameConstraints(set: NameConstraintSet | undefined): NameConstraintSet | undefined {
  if (set === undefined) return undefined;
  for (const list of Object.values(set)) Object.freeze(list);
  return Object.freeze(set);
}

function readVersion(r: DerReader): number {
  const bytes = r.integer("");
  const version = bytes[0] as number;
  if (bytes.length !== 1 || version > 2) throw new DerError(DerReason.VERSION, r.path);
  r.finish();
  return version;
}

/** Node's (OpenSSL's BN_bn2hex) form: the magnitude's bytes in upper-case hex, "0" for zero. */
function serialHex(bytes: Buffer): string {
  if (bytes.length === 1 && bytes[0] === 0) return "0";
  const magnitude = bytes[0] === 0 ? bytes.subarray(1) : bytes;
  return magnitude.toString("hex").toUpperCase();
}

/** An AlgorithmIdentifier's contents; `parameters` is the whole encoding of the optional field. */
function readAlgorithm(r: DerReader): { oid: string; parameters: Buffer | undefined } {
  const oid = r.oid("algorithm");
  const parameters = r.done ? undefined : r.raw("parameters");
  r.finish();
  return { oid, parameters };
}

function noUnusedBits(bits: BitString, where: string): void {
  if (bits.unusedBits !== 0) throw new DerError(DerReason.BIT_STRING, where);
}

/**
 * A Name's DER, checked to be a SEQUENCE OF SET OF {type, value}; names are
 * compared byte for byte, so attribute values are not decoded.
 */
function readName(r: DerReader, what: string): Buffer {
  const el = r.next(what, Tag.SEQUENCE);
  const rdns = r.within(el, r.join(what));
  for (let i = 0; !rdns.done; i++) {
    const rdn = rdns.sequence(`[${i}]`, undefined, Tag.SET);
    for (let j = 0; !rdn.done; j++) {
      const attribute = rdn.sequence(`[${j}]`);
      attribute.oid("type");
      attribute.next("value");
      attribute.finish();
    }
  }
  return r.encoding(el);
}

function readBasicConstraints(r: DerReader): NonNullable<ParsedCertificate["basicConstraints"]> {
  const bc = r.sequence("");
  // cA DEFAULT FALSE: an explicit FALSE is taken, as Go's parser takes it.
  const cA = bc.peekTag() === Tag.BOOLEAN ? bc.boolean("cA") : false;
  const pathLen =
    bc.peekTag() === Tag.INTEGER ? bc.smallInteger("pathLenConstraint", 0, MAX_INT32) : undefined;
  bc.finish();
  r.finish();
  return { cA, pathLen };
}

const MAX_INT32 = 2 ** 31 - 1;

/** The named bits 0 (digitalSignature) to 8 (decipherOnly) as {@link KeyUsageFlags}. */
function readKeyUsage(r: DerReader): number {
  const { bytes } = r.bitString("");
  r.finish();
  let flags = 0;
  for (let bit = 0; bit <= 8; bit++) {
    const byte = bytes[bit >> 3];
    if (byte !== undefined && (byte >> (7 - (bit & 7))) & 1) flags |= 1 << bit;
  }
  return flags;
}

function readExtKeyUsage(r: DerReader): string[] {
  const seq = r.sequence("");
  const oids: string[] = [];
  for (let i = 0; !seq.done; i++) oids.push(seq.oid(`[${i}]`));
  r.finish();
  return oids;
}

const URI = contextTag(6, false);
const DNS = contextTag(2, false);

/** GeneralName choices (RFC 5280 4.2.1.6) this library does not evaluate, by tag, under their ASN.1 names. */
const OTHER_NAMES = new Map<number, string>([
  [contextTag(0, true), "otherName"],
  [contextTag(1, false), "rfc822Name"],
  [contextTag(3, true), "x400Address"],
  [contextTag(4, true), "directoryName"],
  [contextTag(5, true), "ediPartyName"],
  [contextTag(7, false), "iPAddress"],
  [contextTag(8, false), "registeredID"],
]);

/** One GeneralName: URI and DNS names with their value, the others by name only. */
function readGeneralName(r: DerReader, what: string): { tag: number; value: string | undefined } {
  const tag = r.peekTag();
  if (tag === URI || tag === DNS) return { tag, value: r.ia5String(what, tag) };
  if (tag !== undefined && OTHER_NAMES.has(tag)) {
    // Read to their structure as OpenSSL reads them: a SAN extension it cannot
    // decode has no names for it, so none may pass here either.
    readOtherName(r, what, tag);
    return { tag, value: undefined };
  }
  if (tag === undefined) r.next(what);
  return r.fail(DerReason.UNEXPECTED_TAG, what, `tag 0x${(tag as number).toString(16)}`);
}

/** DirectoryString's choices (RFC 5280 4.1.2.4): Teletex, Printable, Universal, UTF8 and BMP strings. */
const DIRECTORY_STRINGS = new Set([0x14, 0x13, 0x1c, 0x0c, 0x1e]);

function readOtherName(r: DerReader, what: string, tag: number): void {
  switch (tag) {
    case contextTag(1, false):
      r.ia5String(what, tag);
      return;
    case contextTag(8, false):
      r.oid(what, tag);
      return;
    case contextTag(7, false):
      r.next(what, tag);
      return;
    case contextTag(0, true): {
      const other = r.sequence(what, undefined, tag);
      other.oid("type-id");
      const value = other.explicit(0, "value");
      value.next("");
      value.finish();
      other.finish();
      return;
    }
    case contextTag(4, true): {
      const name = r.explicit(4, what);
      readName(name, "");
      name.finish();
      return;
    }
    case contextTag(5, true): {
      const edi = r.sequence(what, undefined, tag);
      if (edi.peekTag() === contextTag(0, true))
        readDirectoryString(edi.explicit(0, "nameAssigner"));
      readDirectoryString(edi.explicit(1, "partyName"));
      edi.finish();
      return;
    }
    default: {
      // x400Address: an ORAddress, whose parts OpenSSL keeps undecoded; they must still be DER.
      const address = r.sequence(what, undefined, tag);
      for (let i = 0; !address.done; i++) address.next(`[${i}]`);
    }
  }
}

function readDirectoryString(r: DerReader): void {
  const el = r.next("");
  if (!DIRECTORY_STRINGS.has(el.tag)) {
    r.fail(DerReason.UNEXPECTED_TAG, "", `tag 0x${el.tag.toString(16)}`);
  }
  r.finish();
}

function readGeneralNames(r: DerReader): { uris: string[]; dns: string[] } {
  const seq = r.sequence("");
  const uris: string[] = [];
  const dns: string[] = [];
  for (let i = 0; !seq.done; i++) {
    const name = readGeneralName(seq, `[${i}]`);
    if (name.tag === URI) uris.push(name.value as string);
    else if (name.tag === DNS) dns.push(name.value as string);
  }
  r.finish();
  return { uris, dns };
}

function readNameConstraints(r: DerReader): NameConstraintSet {
  const set: NameConstraintSet = {
    permittedUris: [],
    excludedUris: [],
    permittedDns: [],
    excludedDns: [],
    unsupported: [],
  };
  const nc = r.sequence("");
  const collect = (n: number, what: string, uris: string[], dns: string[]) => {
    if (nc.peekTag() !== contextTag(n, true)) return;
    const subtrees = nc.sequence(what, undefined, contextTag(n, true));
    for (let i = 0; !subtrees.done; i++) {
      const subtree = subtrees.sequence(`[${i}]`);
      const base = readGeneralName(subtree, "base");
      if (base.tag === URI) uris.push(base.value as string);
      else if (base.tag === DNS) dns.push(base.value as string);
      else set.unsupported.push(OTHER_NAMES.get(base.tag) as string);
      // minimum DEFAULT 0 and maximum: RFC 5280 4.2.1.10 says neither is used; read, not applied.
      if (subtree.peekTag() === contextTag(0, false)) {
        subtree.smallInteger("minimum", 0, MAX_INT32, contextTag(0, false));
      }
      if (subtree.peekTag() === contextTag(1, false)) {
        subtree.smallInteger("maximum", 0, MAX_INT32, contextTag(1, false));
      }
      subtree.finish();
    }
  };
  collect(0, "permittedSubtrees", set.permittedUris, set.permittedDns);
  collect(1, "excludedSubtrees", set.excludedUris, set.excludedDns);
  nc.finish();
  r.finish();
  return set;
}
