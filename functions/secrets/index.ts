/**
 * Small pieces both functions need when they write to Secrets Manager.
 */
import { createHash } from "node:crypto";

/**
 * A deterministic ClientRequestToken (UUID-shaped, as Secrets Manager
 * suggests) for a write: the same parts give the same token, so a retried
 * write is recognised as the same version instead of creating another.
 *
 * @example
 * clientRequestToken(spiffeId, serialNumber); // "3f1c9a0e-...."
 */
export function clientRequestToken(...parts: ReadonlyArray<string | number>): string {
  const hex = digest(parts, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The first `length` hex characters of SHA-256 over the parts, one per line. */
export function digest(parts: ReadonlyArray<string | number>, length: number): string {
  return createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, length);
}

/** Tags as a map, from the list form Secrets Manager returns. */
export function tagMap(
  tags: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | undefined,
): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
}
