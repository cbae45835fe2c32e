import { X509Certificate } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_subjectAltName,
  id_kp_clientAuth,
  id_kp_serverAuth,
  KeyUsage,
  KeyUsageFlags,
  NameConstraints,
  SubjectAlternativeName,
} from "@peculiar/asn1-x509";

import { encodePem } from "./pem.ts";

export { id_kp_clientAuth, id_kp_serverAuth, KeyUsageFlags };

/** Extensions this library processes; any other critical one makes a certificate unusable (RFC 5280 4.2). */
const HANDLED_EXTENSIONS = new Set([
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_extKeyUsage,
  id_ce_subjectAltName,
  id_ce_nameConstraints,
]);

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
 * The parts of an X.509 certificate that SPIFFE verification needs, parsed once.
 * `x509` (Node's) is used for signatures and issuer matching; the ASN.1 parse
 * gives the extensions Node does not expose (key usage bits, critical flags).
 */
export class ParsedCertificate {
  readonly der: Buffer;
  readonly x509: X509Certificate;
  readonly notBefore: Date;
  readonly notAfter: Date;
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

  /**
   * @throws Error when the DER is not a certificate or repeats an extension;
   *   callers wrap it in their own typed error.
   */
  constructor(der: Buffer) {
    this.der = der;
    this.x509 = new X509Certificate(der);
    const cert = AsnConvert.parse(der, Certificate);
    const tbs = cert.tbsCertificate;
    this.notBefore = tbs.validity.notBefore.getTime();
    this.notAfter = tbs.validity.notAfter.getTime();
    this.serialNumber = this.x509.serialNumber;
    const sigParams = cert.signatureAlgorithm.parameters;
    this.signatureAlgorithm = {
      oid: cert.signatureAlgorithm.algorithm,
      parameters: sigParams ? Buffer.from(sigParams) : undefined,
    };
    this.subjectIsEmpty = tbs.subject.length === 0;
    this.subjectDer = Buffer.from(AsnConvert.serialize(tbs.subject));
    this.issuerDer = Buffer.from(AsnConvert.serialize(tbs.issuer));

    let basicConstraints: ParsedCertificate["basicConstraints"];
    let keyUsage: ParsedCertificate["keyUsage"];
    let extKeyUsage: string[] | undefined;
    let uriSans: string[] = [];
    let dnsSans: string[] = [];
    let sanCritical = false;
    let nameConstraints: NameConstraintSet | undefined;
    const unhandled: string[] = [];

    const seen = new Set<string>();
    for (const ext of tbs.extensions ?? []) {
      // RFC 5280 4.2: at most one instance of each extension. Two SAN extensions
      // would let two parsers see two different identities in one certificate.
      if (seen.has(ext.extnID)) throw new Error(`extension ${ext.extnID} appears more than once`);
      seen.add(ext.extnID);
      const value = ext.extnValue.buffer;
      switch (ext.extnID) {
        case id_ce_basicConstraints: {
          const bc = AsnConvert.parse(value, BasicConstraints);
          basicConstraints = { cA: bc.cA, pathLen: bc.pathLenConstraint };
          break;
        }
        case id_ce_keyUsage: {
          const ku = AsnConvert.parse(value, KeyUsage);
          keyUsage = { flags: ku.toNumber(), critical: ext.critical };
          break;
        }
        case id_ce_extKeyUsage:
          extKeyUsage = [...AsnConvert.parse(value, ExtendedKeyUsage)];
          break;
        case id_ce_subjectAltName: {
          const san = AsnConvert.parse(value, SubjectAlternativeName);
          uriSans = san
            .filter((n) => n.uniformResourceIdentifier !== undefined)
            .map((n) => n.uniformResourceIdentifier as string);
          dnsSans = san.filter((n) => n.dNSName !== undefined).map((n) => n.dNSName as string);
          sanCritical = ext.critical;
          break;
        }
        case id_ce_nameConstraints:
          nameConstraints = readNameConstraints(AsnConvert.parse(value, NameConstraints));
          break;
        default:
          if (ext.critical && !HANDLED_EXTENSIONS.has(ext.extnID)) unhandled.push(ext.extnID);
      }
    }
    this.basicConstraints = basicConstraints;
    this.keyUsage = keyUsage;
    this.extKeyUsage = extKeyUsage;
    this.uriSans = uriSans;
    this.dnsSans = dnsSans;
    this.sanCritical = sanCritical;
    this.nameConstraints = nameConstraints;
    this.unhandledCriticalExtensions = unhandled;
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
   * at all is checked separately, so that failure gets its own reason.
   */
  isIssuedBy(issuer: ParsedCertificate): boolean {
    return this.issuerDer.equals(issuer.subjectDer) && this.x509.verify(issuer.x509.publicKey);
  }

  /** True for a certificate whose own key signed it under its own name. */
  isSelfSigned(): boolean {
    return this.isIssuedBy(this);
  }
}

function readNameConstraints(nc: NameConstraints): NameConstraintSet {
  const set: NameConstraintSet = {
    permittedUris: [],
    excludedUris: [],
    permittedDns: [],
    excludedDns: [],
    unsupported: [],
  };
  const collect = (
    subtrees: NameConstraints["permittedSubtrees"],
    uris: string[],
    dns: string[],
  ) => {
    for (const subtree of subtrees ?? []) {
      const base = subtree.base;
      if (base.uniformResourceIdentifier !== undefined) uris.push(base.uniformResourceIdentifier);
      else if (base.dNSName !== undefined) dns.push(base.dNSName);
      else
        set.unsupported.push(
          Object.keys(base).find((k) => base[k as keyof typeof base] !== undefined) ?? "unknown",
        );
    }
  };
  collect(nc.permittedSubtrees, set.permittedUris, set.permittedDns);
  collect(nc.excludedSubtrees, set.excludedUris, set.excludedDns);
  return set;
}
