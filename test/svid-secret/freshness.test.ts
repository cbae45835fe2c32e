import { describe, expect, it } from "vitest";
import { DEFAULT_FRESHNESS, freshness } from "../../layers/svid-secret/index.ts";

const HOUR = 3_600_000;
const NOW = new Date("2026-01-01T12:00:00Z");
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

describe("freshness", () => {
  it.each([
    { name: "just read, 24h left", fetchedAt: at(0), notAfter: at(24 * HOUR), want: "fresh" },
    { name: "read 59m ago", fetchedAt: at(-59 * 60_000), notAfter: at(20 * HOUR), want: "fresh" },
    { name: "read an interval ago", fetchedAt: at(-HOUR), notAfter: at(20 * HOUR), want: "stale" },
    { name: "threshold left", fetchedAt: at(0), notAfter: at(6 * HOUR), want: "stale" },
    { name: "1ms left", fetchedAt: at(0), notAfter: at(1), want: "stale" },
    { name: "at not-after", fetchedAt: at(0), notAfter: at(0), want: "expired" },
    { name: "past not-after", fetchedAt: at(-HOUR), notAfter: at(-1), want: "expired" },
  ])("$name: $want", ({ fetchedAt, notAfter, want }) => {
    expect(freshness({ fetchedAt, notAfter }, NOW, DEFAULT_FRESHNESS)).toBe(want);
  });
});
