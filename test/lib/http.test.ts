import { describe, expect, it } from "vitest";
import { endToEndHeaders, HOP_BY_HOP_HEADERS } from "../../lib/http/index.ts";

describe("endToEndHeaders", () => {
  it("drops every hop-by-hop field and keeps the end-to-end ones with their values", () => {
    const hop = Object.fromEntries([...HOP_BY_HOP_HEADERS].map((name) => [name, "x"]));
    expect(
      endToEndHeaders({ ...hop, "content-type": "text/plain", "set-cookie": ["a=1", "b=2"] }),
    ).toEqual([
      ["content-type", "text/plain"],
      ["set-cookie", ["a=1", "b=2"]],
    ]);
  });

  it("drops the fields the Connection header names, whatever their case and spacing", () => {
    expect(
      endToEndHeaders({
        connection: "Keep-Alive, X-Private ,x-other",
        "x-private": "1",
        "x-other": "2",
        accept: "*/*",
      }),
    ).toEqual([["accept", "*/*"]]);
  });

  it("drops the caller's own extra names, and skips absent values", () => {
    expect(endToEndHeaders({ host: "h", accept: undefined, age: "3" }, new Set(["host"]))).toEqual([
      ["age", "3"],
    ]);
  });
});
