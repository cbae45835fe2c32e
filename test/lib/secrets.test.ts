import { describe, expect, it } from "vitest";
import { ContentKey, clientRequestToken, digest, tagMap } from "../../lib/secrets/index.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("clientRequestToken", () => {
  it("is UUID-shaped, the same for the same parts and different for others", () => {
    const token = clientRequestToken("spiffe://example.org/a", 42);
    expect(token).toMatch(UUID);
    expect(clientRequestToken("spiffe://example.org/a", 42)).toBe(token);
    expect(clientRequestToken("spiffe://example.org/a", 43)).not.toBe(token);
    // Parts are joined by newlines, so moving the boundary changes the token.
    expect(clientRequestToken("ab", "c")).not.toBe(clientRequestToken("a", "bc"));
  });

  it("is the first 32 hex characters of the parts' SHA-256, shaped as a UUID", () => {
    const hex = digest(["x", 1], 32);
    expect(hex).toBe("fdf47ec21a8fde0c236a774a7ea50f3c");
    expect(clientRequestToken("x", 1)).toBe(
      `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    );
  });
});

describe("ContentKey", () => {
  it("gives keyed, length-prefixed digests and tokens that depend on the key", () => {
    const key = new ContentKey(Buffer.alloc(32, 1));
    const other = new ContentKey(Buffer.alloc(32, 2));
    expect(key.digest("name", "content")).toMatch(/^[0-9a-f]{64}$/);
    expect(key.digest("name", "content")).toBe(key.digest("name", Buffer.from("content")));
    expect(key.digest("name", "content")).not.toBe(other.digest("name", "content"));
    expect(key.digest("ab", "c")).not.toBe(key.digest("a", "bc"));
    expect(key.clientRequestToken("name", "v1", "content")).toMatch(UUID);
  });
});

describe("tagMap", () => {
  it("turns Secrets Manager's tag list into a map, empty for none", () => {
    expect(tagMap(undefined)).toEqual({});
    expect(
      tagMap([
        { Key: "lambda-svid:owner", Value: "lambda-svid-issuer" },
        { Key: "empty", Value: undefined },
      ]),
    ).toEqual({ "lambda-svid:owner": "lambda-svid-issuer", empty: "" });
  });
});
