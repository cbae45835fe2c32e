/** What Keywhiz's client API returns, validated: unknown fields are ignored, anything malformed stops the run. */

/** A secret as listed by `GET /secrets`, without content. */
export interface KeywhizSecretInfo {
  name: string;
  secretLength: number;
  /** Newer servers: an HMAC of the content. Older servers omit it. */
  checksum: string | undefined;
  updateDate: string | undefined;
}

/** A secret with its decoded content, from `POST /batchsecret` or `GET /secret/{name}`. */
export interface KeywhizSecret extends KeywhizSecretInfo {
  content: Buffer;
}

/** Fixed reasons for Keywhiz failures. */
export const KeywhizReason = {
  UNAVAILABLE: "keywhiz: server unavailable",
  UNEXPECTED_STATUS: "keywhiz: unexpected response status",
  FORBIDDEN: "keywhiz: not allowed to read a requested secret",
  NOT_FOUND: "keywhiz: a requested secret does not exist",
  MALFORMED: "keywhiz: malformed response",
  NOT_BASE64: "keywhiz: secret content is not base64",
  DUPLICATE_NAMES: "keywhiz: response lists a secret name more than once",
  TOO_LARGE: "keywhiz: response is larger than the limit",
} as const;
export type KeywhizReason = (typeof KeywhizReason)[keyof typeof KeywhizReason];

/** A Keywhiz request or response that cannot be used. Messages name secrets, never their content. */
export class KeywhizError extends Error {
  readonly reason: KeywhizReason;
  readonly status: number | undefined;

  constructor(
    reason: KeywhizReason,
    detail?: string,
    options?: { cause?: unknown; status?: number },
  ) {
    const causeText = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`${reason}${detail === undefined ? "" : `: ${detail}`}${causeText}`, options);
    this.name = "KeywhizError";
    this.reason = reason;
    this.status = options?.status;
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses a `GET /secrets` body. */
export function parseListing(body: string): KeywhizSecretInfo[] {
  return unique(items(body).map((item, i) => info(item, i)));
}

/** Parses a `POST /batchsecret` body (an array) or a `GET /secret/{name}` body (one object). */
export function parseSecrets(body: string): KeywhizSecret[] {
  return unique(
    items(body).map((item, i) => {
      const secret = (item as Record<string, unknown>).secret;
      const base = info(item, i);
      if (typeof secret !== "string" || !BASE64.test(secret)) {
        throw new KeywhizError(KeywhizReason.NOT_BASE64, JSON.stringify(base.name));
      }
      return { ...base, content: Buffer.from(secret, "base64") };
    }),
  );
}

/**
 * What identifies a secret's current content: the checksum, or for servers
 * without one, its update time and length.
 */
export function versionOf(secret: KeywhizSecretInfo): string {
  return secret.checksum ?? `updated:${secret.updateDate ?? "unknown"}:${secret.secretLength}`;
}

function items(body: string): unknown[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    // Never chain JSON.parse's message: it quotes the body, which may hold secrets.
    throw new KeywhizError(KeywhizReason.MALFORMED, "not JSON");
  }
  const list = Array.isArray(doc) ? doc : [doc];
  for (const [i, item] of list.entries()) {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw new KeywhizError(KeywhizReason.MALFORMED, `item ${i} is not an object`);
    }
  }
  return list;
}

function info(item: unknown, index: number): KeywhizSecretInfo {
  const o = item as Record<string, unknown>;
  if (typeof o.name !== "string" || o.name === "") {
    throw new KeywhizError(KeywhizReason.MALFORMED, `item ${index} has no name`);
  }
  if (
    typeof o.secretLength !== "number" ||
    !Number.isSafeInteger(o.secretLength) ||
    o.secretLength < 0
  ) {
    throw new KeywhizError(
      KeywhizReason.MALFORMED,
      `${JSON.stringify(o.name)} has no valid secretLength`,
    );
  }
  for (const field of ["checksum", "updateDate"] as const) {
    if (o[field] !== undefined && o[field] !== null && typeof o[field] !== "string") {
      throw new KeywhizError(
        KeywhizReason.MALFORMED,
        `${JSON.stringify(o.name)} has a non-string ${field}`,
      );
    }
  }
  return {
    name: o.name,
    secretLength: o.secretLength,
    checksum: typeof o.checksum === "string" && o.checksum !== "" ? o.checksum : undefined,
    updateDate: typeof o.updateDate === "string" ? o.updateDate : undefined,
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
