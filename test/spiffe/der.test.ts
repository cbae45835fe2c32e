/**
 * The SPIFFE library's own certificate reader: malformed DER refused with
 * exact messages, and on random mutations of real certificates either a typed
 * refusal or agreement with Node's X509Certificate (OpenSSL); what the reader
 * takes and OpenSSL refuses, verification refuses.
 */
import { type KeyObject, X509Certificate } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { DerError, DerReason } from "../../layers/spiffe/errors.ts";
import {
  BundleError,
  BundleReason,
  ParsedCertificate,
  parseCertificateChain,
  SvidError,
  SvidReason,
  verifyX509Svid,
  X509Bundle,
} from "../../layers/spiffe/index.ts";
import { type KeySpec, TestCa } from "../support/ca.ts";
import { thrown } from "../support/thrown.ts";

// The test's own DER surgery, for well-formed input only, independent of the reader under test.

/** Tag and length octets, the length in its shortest form. */
function header(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, contents: Buffer): Buffer {
  return Buffer.concat([header(tag, contents.length), contents]);
}

/** Where an element's contents start, from its length octets. */
function contentStart(el: Buffer): number {
  const first = el[1] as number;
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}

function contents(el: Buffer): Buffer {
  return el.subarray(contentStart(el));
}

/** The encodings of the elements in a constructed element's contents. */
function children(el: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const body = contents(el);
  for (let p = 0; p < body.length; ) {
    const rest = body.subarray(p);
    const start = contentStart(rest);
    const first = rest[1] as number;
    const length = first < 0x80 ? first : rest.readUIntBE(2, first & 0x7f);
    out.push(rest.subarray(0, start + length));
    p += start + length;
  }
  return out;
}

/**
 * Replaces the element at `path` (child indexes from the certificate) with
 * what `replace` makes of it, re-encoding the lengths of its parents.
 */
function edit(el: Buffer, path: number[], replace: (old: Buffer) => Buffer): Buffer {
  const [index, ...rest] = path;
  if (index === undefined) return replace(el);
  const parts = children(el);
  parts[index] = edit(parts[index] as Buffer, rest, replace);
  return tlv(el[0] as number, Buffer.concat(parts));
}

const hex = (text: string) => Buffer.from(text.replace(/ /g, ""), "hex");

// Paths into a TestCa leaf: tbsCertificate's fields, then its extensions in the
// order TestCa writes them (basicConstraints, keyUsage, extKeyUsage, subjectAltName).
const TBS = 0;
const SERIAL = [TBS, 1];
const SIGNATURE = [TBS, 2];
const VALIDITY = [TBS, 4];
const VERSION = [TBS, 0, 0];
const EXTENSION = (i: number) => [TBS, 7, 0, i];
const EXTN_VALUE = (i: number, hasCritical: boolean) => [...EXTENSION(i), hasCritical ? 2 : 1];

let root: TestCa;
let leafDer: Buffer;

beforeAll(async () => {
  root = await TestCa.root("example.org");
  leafDer = Buffer.from((await root.leaf("/web")).cert.rawData);
});

const PARSE_FAILED = `${SvidReason.MALFORMED_CERTIFICATE}: certificate 0`;

/** Each row: how a valid leaf is broken, and the reader's refusal (reason and detail). */
const malformed: Array<{ name: string; make: (der: Buffer) => Buffer; error: string }> = [
  {
    name: "truncated: the certificate ends early",
    make: (der) => der.subarray(0, der.length - 1),
    error: `${DerReason.TRUNCATED}: certificate`,
  },
  {
    name: "truncated: a length that runs past its container",
    make: (der) => edit(der, SERIAL, (old) => Buffer.concat([hex("02 82 10 00"), contents(old)])),
    error: `${DerReason.TRUNCATED}: tbsCertificate.serialNumber`,
  },
  {
    name: "a long-form length for a short value",
    make: (der) => edit(der, SERIAL, (old) => Buffer.concat([hex("02 81"), old.subarray(1)])),
    error: `${DerReason.LENGTH_NOT_MINIMAL}: tbsCertificate.serialNumber`,
  },
  {
    name: "a long-form length with a leading zero byte",
    make: (der) => edit(der, SERIAL, (old) => Buffer.concat([hex("02 82 00"), old.subarray(1)])),
    error: `${DerReason.LENGTH_NOT_MINIMAL}: tbsCertificate.serialNumber`,
  },
  {
    name: "a length of more than 4 bytes",
    make: (der) =>
      edit(der, SERIAL, (old) => Buffer.concat([hex("02 85 00 00 00 00"), old.subarray(1)])),
    error: `${DerReason.LENGTH_TOO_LARGE}: tbsCertificate.serialNumber`,
  },
  {
    name: "an indefinite length",
    make: (der) =>
      edit(der, VALIDITY, (old) => Buffer.concat([hex("30 80"), contents(old), hex("00 00")])),
    error: `${DerReason.INDEFINITE_LENGTH}: tbsCertificate.validity`,
  },
  {
    name: "trailing bytes after the certificate",
    make: (der) => Buffer.concat([der, hex("00 00")]),
    error: `${DerReason.TRAILING_DATA}: after certificate`,
  },
  {
    name: "trailing bytes inside a field",
    make: (der) =>
      edit(der, VALIDITY, (old) =>
        tlv(0x30, Buffer.concat([contents(old), children(old)[1] as Buffer])),
      ),
    error: `${DerReason.TRAILING_DATA}: tbsCertificate.validity`,
  },
  {
    name: "trailing bytes inside an extension's value",
    make: (der) =>
      edit(der, EXTN_VALUE(1, true), (old) => tlv(0x04, Buffer.concat([contents(old), hex("00")]))),
    error: `${DerReason.TRAILING_DATA}: keyUsage`,
  },
  {
    name: "a wrong tag: the serial number as an OCTET STRING",
    make: (der) => edit(der, SERIAL, (old) => Buffer.concat([hex("04"), old.subarray(1)])),
    error: `${DerReason.UNEXPECTED_TAG}: tbsCertificate.serialNumber (tag 0x04, want 0x02)`,
  },
  {
    name: "a wrong tag: a GeneralName choice that does not exist",
    make: (der) =>
      edit(der, [...EXTN_VALUE(3, false), 0, 0], (old) =>
        Buffer.concat([hex("89"), old.subarray(1)]),
      ),
    error: `${DerReason.UNEXPECTED_TAG}: subjectAltName[0] (tag 0x89)`,
  },
  {
    // Found by the mutation property: OpenSSL cannot decode such a SAN, so it sees no names in it.
    name: "a GeneralName whose otherName contents are not an otherName",
    make: (der) =>
      edit(der, [...EXTN_VALUE(3, false), 0, 0], (old) =>
        Buffer.concat([hex("a0"), old.subarray(1)]),
      ),
    error: `${DerReason.UNEXPECTED_TAG}: subjectAltName[0].type-id (tag 0x73, want 0x06)`,
  },
  {
    name: "a tag number of 31 or more",
    make: (der) => edit(der, SERIAL, (old) => Buffer.concat([hex("1f"), old.subarray(1)])),
    error: `${DerReason.HIGH_TAG_NUMBER}: tbsCertificate.serialNumber`,
  },
  {
    name: "a negative serial number",
    make: (der) => edit(der, SERIAL, () => hex("02 01 ff")),
    error: `${DerReason.NEGATIVE_SERIAL}: tbsCertificate.serialNumber`,
  },
  {
    name: "a serial number with a redundant leading zero",
    make: (der) => edit(der, SERIAL, (old) => tlv(0x02, Buffer.concat([hex("00"), contents(old)]))),
    error: `${DerReason.INTEGER_NOT_MINIMAL}: tbsCertificate.serialNumber`,
  },
  {
    name: "a serial number with a redundant leading 0xff",
    make: (der) => edit(der, SERIAL, () => hex("02 02 ff 80")),
    error: `${DerReason.INTEGER_NOT_MINIMAL}: tbsCertificate.serialNumber`,
  },
  {
    name: "an empty serial number",
    make: (der) => edit(der, SERIAL, () => hex("02 00")),
    error: `${DerReason.INTEGER_NOT_MINIMAL}: tbsCertificate.serialNumber`,
  },
  {
    name: "a signature BIT STRING with 8 unused bits",
    make: (der) =>
      edit(der, [2], (old) => tlv(0x03, Buffer.concat([hex("08"), contents(old).subarray(1)]))),
    error: `${DerReason.BIT_STRING}: signatureValue`,
  },
  {
    name: "a signature BIT STRING with unused bits, all zero",
    make: (der) =>
      edit(der, [2], (old) =>
        tlv(0x03, Buffer.concat([hex("01"), contents(old).subarray(1, -1), hex("00")])),
      ),
    error: `${DerReason.BIT_STRING}: signatureValue`,
  },
  {
    name: "key usage with a padding bit set",
    make: (der) => edit(der, EXTN_VALUE(1, true), () => tlv(0x04, hex("03 02 07 81"))),
    error: `${DerReason.BIT_STRING}: keyUsage`,
  },
  {
    name: "a BOOLEAN that is neither 0x00 nor 0xff",
    make: (der) => edit(der, [...EXTENSION(0), 1], () => hex("01 01 01")),
    error: `${DerReason.BOOLEAN}: tbsCertificate.extensions[0].critical`,
  },
  {
    name: "an object identifier with a redundant 0x80 byte",
    make: (der) => edit(der, [...EXTENSION(0), 0], () => hex("06 04 55 1d 80 13")),
    error: `${DerReason.OBJECT_IDENTIFIER}: tbsCertificate.extensions[0].extnID`,
  },
  {
    name: "a notBefore in month 13",
    make: (der) => edit(der, [...VALIDITY, 0], () => tlv(0x17, Buffer.from("261324000000Z"))),
    error: `${DerReason.TIME}: tbsCertificate.validity.notBefore`,
  },
  {
    name: "a notAfter with fractional seconds",
    make: (der) => edit(der, [...VALIDITY, 1], () => tlv(0x18, Buffer.from("20301124000000.5Z"))),
    error: `${DerReason.TIME}: tbsCertificate.validity.notAfter`,
  },
  {
    name: "a notAfter with a time zone offset",
    make: (der) => edit(der, [...VALIDITY, 1], () => tlv(0x17, Buffer.from("3011240000+0100"))),
    error: `${DerReason.TIME}: tbsCertificate.validity.notAfter`,
  },
  {
    name: "version 4",
    make: (der) => edit(der, VERSION, () => hex("02 01 03")),
    error: `${DerReason.VERSION}: tbsCertificate.version`,
  },
  {
    name: "extensions in a v1 certificate",
    make: (der) => edit(der, [TBS], (old) => tlv(0x30, Buffer.concat(children(old).slice(1)))),
    error: `${DerReason.VERSION}: tbsCertificate.extensions`,
  },
  {
    name: "tbsCertificate.signature that differs from signatureAlgorithm",
    // ecdsa-with-SHA384 inside, ecdsa-with-SHA256 outside.
    make: (der) => edit(der, SIGNATURE, () => hex("30 0a 06 08 2a 86 48 ce 3d 04 03 03")),
    error: `${DerReason.SIGNATURE_ALGORITHM_MISMATCH}: signatureAlgorithm`,
  },
  {
    name: "a URI SAN with a byte above 0x7f",
    make: (der) =>
      edit(der, [...EXTN_VALUE(3, false), 0, 0], (old) =>
        tlv(0x86, Buffer.concat([contents(old), hex("c3 a9")])),
      ),
    error: `${DerReason.IA5_STRING}: subjectAltName[0]`,
  },
  {
    name: "a negative pathLenConstraint",
    make: (der) => edit(der, EXTN_VALUE(0, true), () => tlv(0x04, hex("30 06 01 01 ff 02 01 ff"))),
    error: `${DerReason.INTEGER_RANGE}: basicConstraints.pathLenConstraint`,
  },
];

describe("malformed DER is refused with the reader's reason and the field", () => {
  it("the table's certificate is well formed before it is broken", () => {
    expect(edit(leafDer, SERIAL, (old) => old).equals(leafDer)).toBe(true);
    expect(parseCertificateChain([leafDer])[0]?.uriSans).toEqual(["spiffe://example.org/web"]);
  });

  it.each(malformed)("$name", ({ make, error }) => {
    const err = thrown(() => parseCertificateChain([make(leafDer)]), SvidError);
    expect(err.reason).toBe(SvidReason.MALFORMED_CERTIFICATE);
    expect(err.message).toBe(`${PARSE_FAILED}: ${error}`);
    expect(err.cause).toBeInstanceOf(DerError);
    expect((err.cause as DerError).message).toBe(error);
  });

  it("a bundle refuses the same DER with its own reason", () => {
    const der = edit(leafDer, SERIAL, () => hex("02 01 ff"));
    const pem = `-----BEGIN CERTIFICATE-----\n${der.toString("base64")}\n-----END CERTIFICATE-----\n`;
    const err = thrown(() => X509Bundle.fromPem("example.org", pem), BundleError);
    expect(err.message).toBe(
      `${BundleReason.MALFORMED_CERTIFICATE}: block 0: ${DerReason.NEGATIVE_SERIAL}: tbsCertificate.serialNumber`,
    );
  });

  it.each([
    ["00", "0"],
    ["7f", "7F"],
    ["00 80", "80"],
    ["01 00", "0100"],
    [
      "00 ff ee dd cc bb aa 99 88 77 66 55 44 33 22 11 00 fe dc ba 98",
      "FFEEDDCCBBAA99887766554433221100FEDCBA98",
    ],
  ])("reads serial number %s as Node prints it, %s", (contents, printed) => {
    const der = edit(leafDer, SERIAL, () => tlv(0x02, hex(contents)));
    const cert = new ParsedCertificate(der);
    expect(cert.serialNumber).toBe(printed);
    expect(cert.serialNumber).toBe(new X509Certificate(der).serialNumber);
  });

  it("reads what DER allows and Go's parser takes: an explicit FALSE, OID arcs beyond 2^53", () => {
    const uuidArc = "2.25.329800735698586629295641978511506172918";
    const der = edit(leafDer, [TBS], (tbs) => {
      const fields = children(tbs);
      const extensions = children(children(fields[7] as Buffer)[0] as Buffer);
      // extKeyUsage with critical FALSE written out, and an unknown critical extension under a UUID OID.
      const [ekuId, ekuValue] = children(extensions[2] as Buffer) as [Buffer, Buffer];
      extensions[2] = tlv(0x30, Buffer.concat([ekuId, hex("01 01 00"), ekuValue]));
      const uuidOid = hex("06 14 69 83 f0 9d a7 eb cf de e0 c7 a1 a7 b2 c0 94 8c c8 f9 d7 76");
      extensions.push(tlv(0x30, Buffer.concat([uuidOid, hex("01 01 ff 04 02 05 00")])));
      fields[7] = tlv(0xa3, tlv(0x30, Buffer.concat(extensions)));
      return tlv(0x30, Buffer.concat(fields));
    });
    const cert = new ParsedCertificate(der);
    expect(cert.extKeyUsage).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    expect(cert.unhandledCriticalExtensions).toEqual([uuidArc]);
  });
});

describe("parsed CA certificates are kept between chains", () => {
  it("the same CA DER gives the same frozen instance; a leaf is parsed anew", () => {
    const caDer = Buffer.from(root.root.cert.rawData);
    const [leaf, ca] = parseCertificateChain([leafDer, caDer]) as [
      ParsedCertificate,
      ParsedCertificate,
    ];
    const [leafAgain, caAgain] = parseCertificateChain([leafDer, caDer]);
    expect(caAgain).toBe(ca);
    expect(leafAgain).not.toBe(leaf);
    expect(ca.uriSans).toEqual(["spiffe://example.org"]);
    expect(Object.isFrozen(ca.uriSans)).toBe(true);
    expect(Object.isFrozen(ca.basicConstraints)).toBe(true);
    expect(() => ca.uriSans.push("spiffe://example.org/admin")).toThrow(TypeError);
  });

  it("a kept certificate whose buffer was written to is not handed out again", () => {
    const caDer = Buffer.from(root.root.cert.rawData);
    const [ca] = parseCertificateChain([caDer]);
    const der = (ca as ParsedCertificate).der;
    const at = der.length - 1;
    der[at] = (der[at] as number) ^ 1;
    const [again] = parseCertificateChain([caDer]);
    expect(again).not.toBe(ca);
    expect(again?.der.equals(caDer)).toBe(true);
  });
});

/** Node's subjectAltName text (`URI:a, DNS:"b,c"`): URI and DNS names, JSON-quoted ones unquoted. */
function nodeSans(text: string | undefined): { uris: string[]; dns: string[] } {
  const out = { uris: [] as string[], dns: [] as string[] };
  for (let i = 0; text !== undefined && i < text.length; ) {
    const colon = text.indexOf(":", i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    let value: string;
    let next: number;
    if (text[colon + 1] === '"') {
      let j = colon + 2;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      value = JSON.parse(text.slice(colon + 1, j + 1)) as string;
      next = j + 1;
    } else {
      const end = text.indexOf(", ", colon);
      next = end < 0 ? text.length : end;
      value = text.slice(colon + 1, next);
    }
    if (type === "URI") out.uris.push(value);
    if (type === "DNS") out.dns.push(value);
    i = text.startsWith(", ", next) ? next + 2 : next;
  }
  return out;
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(der: Buffer, steps: Mutation[]): Buffer {
  let out = Buffer.from(der);
  for (const step of steps) {
    const at = step.at % out.length;
    if (step.kind === "set") out[at] = step.byte;
    else if (step.kind === "flip") out[at] = (out[at] as number) ^ (1 << step.bit);
    else if (step.kind === "insert") {
      out = Buffer.concat([out.subarray(0, at), Buffer.from([step.byte]), out.subarray(at)]);
    } else if (step.kind === "delete")
      out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
    else out = out.subarray(0, at);
    if (out.length === 0) break;
  }
  return out;
}

/** A refusal is typed: the reader's DerError, OpenSSL's own refusal, or a repeated extension. */
function expectTypedRefusal(err: unknown): void {
  expect(err).toBeInstanceOf(SvidError);
  expect((err as SvidError).reason).toBe(SvidReason.MALFORMED_CERTIFICATE);
  const cause = (err as SvidError).cause as Error & { code?: string };
  const known =
    cause instanceof DerError ||
    cause.code?.startsWith("ERR_OSSL") === true ||
    /^extension [\d.]+ appears more than once$/.test(cause.message);
  expect(known, `${cause.name}: ${cause.message}`).toBe(true);
}

/** The key OpenSSL decodes, or `undefined` when it cannot decode it. */
function decoded(key: () => KeyObject): KeyObject | undefined {
  try {
    return key();
  } catch {
    return undefined;
  }
}

describe("random mutations of a valid certificate: refused with a typed error, read as OpenSSL reads them, or refused by verification when OpenSSL cannot read them", () => {
  const fixtures: Array<{ name: string; key: KeySpec; runs: number }> = [
    { name: "P-256 (ECDSA)", key: "P-256", runs: 3000 },
    { name: "RSA 2048 (PKCS#1 v1.5)", key: { rsa: 2048 }, runs: 800 },
    { name: "Ed25519", key: "Ed25519", runs: 800 },
  ];

  it.each(fixtures)("$name", { timeout: 60_000 }, async ({ key, runs }) => {
    const ca = await TestCa.root("example.org", { key });
    const leaf = await ca.leaf("/web", { key, dns: ["web.internal"] });
    const der = Buffer.from(leaf.cert.rawData);
    const issuer = new ParsedCertificate(Buffer.from(ca.root.cert.rawData));
    const issuerKey = issuer.x509.publicKey;
    const bundle = X509Bundle.fromCertificates(ca.trustDomain, [issuer]);
    expect(new ParsedCertificate(der).isIssuedBy(issuer)).toBe(true);
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (steps) => {
        const bytes = mutate(der, steps);
        let cert: ParsedCertificate;
        try {
          cert = parseCertificateChain([bytes])[0] as ParsedCertificate;
        } catch (err) {
          expectTypedRefusal(err);
          return;
        }
        accepted++;
        let node: X509Certificate;
        try {
          node = new X509Certificate(bytes);
        } catch {
          // Fields the reader keeps as DER (a name's values, an algorithm's
          // parameters) that OpenSSL decodes and refuses: verification asks OpenSSL.
          const err = thrown(() => verifyX509Svid([cert], bundle), SvidError);
          expectTypedRefusal(err);
          expect(err.message).toMatch(/^x509svid: certificate cannot be parsed: certificate 0: /);
          return;
        }
        expect(cert.serialNumber).toBe(node.serialNumber);
        expect(cert.notBefore.getTime()).toBe(new Date(node.validFrom).getTime());
        expect(cert.notAfter.getTime()).toBe(new Date(node.validTo).getTime());
        expect({ uris: cert.uriSans, dns: cert.dnsSans }).toEqual(nodeSans(node.subjectAltName));
        expect(cert.isIssuedBy(issuer)).toBe(node.verify(issuerKey));
        // The reader's SubjectPublicKeyInfo bytes are the key OpenSSL finds in the certificate.
        const ours = decoded(() => cert.publicKey);
        const theirs = decoded(() => node.publicKey);
        expect(ours === undefined).toBe(theirs === undefined);
        if (ours !== undefined && theirs !== undefined) expect(ours.equals(theirs)).toBe(true);
      }),
      { numRuns: runs },
    );
    // Mutations of the key and signature bytes keep the DER well formed: both outcomes are exercised.
    expect(accepted).toBeGreaterThan(runs / 20);
  });
});
