import { describe, expect, it } from "vitest";
import {
  Catalogue,
  ConfigError,
  ConfigSchemaError,
  ConfigSchemaReason,
  defaultText,
  expectedText,
  renderReference,
  variable,
} from "../../lib/config/index.ts";
import { thrown } from "../support/thrown.ts";

const PORT = variable({
  name: "PORT",
  kind: "integer",
  default: 2777,
  min: 0,
  max: 65_535,
  description: "port",
});
const TOKEN = variable({
  name: "TOKEN",
  kind: "required",
  expected: "the shared token",
  pattern: { test: /^[a-z]{4,}$/, expected: "4 or more letters a-z" },
  secret: true,
  description: "a secret",
});
const NAME = variable({
  name: "NAME",
  kind: "string",
  default: "svid",
  pattern: { test: /^[a-z/]+$/, expected: "letters and /" },
  description: "a name | with a pipe",
});
const TABLE = variable({
  name: "TABLE",
  kind: "string",
  whenUnset: "direct",
  description: "optional",
});
const VALIDITY = variable({
  name: "VALIDITY",
  kind: "duration",
  default: 86_400_000,
  min: 60_000,
  max: 7 * 86_400_000,
  expected: "a duration from 1m to 7d",
  description: "validity",
});
const RENEW = variable({
  name: "RENEW",
  kind: "duration",
  default: { derived: "a third of `VALIDITY`" },
  min: 0,
  max: { derived: "less than `VALIDITY`" },
  expected: "a duration shorter than VALIDITY",
  description: "renew",
});
const FORMAT = variable({
  name: "FORMAT",
  kind: "oneOf",
  allowed: ["string", "binary"],
  default: "string",
  description: "format",
});
const RATE = variable({
  name: "RATE",
  kind: "number",
  default: 20,
  min: 0.1,
  max: 25,
  description: "rate",
});
const CHECK = variable({ name: "CHECK", kind: "boolean", default: true, description: "check" });

const PART = new Catalogue("part", "A part", [
  PORT,
  TOKEN,
  NAME,
  TABLE,
  VALIDITY,
  RENEW,
  FORMAT,
  RATE,
  CHECK,
]);

describe("a catalogue's reader", () => {
  it("reads each kind by its declaration, with the declared defaults", () => {
    const r = PART.reader({ TOKEN: "abcd" });
    expect(r.read("PORT")).toBe(2777);
    expect(r.read("TOKEN")).toBe("abcd");
    expect(r.read("NAME")).toBe("svid");
    expect(r.read("TABLE")).toBeUndefined();
    expect(r.read("VALIDITY")).toBe(86_400_000);
    expect(r.read("RENEW", { fallback: 8, max: 10 })).toBe(8);
    expect(r.read("FORMAT")).toBe("string");
    expect(r.read("RATE")).toBe(20);
    expect(r.read("CHECK")).toBe(true);
  });

  it("reads set values, a derived bound from the call", () => {
    const r = PART.reader({ TABLE: " t ", RENEW: "3h", FORMAT: "binary", CHECK: "false" });
    expect(r.read("TABLE")).toBe("t");
    expect(r.read("RENEW", { fallback: 1, max: 4 * 3_600_000 })).toBe(3 * 3_600_000);
    expect(
      thrown(() => r.read("RENEW", { fallback: 1, max: 3_600_000 }), ConfigError).message,
    ).toBe('config: RENEW is "3h"; expected a duration shorter than VALIDITY');
    expect(r.read("FORMAT")).toBe("binary");
    expect(r.read("CHECK")).toBe(false);
  });

  it("refuses a value outside its pattern, without echoing a secret one", () => {
    expect(thrown(() => PART.reader({ NAME: "A B" }).read("NAME"), ConfigError).message).toBe(
      'config: NAME is "A B"; expected letters and /',
    );
    expect(thrown(() => PART.reader({ TOKEN: "hunter2" }).read("TOKEN"), ConfigError).message).toBe(
      "config: TOKEN is invalid; expected 4 or more letters a-z",
    );
    expect(thrown(() => PART.reader({}).read("TOKEN"), ConfigError).message).toBe(
      'config: TOKEN is ""; expected the shared token',
    );
  });

  it("makes refusals with the declared expectation, or the one given", () => {
    const r = PART.reader({});
    expect(r.refuse("NAME", "x").message).toBe('config: NAME is "x"; expected letters and /');
    expect(r.refuse("PORT", "x", "a free port").message).toBe(
      'config: PORT is "x"; expected a free port',
    );
    expect(r.refuse("TOKEN", "hunter2").message).toBe(
      "config: TOKEN is invalid; expected 4 or more letters a-z",
    );
  });

  it("refuses a name its catalogue does not declare", () => {
    const r = PART.reader({ OTHER: "1" });
    const read = r.read as (name: string) => unknown;
    const err = thrown(() => read.call(r, "OTHER"), ConfigSchemaError);
    expect(err.reason).toBe(ConfigSchemaReason.UNDECLARED);
    expect(err.message).toBe("config: variable not declared in the catalogue: part: OTHER");
    expect(thrown(() => r.refuse("OTHER" as "PORT", "1"), ConfigSchemaError).reason).toBe(
      ConfigSchemaReason.UNDECLARED,
    );
  });

  it("requires derived values from the call, and only those", () => {
    const r = PART.reader({});
    expect(thrown(() => r.read("RENEW", { max: 5 }), ConfigSchemaError).reason).toBe(
      ConfigSchemaReason.DERIVED_MISSING,
    );
    expect(thrown(() => r.read("PORT", { fallback: 1 }), ConfigSchemaError).reason).toBe(
      ConfigSchemaReason.NOT_DERIVED,
    );
  });

  it("refuses a catalogue that declares a name twice", () => {
    expect(
      thrown(() => new Catalogue("p", "P", [PORT, { ...PORT }]), ConfigSchemaError).reason,
    ).toBe(ConfigSchemaReason.DUPLICATE);
  });
});

describe("the reference", () => {
  it("states defaults and accepted values from the declarations", () => {
    expect(
      [PORT, TOKEN, NAME, TABLE, VALIDITY, RENEW, FORMAT, RATE, CHECK].map(defaultText),
    ).toEqual([
      "2777",
      "required",
      "svid",
      "unset: direct",
      "1d",
      "a third of `VALIDITY`",
      "string",
      "20",
      "true",
    ]);
    expect([PORT, TOKEN, FORMAT, RATE, CHECK, VALIDITY].map(expectedText)).toEqual([
      "an integer from 0 to 65535",
      "4 or more letters a-z",
      "one of string, binary",
      "a number from 0.1 to 25",
      "true or false",
      "a duration from 1m to 7d",
    ]);
  });

  it("lists each variable once: a part's own under it, one shared by several parts under shared", () => {
    const other = new Catalogue("other", "Another part", [NAME, CHECK]);
    const text = renderReference(
      [new Catalogue("part", "A part", [PORT, NAME, RENEW]), other],
      "npm run x",
    );
    expect(text).toContain("by `npm run x`; do not edit.");
    expect(text.match(/\| `NAME` \|/g)).toHaveLength(1);
    expect(text).toContain(
      "| `NAME` | string | `svid` | letters and / | a name \\| with a pipe | part, other |",
    );
    expect(text).toContain("| `PORT` | integer | `2777` | 0 to 65535 | port |");
    expect(text).toContain(
      "| `RENEW` | duration | a third of `VALIDITY` | 0s to less than `VALIDITY` | renew |",
    );
    expect(text).toContain("| `CHECK` | boolean | `true` | true or false | check |");
    expect(text).toContain("Also reads the [shared](#shared) `NAME`.");
  });

  it("refuses two parts declaring one name differently", () => {
    const err = thrown(
      () =>
        renderReference(
          [new Catalogue("a", "A", [PORT]), new Catalogue("b", "B", [{ ...PORT, default: 1 }])],
          "x",
        ),
      ConfigSchemaError,
    );
    expect(err.reason).toBe(ConfigSchemaReason.CONFLICT);
    expect(err.message).toBe("config: variable declared differently by two parts: PORT in a and b");
  });
});
