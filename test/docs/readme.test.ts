/**
 * The README's tables say what the code does: the Commands table has a row for
 * every npm script, and a variable table that offers an ARN names a variable
 * whose one declaration accepts one.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EnvReader } from "../../lib/config/env.ts";
import { readVariable } from "../../lib/config/index.ts";
import { CATALOGUES } from "../../scripts/config-reference.ts";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const PACKAGE = JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
) as { scripts: Record<string, string> };

/** The rows of the table under `## <heading>`, up to the next heading. */
function sectionRows(heading: string): string[] {
  const start = README.indexOf(`\n## ${heading}\n`);
  expect(start, heading).toBeGreaterThan(0);
  const end = README.indexOf("\n#", start + heading.length + 4);
  return README.slice(start, end)
    .split("\n")
    .filter((line) => line.startsWith("| `"));
}

describe("README.md", () => {
  it("lists every npm script in the Commands table", () => {
    const commands = sectionRows("Commands").map((row) => row.split("|")[1] ?? "");
    for (const script of Object.keys(PACKAGE.scripts)) {
      const invocation =
        script === "test" || script === "start" ? `npm ${script}` : `npm run ${script}`;
      expect(
        commands.some((c) => c.includes(`\`${invocation}\``) || c.includes(`\`${invocation} `)),
        script,
      ).toBe(true);
    }
  });

  it("offers an ARN only for a variable whose declaration accepts one", () => {
    const specs = new Map(CATALOGUES.flatMap((c) => c.variables.map((v) => [v.name, v])));
    const arn = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:lambda-svid/svid-AbCdEf";
    const offering = README.split("\n").filter((line) =>
      /^\| `LAMBDA_SVID_\w+` \|.*\bor ARN\b/.test(line),
    );
    for (const row of offering) {
      const name = /^\| `(\w+)`/.exec(row)?.[1] as string;
      const spec = specs.get(name);
      expect(spec, name).toBeDefined();
      if (spec?.kind !== "string" || spec.pattern === undefined) continue;
      expect(() => readVariable(new EnvReader({ [name]: arn }), spec), row).not.toThrow();
    }
  });
});
