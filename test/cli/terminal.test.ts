import { describe, expect, it } from "vitest";
import { colorsFor, progressBar } from "../../cli/terminal.ts";

/** A stream that records what is written; a terminal when `isTTY`. */
function stream(isTTY: boolean) {
  const written: string[] = [];
  const s = { isTTY, write: (chunk: string) => written.push(chunk) > 0 };
  return { s: s as unknown as NodeJS.WriteStream, written };
}

describe("terminal colour", () => {
  it("colours only on a terminal, and never when NO_COLOR is set and not empty", () => {
    expect(colorsFor({ isTTY: true }, {}).red("x")).toBe("\u001b[31mx\u001b[39m");
    expect(colorsFor({ isTTY: false }, {}).red("x")).toBe("x");
    expect(colorsFor({}, {}).red("x")).toBe("x");
    expect(colorsFor({ isTTY: true }, { NO_COLOR: "1" }).red("x")).toBe("x");
    expect(colorsFor({ isTTY: true }, { NO_COLOR: "" }).red("x")).toBe("\u001b[31mx\u001b[39m");
  });
});

describe("progress bar", () => {
  it("draws nothing for the first 2 seconds, then the bar with done/total and seconds; finish clears it", () => {
    let now = 0;
    const { s, written } = stream(true);
    const bar = progressBar(s, "issuing", () => now);
    bar.update(1, 10);
    now = 1_999;
    bar.update(2, 10);
    expect(written).toEqual([]);
    now = 2_000;
    bar.update(5, 10);
    expect(written.at(-1)).toBe(`issuing [${"#".repeat(15)}${"-".repeat(15)}] 5/10 2s`);
    const drawn = written.length;
    now = 2_050;
    bar.update(6, 10);
    expect(written).toHaveLength(drawn);
    bar.update(10, 10);
    expect(written.at(-1)).toBe(`issuing [${"#".repeat(30)}] 10/10 2s`);
    bar.finish();
    expect(written.length).toBeGreaterThan(drawn + 1);
    expect(written.slice(-2).join("")).not.toContain("issuing");
  });

  it("writes nothing at all when the stream is not a terminal", () => {
    let now = 0;
    const { s, written } = stream(false);
    const bar = progressBar(s, "issuing", () => now);
    now = 10_000;
    bar.update(1, 2);
    bar.finish();
    expect(written).toEqual([]);
  });
});
