import "reflect-metadata";
import { randomBytes, webcrypto } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import { type TrustDomain, X509Bundle } from "../../../layers/spiffe/index.ts";
import { CaError, CaReason } from "../errors.ts";
import type { CertificateAuthority, SignedCertificate, SignRequest } from "./port.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Key and root together in one file, so the pair is created atomically. */
const CA_FILE = "ca.pem";
/** The root alone, for handing to relying parties. */
const BUNDLE_FILE = "bundle.pem";
const ROOT_LIFETIME_MS = 10 * 365 * 24 * 3_600_000;
const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

type CryptoKey = webcrypto.CryptoKey;

/**
 * An in-process CA whose key and self-signed root live in a local directory,
 * created on first use. For development, the local demo and tests: it signs
 * exactly the validity it is asked for, which moto's ACM PCA does not.
 */
export class LocalCertificateAuthority implements CertificateAuthority {
  readonly description: string;

  private constructor(
    private readonly key: CryptoKey,
    private readonly root: x509.X509Certificate,
    private readonly rootBundle: X509Bundle,
    directory: string,
  ) {
    this.description = `local:${directory}`;
  }

  /**
   * Loads the CA from `directory`, creating its key and root there if absent.
   *
   * @throws {CaError} with {@link CaReason.CA_FILE} when the CA file lacks its key or root.
   */
  static async open(
    directory: string,
    trustDomain: TrustDomain,
  ): Promise<LocalCertificateAuthority> {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    let text: string;
    try {
      text = await readFile(join(directory, CA_FILE), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      text = await createRoot(directory, trustDomain);
    }
    const file = join(directory, CA_FILE);
    const keyPem = pemBlock(text, "PRIVATE KEY", file);
    const certPem = pemBlock(text, "CERTIFICATE", file);
    const key = await webcrypto.subtle.importKey(
      "pkcs8",
      x509.PemConverter.decodeFirst(keyPem),
      EC,
      false,
      ["sign"],
    );
    const root = new x509.X509Certificate(certPem);
    return new LocalCertificateAuthority(
      key,
      root,
      X509Bundle.fromPem(trustDomain, certPem),
      directory,
    );
  }

  async sign(request: SignRequest): Promise<SignedCertificate> {
    const csr = new x509.Pkcs10CertificateRequest(request.csrPem);
    if (!(await csr.verify()))
      throw new CaError(CaReason.CSR_SIGNATURE, request.spiffeId.toString());
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: csr.subjectName,
      issuer: this.root.subjectName,
      notBefore: request.notBefore,
      notAfter: request.notAfter,
      signingAlgorithm: SIGN,
      publicKey: csr.publicKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        new x509.SubjectAlternativeNameExtension(
          [{ type: "url", value: request.spiffeId.toString() }],
          false,
        ),
        await x509.AuthorityKeyIdentifierExtension.create(this.root, false),
      ],
    });
    return { chainPem: `${cert.toString("pem")}\n` };
  }

  async bundle(): Promise<X509Bundle> {
    return this.rootBundle;
  }
}

/** Creates the CA file unless another process got there first; returns the file's content either way. */
async function createRoot(directory: string, trustDomain: TrustDomain): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const name = `CN=lambda-svid local CA ${trustDomain.name}`;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + ROOT_LIFETIME_MS),
    signingAlgorithm: SIGN,
    keys: keys as unknown as Parameters<
      typeof x509.X509CertificateGenerator.createSelfSigned
    >[0]["keys"],
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      new x509.SubjectAlternativeNameExtension(
        [{ type: "url", value: trustDomain.idString() }],
        false,
      ),
      await x509.SubjectKeyIdentifierExtension.create(
        keys.publicKey as unknown as Parameters<
          typeof x509.SubjectKeyIdentifierExtension.create
        >[0],
      ),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  const text = `${x509.PemConverter.encode(pkcs8, "PRIVATE KEY")}\n${cert.toString("pem")}\n`;
  // Write a private temp file, then link it into place: link fails if the
  // file exists, so concurrent first uses agree on one key and root.
  const temp = join(directory, `${CA_FILE}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  await writeFile(temp, text, { mode: 0o600 });
  try {
    await link(temp, join(directory, CA_FILE));
    await writeFile(join(directory, BUNDLE_FILE), `${cert.toString("pem")}\n`);
    return text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return readFile(join(directory, CA_FILE), "utf8");
  } finally {
    await unlink(temp);
  }
}

function pemBlock(text: string, type: string, path: string): string {
  const match = new RegExp(`-----BEGIN ${type}-----[\\s\\S]*?-----END ${type}-----`).exec(text);
  if (match === null) throw new CaError(CaReason.CA_FILE, `${path}: ${type}`);
  return `${match[0]}\n`;
}

/** A positive 128-bit serial, as CAs use to make serials unguessable. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString("hex");
}
