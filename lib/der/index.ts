/**
 * The few DER (X.690) pieces the project assembles and reads by hand, where a
 * general ASN.1 object model costs ten times the CPU of the work itself: the
 * issuer's CSRs (one per identity per renewal, fleet-wide) and the fleet
 * simulation's certificates. Definite lengths only; no parsing of values.
 *
 * Plumbing that knows no product part: imports nothing of the project.
 *
 * @example
 * const name = tlv(DerTag.SEQUENCE, tlv(DerTag.SET, tlv(DerTag.SEQUENCE, COMMON_NAME_OID, tlv(DerTag.UTF8_STRING, Buffer.from("web")))));
 *
 * @module
 */

/** Universal tags (constructed ones with their constructed bit set). */
export const DerTag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/**
 * One element: `tag`, the definite length of the content, the content.
 *
 * @example
 * tlv(DerTag.OCTET_STRING, Buffer.from([1, 2])); // <04 02 01 02>
 */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = content.length === 1 ? (content[0] as Buffer) : Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

/** The definite-length octets for `length` (short form below 128). */
export function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/**
 * An OBJECT IDENTIFIER element from its dotted form.
 *
 * @example
 * oid("2.5.29.17"); // <06 03 55 1d 11>
 */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) {
    throw new RangeError(`der: not an object identifier: ${JSON.stringify(dotted)}`);
  }
  const bytes: number[] = [];
  const first = (arcs[0] as number) * 40 + (arcs[1] as number);
  for (const arc of [first, ...arcs.slice(2)]) {
    const base128: number[] = [arc % 128];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128))
      base128.unshift((n % 128) | 0x80);
    bytes.push(...base128);
  }
  return tlv(DerTag.OID, Buffer.from(bytes));
}

/** One element of an input: its tag, where it starts (`from`), where its content starts and ends. */
export interface DerElement {
  tag: number;
  from: number;
  start: number;
  end: number;
}

/**
 * Reads the element at `at`.
 *
 * @throws {RangeError} when it runs past the input or its tag is not `tag` (when given).
 * @example
 * const outer = readElement(der, 0, DerTag.SEQUENCE);
 * const first = readElement(der, outer.start);
 */
export function readElement(der: Buffer, at: number, tag?: number): DerElement {
  if (at + 2 > der.length) throw new RangeError("der: element past the end of its input");
  const found = der[at] as number;
  if (tag !== undefined && found !== tag)
    throw new RangeError(`der: tag ${found}, expected ${tag}`);
  let length = der[at + 1] as number;
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4) throw new RangeError("der: unsupported length form");
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[start + i] as number);
    start += bytes;
  }
  const end = start + length;
  if (end > der.length) throw new RangeError("der: element overruns its input");
  return { tag: found, from: at, start, end };
}
