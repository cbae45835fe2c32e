import "reflect-metadata";
import { createPrivateKey, type KeyObject, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import type { SpiffeId } from "../../layers/spiffe/index.ts";
import type { KeyAlgorithm } from "./config.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHMS = {
  EC_P256: {
    generate: { name: "ECDSA", namedCurve: "P-256" },
    sign: { name: "ECDSA", hash: "SHA-256" },
  },
  RSA_2048: {
    generate: {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    sign: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  },
} as const;

/** A freshly minted key pair and the CSR that asks for one SPIFFE ID. Holds a private key: never log it. */
export interface MintedRequest {
  privateKey: KeyObject;
  /** DER SubjectPublicKeyInfo, to compare with the issued certificate's key. */
  spkiDer: Buffer;
  csrPem: string;
}

/**
 * Mints a key pair and a PKCS#10 CSR whose only URI SAN is `id`. The subject
 * is a readable common name derived from the ID's path; the identity is the
 * URI SAN.
 *
 * @example
 * const req = await mintRequest(parseSpiffeId("spiffe://example.org/prod/web"), "EC_P256");
 */
export async function mintRequest(id: SpiffeId, algorithm: KeyAlgorithm): Promise<MintedRequest> {
  const alg = ALGORITHMS[algorithm];
  const keys = (await webcrypto.subtle.generateKey(alg.generate, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [commonName(id)] }],
    keys: keys as unknown as Parameters<
      typeof x509.Pkcs10CertificateRequestGenerator.create
    >[0]["keys"],
    signingAlgorithm: alg.sign,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: id.toString() }], false),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const spki = Buffer.from(await webcrypto.subtle.exportKey("spki", keys.publicKey));
  return {
    privateKey: createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }),
    spkiDer: spki,
    csrPem: csr.toString("pem"),
  };
}

/** RFC 5280 caps a common name at 64 characters. */
function commonName(id: SpiffeId): string {
  const name = id.path.slice(1) || id.trustDomain.name;
  return name.length <= 64 ? name : name.slice(name.length - 64);
}
