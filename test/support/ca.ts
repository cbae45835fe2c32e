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

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const HOUR = 3_600_000;

export const KU = x509.KeyUsageFlags;
export const EKU = x509.ExtendedKeyUsage;

/** Everything a test may set on a certificate; unset fields get SPIFFE-valid defaults. */
export interface CertOptions {
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
  const keys =
    existingKeys ??
    ((await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair);
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
    signingAlgorithm: SIGN,
    publicKey: keys.publicKey,
    signingKey: signer?.key ?? keys.privateKey,
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
