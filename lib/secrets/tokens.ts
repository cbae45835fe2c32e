/**
 * Idempotency tokens, keyed digests and tags: what a writer may show about a
 * secret (VersionIds, tags) without giving its content away.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { LambdaSvidError } from "../errors/index.ts";

/**
 * A deterministic ClientRequestToken (UUID-shaped, as Secrets Manager
 * suggests) for a write: the same parts give the same token, so a retried
 * write is recognised as the same version instead of creating another.
 *
 * The token becomes the version's VersionId, which anyone with
 * `DescribeSecret` or `ListSecretVersionIds` sees: the parts must be public
 * (names, serial numbers). A token derived from secret content takes a key:
 * {@link ContentKey.clientRequestToken}.
 *
 * @example
 * clientRequestToken(spiffeId, serialNumber); // "3f1c9a0e-...."
 */
export function clientRequestToken(...parts: ReadonlyArray<string | number>): string {
  return uuidShape(digest(parts, 32));
}

/** The first `length` hex characters of SHA-256 over the parts, one per line. */
export function digest(parts: ReadonlyArray<string | number>, length: number): string {
  return createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, length);
}

/** Reasons a content key is refused. */
export const ContentKeyReason = {
  LENGTH: "secrets: a content key must be 32 bytes",
} as const;
export type ContentKeyReason = (typeof ContentKeyReason)[keyof typeof ContentKeyReason];

/**
 * The key is not {@link ContentKey.BYTES} bytes long; the message gives its length, never key material.
 *
 * @example
 * new ContentKeyError(16).message; // "secrets: a content key must be 32 bytes: got 16"
 */
export class ContentKeyError extends LambdaSvidError {
  declare readonly reason: ContentKeyReason;

  constructor(length: number) {
    super(ContentKeyReason.LENGTH, `got ${length}`);
    this.name = "ContentKeyError";
  }
}

/**
 * A secret key for what is derived from secret content and then shown where
 * the content is not: VersionIds and tags are visible to anyone with
 * `DescribeSecret`, so an unkeyed hash of a short secret gives it away to a
 * guesser. With HMAC-SHA256 under a key only the writer holds, equal inputs
 * still give equal outputs (retries and change checks work), and nothing can
 * be guessed without the key. Parts are length-prefixed, so no two part lists
 * share an input.
 *
 * @example
 * const key = ContentKey.generate();
 * key.digest(name, content); // 64 hex characters, for a tag
 * key.clientRequestToken(name, previousVersionId, content); // for PutSecretValue
 */
export class ContentKey {
  static readonly BYTES = 32;
  readonly #key: Buffer;

  /** @throws {ContentKeyError} unless `key` is exactly {@link ContentKey.BYTES} bytes. */
  constructor(key: Uint8Array) {
    if (key.length !== ContentKey.BYTES) throw new ContentKeyError(key.length);
    this.#key = Buffer.from(key);
  }

  /** A new random key; its bytes are {@link bytes} for storing it. */
  static generate(): ContentKey {
    return new ContentKey(randomBytes(ContentKey.BYTES));
  }

  /** The key's bytes, to store it where only its holder can read it. */
  bytes(): Buffer {
    return Buffer.from(this.#key);
  }

  /** HMAC-SHA256 over the length-prefixed parts, as 64 hex characters. */
  digest(...parts: ReadonlyArray<string | Uint8Array>): string {
    const mac = createHmac("sha256", this.#key);
    for (const part of parts) {
      const bytes = typeof part === "string" ? Buffer.from(part, "utf8") : part;
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      mac.update(length).update(bytes);
    }
    return mac.digest("hex");
  }

  /** A UUID-shaped ClientRequestToken from {@link digest}: the same parts give the same token. */
  clientRequestToken(...parts: ReadonlyArray<string | Uint8Array>): string {
    return uuidShape(this.digest(...parts));
  }
}

function uuidShape(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Tags as a map, from the list form Secrets Manager returns. */
export function tagMap(
  tags: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | undefined,
): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
}
