/**
 * A small, strict DER reader: just what reading an X.509 certificate needs.
 * Every read checks its bounds against its container and refuses what DER
 * (X.690 section 10) forbids: indefinite lengths, lengths not in their
 * shortest form, integers with redundant leading bytes, bit strings whose
 * unused bits are out of range or set, data left over in a container. A BER
 * encoding that another parser reads differently never reaches the checks.
 *
 * It reads in place (offsets into one buffer) and names each element by its
 * path (`tbsCertificate.validity.notAfter`) only when it refuses one.
 */
import { DerError, DerReason } from "./errors.ts";

/**
 * The universal tags (identifier octets) X.509 uses.
 *
 * @example
 * reader.next("validity", Tag.SEQUENCE);
 */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OBJECT_IDENTIFIER: 0x06,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/**
 * The identifier octet of a context-specific tag `[n]`: constructed for
 * EXPLICIT tags and IMPLICIT tags of constructed types, primitive otherwise.
 *
 * @example
 * contextTag(3, true); // 0xa3, the extensions of a TBSCertificate
 */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** One element as read: its tag and where its encoding and its contents lie in the buffer. */
export interface DerElement {
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the last content octet. */
  end: number;
}

/** A bit string's contents: `bytes` holds the bits, the last `unusedBits` of its last byte are zero. */
export interface BitString {
  unusedBits: number;
  bytes: Buffer;
}

const SAFE_ARC = 2 ** 45;

/**
 * Reads the elements of one container in order. A reader over a constructed
 * element's contents comes from {@link DerReader.sequence} and friends;
 * {@link DerReader.finish} refuses anything left unread.
 *
 * @example
 * const outer = DerReader.of(der);
 * const cert = outer.sequence("certificate", "");
 * outer.finish("after certificate");
 * const tbs = cert.sequence("tbsCertificate");
 */
export class DerReader {
  private pos: number;

  private constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
    /** Path of this container, prefixed to the names of the elements it refuses. */
    readonly path: string,
  ) {
    this.pos = start;
  }

  /**
   * A reader over all of `buf`; `path` names its elements in errors.
   *
   * @example
   * const cert = DerReader.of(der).sequence("certificate", "");
   */
  static of(buf: Buffer, path = ""): DerReader {
    return new DerReader(buf, 0, buf.length, path);
  }

  /** A reader over the contents of `element`, an element this reader (or its parent) returned. */
  within(element: DerElement, path: string): DerReader {
    return new DerReader(this.buf, element.contentStart, element.end, path);
  }

  /** The whole encoding (tag, length, contents) of `element`, sharing this reader's buffer. */
  encoding(element: DerElement): Buffer {
    return this.buf.subarray(element.start, element.end);
  }

  /** True when every element of the container has been read. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The tag of the next element, `undefined` at the end; to read OPTIONAL and DEFAULT fields. */
  peekTag(): number | undefined {
    return this.pos < this.end ? this.buf[this.pos] : undefined;
  }

  /**
   * Reads the next element; with `tag`, refuses any other tag before reading
   * the length, so a wrong field is reported as such.
   *
   * @throws {DerError}
   */
  next(what: string, tag?: number): DerElement {
    const buf = this.buf;
    const start = this.pos;
    let p = start;
    if (p >= this.end) this.fail(DerReason.TRUNCATED, what);
    const found = buf[p++] as number;
    if ((found & 0x1f) === 0x1f) this.fail(DerReason.HIGH_TAG_NUMBER, what);
    if (tag !== undefined && found !== tag) {
      this.fail(DerReason.UNEXPECTED_TAG, what, `tag 0x${hex(found)}, want 0x${hex(tag)}`);
    }
    if (p >= this.end) this.fail(DerReason.TRUNCATED, what);
    let length = buf[p++] as number;
    if (length === 0x80) this.fail(DerReason.INDEFINITE_LENGTH, what);
    if (length > 0x80) {
      const count = length & 0x7f;
      if (count > 4) this.fail(DerReason.LENGTH_TOO_LARGE, what);
      if (count > this.end - p) this.fail(DerReason.TRUNCATED, what);
      if (buf[p] === 0) this.fail(DerReason.LENGTH_NOT_MINIMAL, what);
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + (buf[p++] as number);
      if (length < 0x80) this.fail(DerReason.LENGTH_NOT_MINIMAL, what);
    }
    if (length > this.end - p) this.fail(DerReason.TRUNCATED, what);
    this.pos = p + length;
    return { tag: found, start, contentStart: p, end: p + length };
  }

  /** The whole encoding (tag, length, contents) of the next element, which must have `tag` if given. */
  raw(what: string, tag?: number): Buffer {
    return this.encoding(this.next(what, tag));
  }

  /** The contents of the next element, which must have `tag`. */
  contents(what: string, tag: number): Buffer {
    const el = this.next(what, tag);
    return this.buf.subarray(el.contentStart, el.end);
  }

  /**
   * A reader over the next element's contents; `tag` defaults to SEQUENCE.
   * The child's path is `path` (default: this path and `what`).
   */
  sequence(what: string, path = this.join(what), tag: number = Tag.SEQUENCE): DerReader {
    return this.within(this.next(what, tag), path);
  }

  /** A reader over an EXPLICIT `[n]` element's contents. */
  explicit(n: number, what: string): DerReader {
    return this.sequence(what, this.join(what), contextTag(n, true));
  }

  /** The contents of an INTEGER (or an IMPLICIT `tag`), refused unless in its shortest form. */
  integer(what: string, tag: number = Tag.INTEGER): Buffer {
    const bytes = this.contents(what, tag);
    const first = bytes[0];
    if (first === undefined) this.fail(DerReason.INTEGER_NOT_MINIMAL, what);
    if (bytes.length > 1) {
      const second = bytes[1] as number;
      if ((first === 0 && second < 0x80) || (first === 0xff && second >= 0x80)) {
        this.fail(DerReason.INTEGER_NOT_MINIMAL, what);
      }
    }
    return bytes;
  }

  /** An INTEGER that must lie in `[min, max]`, both within 32-bit signed range. */
  smallInteger(what: string, min: number, max: number, tag: number = Tag.INTEGER): number {
    const bytes = this.integer(what, tag);
    if (bytes.length > 4) this.fail(DerReason.INTEGER_RANGE, what);
    const value = bytes.readIntBE(0, bytes.length);
    if (value < min || value > max) this.fail(DerReason.INTEGER_RANGE, what);
    return value;
  }

  /** A BOOLEAN: one byte, 0x00 or 0xff (X.690 11.1). */
  boolean(what: string): boolean {
    const bytes = this.contents(what, Tag.BOOLEAN);
    const value = bytes[0];
    if (bytes.length !== 1 || (value !== 0 && value !== 0xff)) this.fail(DerReason.BOOLEAN, what);
    return value === 0xff;
  }

  /**
   * A BIT STRING (or an IMPLICIT `tag`): at most 7 unused bits, none in an
   * empty string, and those bits zero (X.690 11.2.1).
   */
  bitString(what: string, tag: number = Tag.BIT_STRING): BitString {
    const contents = this.contents(what, tag);
    const unusedBits = contents[0];
    if (unusedBits === undefined || unusedBits > 7) this.fail(DerReason.BIT_STRING, what);
    const bytes = contents.subarray(1);
    const last = bytes[bytes.length - 1];
    if (last === undefined ? unusedBits !== 0 : (last & ((1 << unusedBits) - 1)) !== 0) {
      this.fail(DerReason.BIT_STRING, what);
    }
    return { unusedBits, bytes };
  }

  /** An OBJECT IDENTIFIER (or an IMPLICIT `tag`) in dotted form, e.g. `2.5.29.17`. */
  oid(what: string, tag: number = Tag.OBJECT_IDENTIFIER): string {
    const el = this.next(what, tag);
    const text = decodeOid(this.buf, el.contentStart, el.end);
    if (text === undefined) this.fail(DerReason.OBJECT_IDENTIFIER, what);
    return text;
  }

  /**
   * A UTCTime or GeneralizedTime as DER and RFC 5280 4.1.2.5 write them: UTC,
   * seconds present, no fraction; two-digit years below 50 are 20YY.
   */
  time(what: string): Date {
    const tag = this.peekTag();
    const el = this.next(what, tag === Tag.GENERALIZED_TIME ? tag : Tag.UTC_TIME);
    const date = decodeTime(this.buf, el.contentStart, el.end, el.tag === Tag.GENERALIZED_TIME);
    if (date === undefined) this.fail(DerReason.TIME, what);
    return date;
  }

  /** An IA5String under an IMPLICIT `tag` (the names of a GeneralName). */
  ia5String(what: string, tag: number): string {
    const bytes = this.contents(what, tag);
    for (const byte of bytes) if (byte > 0x7f) this.fail(DerReason.IA5_STRING, what);
    return bytes.toString("latin1");
  }

  /** Refuses anything left in the container; `what` names it (default: this path). */
  finish(what = this.path): void {
    if (this.pos < this.end) throw new DerError(DerReason.TRAILING_DATA, what);
  }

  /** This container's path and `what`, as error details name fields: `a.b`, `a[0]`. */
  join(what: string): string {
    if (this.path === "" || what === "") return this.path + what;
    return what.startsWith("[") ? this.path + what : `${this.path}.${what}`;
  }

  /** Refuses the element `what` of this container for `reason`; `extra` says what was found. */
  fail(reason: DerReason, what: string, extra?: string): never {
    const where = this.join(what);
    throw new DerError(reason, extra === undefined ? where : `${where} (${extra})`);
  }
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

/**
 * Dotted text of an OID's contents, `undefined` when malformed: empty, a
 * subidentifier with a redundant leading 0x80 byte, or a last byte that
 * continues. Arcs beyond 2^53 (UUID OIDs under 2.25) are read exactly.
 */
function decodeOid(buf: Buffer, start: number, end: number): string | undefined {
  if (start >= end || ((buf[end - 1] as number) & 0x80) !== 0) return undefined;
  let text = "";
  let p = start;
  while (p < end) {
    if (buf[p] === 0x80) return undefined;
    let value = 0;
    let big: bigint | undefined;
    let byte: number;
    do {
      byte = buf[p++] as number;
      if (big === undefined && value >= SAFE_ARC) big = BigInt(value);
      if (big === undefined) value = value * 128 + (byte & 0x7f);
      else big = big * 128n + BigInt(byte & 0x7f);
    } while (byte & 0x80);
    if (text === "") {
      // The first subidentifier carries two arcs: 40 * first + second (X.690 8.19.4).
      if (big !== undefined) text = `2.${big - 80n}`;
      else if (value < 80) text = `${Math.floor(value / 40)}.${value % 40}`;
      else text = `2.${value - 80}`;
    } else {
      text += `.${big ?? value}`;
    }
  }
  return text;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function decodeTime(
  buf: Buffer,
  start: number,
  end: number,
  generalized: boolean,
): Date | undefined {
  const yearDigits = generalized ? 4 : 2;
  if (end - start !== yearDigits + 11 || buf[end - 1] !== 0x5a /* Z */) return undefined;
  for (let p = start; p < end - 1; p++) {
    const c = buf[p] as number;
    if (c < 0x30 || c > 0x39) return undefined;
  }
  const num = (at: number, digits: number) => {
    let v = 0;
    for (let i = 0; i < digits; i++) v = v * 10 + ((buf[start + at + i] as number) - 0x30);
    return v;
  };
  let year = num(0, yearDigits);
  if (!generalized) year += year < 50 ? 2000 : 1900;
  const at = yearDigits;
  const month = num(at, 2);
  const day = num(at + 2, 2);
  const hour = num(at + 4, 2);
  const minute = num(at + 6, 2);
  const second = num(at + 8, 2);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  if (monthDays === undefined || day < 1 || day > monthDays) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  // Built in a leap year, then moved, so years 0-99 are not read as 19YY.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year);
  return date;
}
