import { readFile } from "node:fs/promises";
import { isMap, isScalar, isSeq, parseDocument } from "yaml";
import { RegistryError, RegistryReason } from "../errors.ts";
import type { RegistryEntry, RegistryField } from "./entries.ts";

const FIELDS: readonly RegistryField[] = ["service", "environment", "accountId"];

/**
 * Reads a registry file: `{"identities": [{"service", "environment", "accountId", "spansAccounts"?}]}`
 * as JSON, or the same in YAML (chosen by the `.yaml`/`.yml` extension).
 * Entries are returned unvalidated, each with its position, so one bad entry
 * is reported alone; only a file whose overall shape is wrong is an error.
 * For YAML, a field read as something other than a string keeps the text it
 * was written as, so its message can show the quoting that was missing.
 *
 * @throws {RegistryError} with a `FILE_*` reason when the file as a whole is unusable.
 * @example
 * const entries = await readRegistryFile("/etc/lambda-svid/registry.yaml");
 */
export async function readRegistryFile(path: string): Promise<RegistryEntry[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new RegistryError(RegistryReason.FILE_UNREADABLE, JSON.stringify(path), { cause });
  }
  const yaml = /\.ya?ml$/i.test(path);
  let doc: unknown;
  let nodes: readonly unknown[] = [];
  try {
    if (yaml) {
      const parsed = parseDocument(text);
      if (parsed.errors.length > 0) throw parsed.errors[0];
      doc = parsed.toJS();
      const list = parsed.get("identities", true);
      if (isSeq(list)) nodes = list.items;
    } else {
      doc = JSON.parse(text);
    }
  } catch (cause) {
    throw new RegistryError(
      yaml ? RegistryReason.FILE_NOT_YAML : RegistryReason.FILE_NOT_JSON,
      JSON.stringify(path),
      { cause },
    );
  }
  if (
    typeof doc !== "object" ||
    doc === null ||
    !Array.isArray((doc as { identities?: unknown }).identities)
  ) {
    throw new RegistryError(RegistryReason.FILE_SHAPE, JSON.stringify(path));
  }
  return (doc as { identities: unknown[] }).identities.map((item, i) => {
    const origin = `file entry ${i}`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      return { service: undefined, environment: undefined, accountId: undefined, origin };
    }
    const { service, environment, accountId, spansAccounts } = item as Record<string, unknown>;
    const written = writtenAs(nodes[i]);
    return {
      service,
      environment,
      accountId,
      spansAccounts,
      origin,
      ...(written === undefined ? {} : { written }),
    };
  });
}

/** The source text of each field YAML read as a number, boolean or other non-string scalar. */
function writtenAs(node: unknown): RegistryEntry["written"] {
  if (!isMap(node)) return undefined;
  const written: Partial<Record<RegistryField, string>> = {};
  for (const field of FIELDS) {
    const value = node.get(field, true);
    if (isScalar(value) && typeof value.value !== "string" && value.source !== undefined) {
      written[field] = value.source;
    }
  }
  return Object.keys(written).length > 0 ? written : undefined;
}
