import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import type { RegistryEntry } from "./entries.ts";

/** The registry file cannot be used at all (as opposed to one bad entry in it). */
export class RegistryFileError extends Error {
  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(`registry: file ${JSON.stringify(path)} ${problem}`, options);
    this.name = "RegistryFileError";
  }
}

/**
 * Reads a registry file: `{"identities": [{"service", "environment", "accountId"}]}`
 * as JSON, or the same in YAML (chosen by the `.yaml`/`.yml` extension).
 * Entries are returned unvalidated, each with its position, so one bad entry
 * is reported alone; only a file whose overall shape is wrong is an error.
 *
 * @throws {RegistryFileError}
 */
export async function readRegistryFile(path: string): Promise<RegistryEntry[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new RegistryFileError(path, "cannot be read", { cause });
  }
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (cause) {
    throw new RegistryFileError(path, `is not valid ${/\.ya?ml$/i.test(path) ? "YAML" : "JSON"}`, {
      cause,
    });
  }
  if (
    typeof doc !== "object" ||
    doc === null ||
    !Array.isArray((doc as { identities?: unknown }).identities)
  ) {
    throw new RegistryFileError(path, 'must be an object with an "identities" array');
  }
  return (doc as { identities: unknown[] }).identities.map((item, i) => {
    const origin = `file entry ${i}`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      return { service: undefined, environment: undefined, accountId: undefined, origin };
    }
    const { service, environment, accountId } = item as Record<string, unknown>;
    return { service, environment, accountId, origin };
  });
}
