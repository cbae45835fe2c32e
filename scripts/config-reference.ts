/**
 * `npm run docs:config`: writes `docs/configuration.md` from the parts'
 * configuration catalogues, so the reference says what the code reads, with
 * the code's defaults and ranges. `test/docs/configuration.test.ts` fails
 * when the committed file differs from what this prints.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CLI_CATALOGUE } from "../cli/config.ts";
import { ISSUER_CATALOGUE } from "../functions/issuer/config.ts";
import { SYNCER_CATALOGUE } from "../functions/syncer/config.ts";
import { INGRESS_CATALOGUE } from "../ingress/config.ts";
import { AGENT_CATALOGUE, CLIENT_CATALOGUE } from "../layers/agent/config.ts";
import { type Catalogue, renderReference } from "../lib/config/index.ts";

/** The committed reference. */
export const REFERENCE_FILE = fileURLToPath(new URL("../docs/configuration.md", import.meta.url));

/** The command that regenerates {@link REFERENCE_FILE}, named in it and in the test's failure. */
export const REFERENCE_COMMAND = "npm run docs:config";

/** Every part's catalogue, in the order the reference lists them. */
export const CATALOGUES: readonly Catalogue[] = [
  ISSUER_CATALOGUE,
  SYNCER_CATALOGUE,
  AGENT_CATALOGUE,
  CLIENT_CATALOGUE,
  INGRESS_CATALOGUE,
  CLI_CATALOGUE,
];

/**
 * The reference as the catalogues declare it today.
 *
 * @example
 * writeFileSync(REFERENCE_FILE, configurationReference());
 */
export function configurationReference(): string {
  return renderReference(CATALOGUES, REFERENCE_COMMAND);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(REFERENCE_FILE, configurationReference());
  console.log(`wrote ${REFERENCE_FILE}`);
}
