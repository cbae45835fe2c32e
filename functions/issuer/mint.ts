import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import type { SpiffeId } from "../../layers/spiffe/index.ts";
import { DerTag, oid, tlv } from "../../lib/der/index.ts";
import type { KeyAlgorithm } from "./config.ts";

const COMMON_NAME = oid("2.5.4.3");
/** PKCS #9 extensionRequest. */
const EXTENSION_REQUEST = oid("1.2.840.113549.1.9.14");
const SUBJECT_ALT_NAME = oid("2.5.29.17");
/** INTEGER 0: PKCS #10 version 1. */
const VERSION_1 = tlv(DerTag.INTEGER, Buffer.from([0]));
/** GeneralName [6] IMPLICIT IA5String: uniformResourceIdentifier. */
const URI_NAME = 0x86;
/** [0] IMPLICIT SET OF Attribute. */
const ATTRIBUTES = 0xa0;

/** Key generation and the CSR's signature AlgorithmIdentifier (DER) per key algorithm. */
const ALGORITHMS: Record<
  KeyAlgorithm,
  { generate: () => { privateKey: KeyObject; publicKey: KeyObject }; signature: Buffer }
> = {
  EC_P256: {
    generate: () => generateKeyPairSync("ec", { namedCurve: "P-256" }),
    // ecdsa-with-SHA256, parameters absent (RFC 5758).
    signature: tlv(DerTag.SEQUENCE, oid("1.2.840.10045.4.3.2")),
  },
  RSA_2048: {
    generate: () => generateKeyPairSync("rsa", { modulusLength: 2048 }),
    // sha256WithRSAEncryption, parameters NULL (RFC 4055).
    signature: tlv(DerTag.SEQUENCE, oid("1.2.840.113549.1.1.11"), tlv(DerTag.NULL)),
  },
};

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
 * URI SAN. The CSR is assembled from DER pieces and signed with Node's
 * synchronous crypto, which costs a tenth of an ASN.1 object model's time;
 * this runs once per identity per renewal across the whole fleet.
 *
 * @example
 * const req = mintRequest(parseSpiffeId("spiffe://example.org/prod/web"), "EC_P256");
 */
export function mintRequest(id: SpiffeId, algorithm: KeyAlgorithm): MintedRequest {
  const { generate, signature } = ALGORITHMS[algorithm];
  const { privateKey, publicKey } = generate();
  const spkiDer = publicKey.export({ type: "spki", format: "der" });

  const san = tlv(DerTag.SEQUENCE, tlv(URI_NAME, Buffer.from(id.toString(), "latin1")));
  const extensions = tlv(
    DerTag.SEQUENCE,
    tlv(DerTag.SEQUENCE, SUBJECT_ALT_NAME, tlv(DerTag.OCTET_STRING, san)),
  );
  const subject = tlv(
    DerTag.SEQUENCE,
    tlv(
      DerTag.SET,
      tlv(
        DerTag.SEQUENCE,
        COMMON_NAME,
        tlv(DerTag.UTF8_STRING, Buffer.from(commonName(id), "utf8")),
      ),
    ),
  );
  const info = tlv(
    DerTag.SEQUENCE,
    VERSION_1,
    subject,
    spkiDer,
    tlv(ATTRIBUTES, tlv(DerTag.SEQUENCE, EXTENSION_REQUEST, tlv(DerTag.SET, extensions))),
  );
  const signed = sign("sha256", info, { key: privateKey, dsaEncoding: "der" });
  const der = tlv(
    DerTag.SEQUENCE,
    info,
    signature,
    tlv(DerTag.BIT_STRING, Buffer.from([0]), signed),
  );
  const body =
    der
      .toString("base64")
      .match(/.{1,64}/g)
      ?.join("\n") ?? "";
  return {
    privateKey,
    spkiDer,
    csrPem: `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`,
  };
}

/** RFC 5280 caps a common name at 64 characters. */
function commonName(id: SpiffeId): string {
  const name = id.path.slice(1) || id.trustDomain.name;
  return name.length <= 64 ? name : name.slice(name.length - 64);
}
