/**
 * `npm run check:infra` (part of `npm test`): the deployment artefacts, checked
 * with the real tools of their ecosystems. Each step prints the tool's own
 * report; the run fails if any step fails, after running them all.
 *
 * - `package`: `npm run package` with example parameters, offline.
 * - `cfn-lint`: no error on the generated CloudFormation template.
 * - `checkov-template`: no failed check on that template, except the skips
 *   written with a reason beside the resource in `serverless.yml`.
 * - `terraform-fmt`: `terraform fmt -check` on `infra/terraform`.
 * - `tflint`: its bundled Terraform ruleset, `recommended` preset (offline).
 * - `checkov-terraform`: no failed check on `infra/terraform`, except skips
 *   written inline with a reason.
 * - `checkov-kubernetes`: no failed check on `infra/kubernetes` (the manifests
 *   and the ingress's Dockerfile), except skips written with a reason in them.
 *
 * cfn-lint and checkov come from PyPI, pinned in `infra/requirements.txt`,
 * installed into `.cache/venv-infra/` on first use; Terraform 1.5.7 and tflint
 * are built with `go install` into `.cache/go/` by `scripts/go-tools.ts`.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureMotoVenv } from "../tools/emulator/index.ts";
import { ensureGoTools, INFRA_TOOLS } from "./go-tools.ts";
import { EXAMPLE_PARAMS, packageOffline, paramArgs, TEMPLATE_FILE } from "./package.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));

/** One check: a name for the summary, and a run that resolves true when it passed. */
export interface Step {
  name: string;
  run: () => Promise<boolean>;
  /** The steps after this one check its output, so they do not run if it fails. */
  gate?: boolean;
}

let venvBin: Promise<string> | undefined;
let goToolPaths: Promise<Record<keyof typeof INFRA_TOOLS, string>> | undefined;

/** Terraform and tflint, built into `.cache/go/` on first use (minutes), then reused. */
function goTools() {
  goToolPaths ??= ensureGoTools(INFRA_TOOLS, {
    onBuild: (tool) => console.log(`building ${tool.pkg}@${tool.version} (minutes, once)`),
  });
  return goToolPaths;
}

/**
 * The `bin/` directory of the checks' virtual environment, built on first use.
 *
 * @example
 * const checkov = join(await infraToolsBin(), "checkov");
 */
export function infraToolsBin(): Promise<string> {
  venvBin ??= ensureMotoVenv({
    venvDir: join(REPO, ".cache/venv-infra"),
    requirementsFile: join(REPO, "infra/requirements.txt"),
  }).then((python) => join(python, ".."));
  return venvBin;
}

/** Runs a command with its output on ours; resolves with its exit code. */
export function runTool(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO, stdio: "inherit" });
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
}

/** cfn-lint's exit code is a bit set: 2 errors, 4 warnings, 8 informational; 1 is a crash. */
const CFN_LINT_FAILED = 0b11;

export const STEPS: Step[] = [
  {
    name: "package",
    gate: true,
    run: async () =>
      (await packageOffline(["--stage", "ci", ...paramArgs(EXAMPLE_PARAMS)])).code === 0,
  },
  {
    name: "cfn-lint",
    run: async () => {
      const code = await runTool(join(await infraToolsBin(), "cfn-lint"), [
        "--format",
        "parseable",
        "--",
        TEMPLATE_FILE,
      ]);
      if (code === 0) console.log(`cfn-lint: ${TEMPLATE_FILE}: no findings`);
      return (code & CFN_LINT_FAILED) === 0;
    },
  },
  {
    name: "checkov-template",
    run: async () =>
      (await runTool(join(await infraToolsBin(), "checkov"), [
        "--file",
        TEMPLATE_FILE,
        "--framework",
        "cloudformation",
        "--compact",
        "--skip-download",
      ])) === 0,
  },
  {
    name: "terraform-fmt",
    run: async () =>
      (await runTool((await goTools()).terraform, [
        "fmt",
        "-check",
        "-recursive",
        "-diff",
        "infra/terraform",
      ])) === 0,
  },
  {
    name: "tflint",
    run: async () => {
      // Only the ruleset bundled in tflint is configured, so nothing is downloaded.
      const code = await runTool((await goTools()).tflint, [
        "--chdir=infra/terraform",
        "--recursive",
        `--config=${join(REPO, "infra/terraform/.tflint.hcl")}`,
        "--format=compact",
      ]);
      if (code === 0) console.log("tflint: infra/terraform: no issues");
      return code === 0;
    },
  },
  {
    name: "checkov-terraform",
    run: async () =>
      (await runTool(join(await infraToolsBin(), "checkov"), [
        "--directory",
        "infra/terraform",
        "--framework",
        "terraform",
        "--compact",
        "--skip-download",
      ])) === 0,
  },
  {
    name: "checkov-kubernetes",
    run: async () =>
      (await runTool(join(await infraToolsBin(), "checkov"), [
        "--directory",
        "infra/kubernetes",
        "--framework",
        "kubernetes",
        "dockerfile",
        "--compact",
        "--skip-download",
      ])) === 0,
  },
];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const failed: string[] = [];
  for (const step of STEPS) {
    console.log(`\n== check:infra ${step.name}`);
    if (await step.run()) continue;
    failed.push(step.name);
    if (step.gate) break;
  }
  console.log(
    failed.length === 0
      ? `\ncheck:infra: all ${STEPS.length} steps passed`
      : `\ncheck:infra: failed: ${failed.join(", ")}`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
}
