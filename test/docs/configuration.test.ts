import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CATALOGUES,
  configurationReference,
  REFERENCE_COMMAND,
  REFERENCE_FILE,
} from "../../scripts/config-reference.ts";

describe("docs/configuration.md", () => {
  it("is what the parts' catalogues generate", () => {
    const committed = readFileSync(REFERENCE_FILE, "utf8");
    expect(
      committed === configurationReference(),
      `docs/configuration.md differs from the configuration catalogues; run \`${REFERENCE_COMMAND}\` and commit it`,
    ).toBe(true);
  });

  it("lists every declared variable once", () => {
    const text = configurationReference();
    const names = new Set(CATALOGUES.flatMap((c) => c.variables.map((v) => v.name)));
    for (const name of names)
      expect(text.match(new RegExp(`^\\| \`${name}\` \\|`, "gm")), name).toHaveLength(1);
  });
});
