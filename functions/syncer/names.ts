import { createHash } from "node:crypto";

/**
 * Deterministic, safe mapping from Keywhiz secret names to Secrets Manager
 * names and tag values.
 */

/** Characters Secrets Manager allows in a secret name. */
const SECRETS_MANAGER_CHAR = /^[A-Za-z0-9/_+=.@-]$/;
export const MAX_SECRET_NAME = 512;

/**
 * `<prefix><name>` with every character Secrets Manager does not allow
 * replaced by `_x<hex>_` (its UTF-8 bytes). A name ending in a hyphen and six
 * characters gets a trailing `_`, because Secrets Manager would read those as
 * the random suffix of an ARN. Distinct Keywhiz names can still map to one
 * Secrets Manager name (`a b` and `a_x20_b`): callers detect that with
 * {@link findCollisions}.
 *
 * @returns `undefined` when the result would exceed 512 characters.
 */
export function secretsManagerName(prefix: string, keywhizName: string): string | undefined {
  let out = prefix;
  for (const ch of keywhizName) {
    out += SECRETS_MANAGER_CHAR.test(ch)
      ? ch
      : `_x${[...Buffer.from(ch, "utf8")].map((b) => b.toString(16).padStart(2, "0")).join("")}_`;
  }
  if (/-[A-Za-z0-9]{6}$/.test(out)) out += "_";
  return out.length <= MAX_SECRET_NAME ? out : undefined;
}

/** Groups of Keywhiz names that map to the same Secrets Manager name. */
export function findCollisions(mapped: ReadonlyMap<string, string>): string[][] {
  const byTarget = new Map<string, string[]>();
  for (const [keywhizName, target] of mapped) {
    byTarget.set(target, [...(byTarget.get(target) ?? []), keywhizName]);
  }
  return [...byTarget.values()].filter((names) => names.length > 1);
}

const TAG_VALUE = /^[A-Za-z0-9 _.:/=+\-@]{0,256}$/;

/**
 * A tag value that names `value`: as is when tag values allow it, otherwise
 * `b64:` and its base64url form, or `sha256:` and its digest when even that is
 * over the 256-character limit. Only a label for people and audits: the
 * syncer matches secrets by their mapped name, never by this tag.
 */
export function toTagValue(value: string): string {
  if (TAG_VALUE.test(value) && !/^(b64|sha256):/.test(value)) return value;
  const b64 = `b64:${Buffer.from(value, "utf8").toString("base64url")}`;
  return b64.length <= 256 ? b64 : `sha256:${createHash("sha256").update(value).digest("hex")}`;
}
