/**
 * The SVID secret's default name and its validation, as the deployments state
 * them, against the contract's constants: a renamed default or a looser
 * pattern in one place would have the issuer write where the layer never reads.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  DEFAULT_SVID_SECRET_NAME,
  SVID_SECRET_NAME_PATTERN,
  SVID_SECRET_NAME_VARIABLE,
} from "../../layers/svid-secret/index.ts";

const source = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");

/** The body of one `variable "<name>" { ... }` block of a Terraform file. */
function terraformVariable(file: string, name: string): string {
  const text = source(file);
  const start = text.indexOf(`variable "${name}" {`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = text.indexOf("\n}\n", start);
  return text.slice(start, end);
}

describe("the SVID secret name in the deployments", () => {
  it("serverless.yml: the svidSecretName parameter defaults to the contract's default and feeds the variable", () => {
    // CloudFormation tags (!Ref, !GetAtt) are left unresolved: only plain values are read here.
    const doc = parse(source("serverless.yml"), { logLevel: "error" }) as {
      params: { default: { svidSecretName: string } };
      provider: { environment?: Record<string, string> };
      functions: Record<string, { environment?: Record<string, string> }>;
    };
    expect(doc.params.default.svidSecretName).toBe(DEFAULT_SVID_SECRET_NAME);
    const environments = [
      doc.provider.environment ?? {},
      ...Object.values(doc.functions).map((f) => f.environment ?? {}),
    ];
    // The planner and the worker both carry it; every copy comes from the one parameter.
    const values = environments.map((e) => e[SVID_SECRET_NAME_VARIABLE]).filter(Boolean);
    expect([...new Set(values)]).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Serverless variable, not a template
      "${param:svidSecretName}",
    ]);
  });

  it("Terraform tenant module: svid_secret_name defaults to it and validates with the same pattern", () => {
    const block = terraformVariable(
      "infra/terraform/modules/tenant/variables.tf",
      "svid_secret_name",
    );
    expect(block).toContain(`default     = "${DEFAULT_SVID_SECRET_NAME}"`);
    const regex = /can\(regex\("((?:[^"\\]|\\.)*)", var\.svid_secret_name\)\)/.exec(block)?.[1];
    // HCL string escapes: "\\w" in the file is the regex \w.
    expect(regex?.replaceAll("\\\\", "\\")).toBe(SVID_SECRET_NAME_PATTERN.source);
  });
});
