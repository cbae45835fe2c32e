/**
 * A test certificate authority that builds real X.509 certificates inside the
 * test, with every field a SPIFFE rule looks at under the test's control, so
 * each rule has a certificate that breaks exactly that rule.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  id_ce_nameConstraints,
  NameConstraints,
} from "@peculiar/asn1-x509";
import * as x509 from "@peculiar/x509";
import { parseTrustDomain, type TrustDomain, X509Bundle } from "../../layers/spiffe/index.ts";

x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const HOUR = 3_600_000;

export const KU = x509.KeyUsageFlags;
export const EKU = x509.ExtendedKeyUsage;

/** A key pair WebCrypto can make: an EC curve, Ed25519, or RSA (PKCS#1 v1.5) of `rsa` bits. */
export type KeySpec = "P-256" | "P-384" | "P-521" | "Ed25519" | { rsa: number };

/** How the issuer signs a certificate; the algorithm family follows the issuer's key. */
export interface SignatureSpec {
  /** Default SHA-256; "SHA-1" makes the weak signatures old CAs made. */
  hash?: "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";
  /** For an RSA issuer: RSASSA-PSS with this salt length instead of PKCS#1 v1.5. */
  pssSaltLength?: number;
}

/** Everything a test may set on a certificate; unset fields get SPIFFE-valid defaults. */
export interface CertOptions {
  /** The certificate's key; default EC P-256. */
  key?: KeySpec;
  /**
   * SPKI DER to certify instead of the generated key, for keys WebCrypto cannot
   * make (secp256k1, DSA, Ed448). The returned `keys` and `keyPem` are then
   * the generated pair, not the certified key: use it for leaves only.
   */
  publicKey?: Uint8Array<ArrayBuffer>;
  /** How the issuer (or the certificate itself, for a root) signs it. */
  signature?: SignatureSpec;
  uris?: string[];
  dns?: string[];
  /** Distinguished name, e.g. "CN=web"; "" for an empty subject. */
  subject?: string;
  sanCritical?: boolean;
  /** `null` leaves basic constraints out. */
  ca?: boolean | null;
  pathLength?: number;
  /** Key usage flags; `null` leaves the extension out. */
  keyUsage?: number | null;
  keyUsageCritical?: boolean;
  /** EKU OIDs; `null` leaves the extension out. */
  eku?: string[] | null;
  notBefore?: Date;
  notAfter?: Date;
  nameConstraints?: { permittedUris?: string[]; excludedUris?: string[]; permittedDns?: string[] };
  /** Additional raw extensions, e.g. an unknown critical one. */
  extra?: x509.Extension[];
}

export interface IssuedCert {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  certPem: string;
  keyPem: string;
}

/** A leaf X509-SVID as the secret stores it: chain (leaf first, no root) and key. */
export interface TestSvid {
  chainPem: string;
  keyPem: string;
  leaf: x509.X509Certificate;
}

let serial = 1;

async function build(
  opts: CertOptions,
  defaults: CertOptions,
  signer: { name: string; key: CryptoKey } | undefined,
  existingKeys?: CryptoKeyPair,
): Promise<IssuedCert> {
  const o = { ...defaults, ...opts };
  const keys = existingKeys ?? (await generateKeys(o.key));
  const signing = await signingKey(signer?.key ?? keys.privateKey, o.signature);
  const extensions: x509.Extension[] = [];
  if (o.ca !== null && o.ca !== undefined) {
    extensions.push(new x509.BasicConstraintsExtension(o.ca, o.pathLength, true));
  }
  if (o.keyUsage !== null && o.keyUsage !== undefined) {
    extensions.push(new x509.KeyUsagesExtension(o.keyUsage, o.keyUsageCritical ?? true));
  }
  if (o.eku !== null && o.eku !== undefined) {
    extensions.push(new x509.ExtendedKeyUsageExtension(o.eku, false));
  }
  const names = [
    ...(o.uris ?? []).map((value) => ({ type: "url" as const, value })),
    ...(o.dns ?? []).map((value) => ({ type: "dns" as const, value })),
  ];
  if (names.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(names, o.sanCritical ?? false));
  }
  if (o.nameConstraints !== undefined) extensions.push(nameConstraintsExtension(o.nameConstraints));
  extensions.push(...(o.extra ?? []));
  const subject = o.subject ?? "CN=test";
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(2, "0"),
    subject,
    issuer: signer?.name ?? subject,
    notBefore: o.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: o.notAfter ?? new Date(Date.now() + 24 * HOUR),
    signingAlgorithm: signing.algorithm,
    publicKey: o.publicKey ?? keys.publicKey,
    signingKey: signing.key,
    extensions,
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    cert,
    keys,
    certPem: `${cert.toString("pem")}\n`,
    keyPem: `${x509.PemConverter.encode(pkcs8, "PRIVATE KEY")}\n`,
  };
}

async function generateKeys(spec: KeySpec = "P-256"): Promise<CryptoKeyPair> {
  const usages: webcrypto.KeyUsage[] = ["sign", "verify"];
  if (spec === "Ed25519") {
    return (await webcrypto.subtle.generateKey({ name: "Ed25519" }, true, usages)) as CryptoKeyPair;
  }
  if (typeof spec === "object") {
    return webcrypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: spec.rsa,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      usages,
    );
  }
  return webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: spec }, true, usages);
}

/**
 * The algorithm and key an issuer signs with. WebCrypto binds an RSA key to one
 * scheme and hash, so an RSA issuer's key is re-imported for the one asked for.
 */
async function signingKey(
  key: CryptoKey,
  spec: SignatureSpec = {},
): Promise<{ algorithm: x509.X509CertificateCreateParams["signingAlgorithm"]; key: CryptoKey }> {
  const hash = spec.hash ?? "SHA-256";
  switch (key.algorithm.name) {
    case "ECDSA":
      return { algorithm: { name: "ECDSA", hash }, key };
    case "Ed25519":
      return { algorithm: { name: "Ed25519" }, key };
    default: {
      const algorithm =
        spec.pssSaltLength === undefined
          ? { name: "RSASSA-PKCS1-v1_5", hash }
          : { name: "RSA-PSS", hash, saltLength: spec.pssSaltLength };
      const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", key);
      const imported = await webcrypto.subtle.importKey(
        "pkcs8",
        pkcs8,
        { name: algorithm.name, hash },
        false,
        ["sign"],
      );
      return { algorithm, key: imported };
    }
  }
}

function nameConstraintsExtension(nc: NonNullable<CertOptions["nameConstraints"]>): x509.Extension {
  const subtrees = (uris: string[] = [], dns: string[] = []) =>
    new GeneralSubtrees([
      ...uris.map(
        (u) => new GeneralSubtree({ base: new GeneralName({ uniformResourceIdentifier: u }) }),
      ),
      ...dns.map((d) => new GeneralSubtree({ base: new GeneralName({ dNSName: d }) })),
    ]);
  const value = new NameConstraints({
    permittedSubtrees:
      nc.permittedUris || nc.permittedDns ? subtrees(nc.permittedUris, nc.permittedDns) : undefined,
    excludedSubtrees: nc.excludedUris ? subtrees(nc.excludedUris) : undefined,
  });
  return new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(value));
}

const CA_DEFAULTS: CertOptions = { ca: true, keyUsage: KU.keyCertSign | KU.cRLSign };

/** A root or intermediate CA for one trust domain. */
export class TestCa {
  readonly trustDomain: TrustDomain;
  readonly issued: IssuedCert;
  readonly root: IssuedCert;
  /** Intermediates between this CA and the root, this CA first (empty for a root). */
  readonly chainToRoot: IssuedCert[];
  private readonly name: string;

  private constructor(
    trustDomain: TrustDomain,
    issued: IssuedCert,
    root: IssuedCert,
    chain: IssuedCert[],
    name: string,
  ) {
    this.trustDomain = trustDomain;
    this.issued = issued;
    this.root = root;
    this.chainToRoot = chain;
    this.name = name;
  }

  /** A self-signed root whose SPIFFE ID is the trust domain's own ID. */
  static async root(trustDomain: string, opts: CertOptions = {}): Promise<TestCa> {
    const td = parseTrustDomain(trustDomain);
    const name = `CN=root ${trustDomain} ${serial}`;
    const issued = await build(
      { subject: name, uris: [td.idString()], ...opts },
      CA_DEFAULTS,
      undefined,
    );
    return new TestCa(td, issued, issued, [], name);
  }

  /** An intermediate CA signed by this one. */
  async intermediate(opts: CertOptions = {}): Promise<TestCa> {
    const name = `CN=intermediate ${this.trustDomain.name} ${serial}`;
    const issued = await build(
      { subject: name, uris: [this.trustDomain.idString()], ...opts },
      CA_DEFAULTS,
      { name: this.name, key: this.issued.keys.privateKey },
    );
    return new TestCa(this.trustDomain, issued, this.root, [issued, ...this.chainToRoot], name);
  }

  /**
   * Another CA certificate with this CA's name and key, signed by itself: it
   * and this CA each verify as the other's issuer, which hostile chains exploit.
   */
  async reissueSelfSigned(): Promise<IssuedCert> {
    return build(
      { subject: this.name, uris: [this.trustDomain.idString()] },
      CA_DEFAULTS,
      { name: this.name, key: this.issued.keys.privateKey },
      this.issued.keys,
    );
  }

  /** A certificate signed by this CA; defaults make it a valid leaf SVID for `path`. */
  async leaf(path = "/workload", opts: CertOptions = {}): Promise<IssuedCert> {
    return build(
      opts,
      {
        uris: [`${this.trustDomain.idString()}${path}`],
        ca: false,
        keyUsage: KU.digitalSignature,
        eku: [EKU.serverAuth, EKU.clientAuth],
        subject: "CN=workload",
      },
      { name: this.name, key: this.issued.keys.privateKey },
    );
  }

  /**
   * A web-PKI style server certificate signed by this CA: DNS names only, no
   * SPIFFE ID, server authentication only.
   *
   * @example
   * const server = await (await TestCa.root("keywhiz.test")).serverCert(["localhost"]);
   */
  async serverCert(dns: string[] = ["localhost"], opts: CertOptions = {}): Promise<IssuedCert> {
    return this.leaf("", {
      uris: [],
      dns,
      eku: [EKU.serverAuth],
      keyUsage: KU.digitalSignature,
      subject: `CN=${dns[0] ?? "server"}`,
      ...opts,
    });
  }

  /** A leaf SVID with its chain up to (not including) the root. */
  async svid(path = "/workload", opts: CertOptions = {}): Promise<TestSvid> {
    const leaf = await this.leaf(path, opts);
    const rootless = this.chainToRoot.map((c) => c.certPem).join("");
    return { chainPem: leaf.certPem + rootless, keyPem: leaf.keyPem, leaf: leaf.cert };
  }

  /** The bundle of this CA's trust domain, holding its root. */
  bundle(): X509Bundle {
    return X509Bundle.fromPem(this.trustDomain, this.root.certPem);
  }
}
