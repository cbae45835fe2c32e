/**
 * What Keywhiz's client API returns, validated. Unknown fields are ignored. A
 * response whose shape is wrong (not JSON, not the array or object expected,
 * an entry without a name, a name twice) stops the run; a secret whose own
 * content is unusable (not base64, empty, not its stated length) is a problem
 * of that secret alone, so the others in the same response are still used.
 */
import { KeywhizError, KeywhizReason } from "../errors.ts";

/** A secret as listed by `GET /secrets`, without content. */
export interface KeywhizSecretInfo {
  name: string;
  /** Real servers list 0 for every secret; only the fetched `secretLength` is the content's. */
  secretLength: number;
  /** Newer servers: an HMAC of the content under the server's key. Older servers omit it. */
  checksum: string | undefined;
}

/** A secret with its decoded content, from `POST /batchsecret` or `GET /secret/{name}`. */
export interface KeywhizSecret extends KeywhizSecretInfo {
  content: Buffer;
}

/** Fetched secrets that can be used, and by name those that cannot. */
export interface FetchedSecrets {
  secrets: KeywhizSecret[];
  problems: Array<{ name: string; error: KeywhizError }>;
}

/**
 * Standard base64 with or without its `=` padding: Keywhiz stores content as
 * its clients upload it, and real servers serve it unpadded (keysync pads it
 * back before decoding). The URL-safe alphabet is refused, as Keywhiz's own
 * validation (Java's basic decoder) refuses it on upload.
 */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/**
 * Parses a `GET /secrets` body, which must be a JSON array: anything else is
 * a doubtful source, and a listing is what deletions are decided from.
 *
 * @example
 * parseListing('[{"name":"db","secret":"","secretLength":0,"checksum":"9f2c..."}]');
 */
export function parseListing(body: string): KeywhizSecretInfo[] {
  const doc = json(body);
  if (!Array.isArray(doc)) {
    throw new KeywhizError(
      KeywhizReason.MALFORMED,
      `GET /secrets: expected a JSON array, got ${kindOf(doc)}`,
    );
  }
  return unique(named(doc).map(({ item, name }) => info(item, name)));
}

/**
 * Parses a `POST /batchsecret` body (a JSON array) or, with `single`, a
 * `GET /secret/{name}` body (one object).
 *
 * @example
 * const { secrets, problems } = parseSecrets(body);
 * for (const p of problems) report(p.name, p.error.message);
 */
export function parseSecrets(body: string, single = false): FetchedSecrets {
  const doc = json(body);
  if (single ? !isObject(doc) : !Array.isArray(doc)) {
    throw new KeywhizError(
      KeywhizReason.MALFORMED,
      `${single ? "GET /secret" : "POST /batchsecret"}: expected ${
        single ? "a JSON object" : "a JSON array"
      }, got ${kindOf(doc)}`,
    );
  }
  const out: FetchedSecrets = { secrets: [], problems: [] };
  const entries = named(single ? [doc] : (doc as unknown[]));
  unique(entries);
  for (const { item, name } of entries) {
    try {
      const base = info(item, name);
      out.secrets.push({ ...base, content: decodeContent(item, base) });
    } catch (err) {
      if (!(err instanceof KeywhizError)) throw err;
      out.problems.push({ name, error: err });
    }
  }
  return out;
}

function decodeContent(item: Record<string, unknown>, base: KeywhizSecretInfo): Buffer {
  const name = JSON.stringify(base.name);
  if (typeof item.secret !== "string" || !BASE64.test(item.secret)) {
    throw new KeywhizError(KeywhizReason.NOT_BASE64, name);
  }
  const content = Buffer.from(item.secret, "base64");
  if (content.length === 0) throw new KeywhizError(KeywhizReason.EMPTY_CONTENT, name);
  if (content.length !== base.secretLength) {
    throw new KeywhizError(
      KeywhizReason.WRONG_LENGTH,
      `${name}: ${content.length} bytes, secretLength ${base.secretLength}`,
    );
  }
  return content;
}

function json(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    // Never chain JSON.parse's message: it quotes the body, which may hold secrets.
    throw new KeywhizError(KeywhizReason.MALFORMED, "not JSON");
  }
}

function isObject(doc: unknown): doc is Record<string, unknown> {
  return typeof doc === "object" && doc !== null && !Array.isArray(doc);
}

/** What a JSON value is, for messages: never the value itself, which may be secret. */
function kindOf(doc: unknown): string {
  if (doc === null) return "null";
  if (Array.isArray(doc)) return "an array";
  return typeof doc === "object" ? "an object" : `a ${typeof doc}`;
}

/** Every entry must be an object with a name: without one, nothing in it can be attributed. */
function named(list: unknown[]): Array<{ item: Record<string, unknown>; name: string }> {
  return list.map((item, i) => {
    if (!isObject(item)) {
      throw new KeywhizError(KeywhizReason.MALFORMED, `item ${i} is not an object`);
    }
    if (typeof item.name !== "string" || item.name === "") {
      throw new KeywhizError(KeywhizReason.MALFORMED, `item ${i} has no name`);
    }
    return { item, name: item.name };
  });
}

function info(o: Record<string, unknown>, name: string): KeywhizSecretInfo {
  if (
    typeof o.secretLength !== "number" ||
    !Number.isSafeInteger(o.secretLength) ||
    o.secretLength < 0
  ) {
    throw new KeywhizError(
      KeywhizReason.MALFORMED,
      `${JSON.stringify(name)} has no valid secretLength`,
    );
  }
  if (o.checksum !== undefined && o.checksum !== null && typeof o.checksum !== "string") {
    throw new KeywhizError(
      KeywhizReason.MALFORMED,
      `${JSON.stringify(name)} has a non-string checksum`,
    );
  }
  return {
    name,
    secretLength: o.secretLength,
    checksum: typeof o.checksum === "string" && o.checksum !== "" ? o.checksum : undefined,
  };
}

function unique<T extends { name: string }>(list: T[]): T[] {
  const seen = new Set<string>();
  for (const item of list) {
    if (seen.has(item.name))
      throw new KeywhizError(KeywhizReason.DUPLICATE_NAMES, JSON.stringify(item.name));
    seen.add(item.name);
  }
  return list;
}
