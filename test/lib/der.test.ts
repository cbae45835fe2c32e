import { describe, expect, it } from "vitest";
import { DerTag, derLength, oid, readElement, tlv } from "../../lib/der/index.ts";

describe("der", () => {
  it.each([
    ["2.5.29.17", "0603551d11"],
    ["1.2.840.113549.1.9.14", "06092a864886f70d01090e"],
    ["1.2.840.10045.4.3.2", "06082a8648ce3d040302"],
  ])("encodes the object identifier %s", (dotted, hex) => {
    expect(oid(dotted).toString("hex")).toBe(hex);
  });

  it("refuses what is not an object identifier, naming it", () => {
    expect(() => oid("2")).toThrow('der: not an object identifier: "2"');
    expect(() => oid("1.x")).toThrow('der: not an object identifier: "1.x"');
  });

  it.each([
    [0, "00"],
    [127, "7f"],
    [128, "8180"],
    [300, "82012c"],
  ])("writes the length %i in its shortest definite form", (length, hex) => {
    expect(derLength(length).toString("hex")).toBe(hex);
  });

  it("reads back what it writes, and refuses elements that overrun their input or have another tag", () => {
    const inner = tlv(DerTag.OCTET_STRING, Buffer.alloc(200, 1));
    const outer = tlv(DerTag.SEQUENCE, inner);
    const e = readElement(outer, 0, DerTag.SEQUENCE);
    expect(e.end).toBe(outer.length);
    const i = readElement(outer, e.start, DerTag.OCTET_STRING);
    expect(i.end - i.start).toBe(200);
    expect(() => readElement(outer.subarray(0, 50), 0)).toThrow("der: element overruns its input");
    expect(() => readElement(outer, 0, DerTag.SET)).toThrow("der: tag 48, expected 49");
  });
});
