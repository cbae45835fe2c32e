/**
 * `npm run package -- --stage prod --param="caArn=..." ...`: builds the
 * bundles and runs `sls package` on `serverless.yml`, offline: no AWS
 * credentials, and every AWS endpoint pointed at a closed local port, so a
 * call that slipped in would fail instead of reaching AWS. Writes the
 * CloudFormation template and the artifacts to `dist/serverless/`.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildAll } from "./build.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));

/** Where `sls package` writes the template and artifacts. */
export const PACKAGE_DIR = join(REPO, "dist/serverless");

/** The template CloudFormation receives on an update (the one the checks read). */
export const TEMPLATE_FILE = join(PACKAGE_DIR, "cloudformation-template-update-stack.json");

/**
 * Example values of the required parameters: what `npm run check:infra`
 * packages with. They name no real CA, Organization or account.
 */
export const EXAMPLE_PARAMS: Readonly<Record<string, string>> = {
  caArn:
    "arn:aws:acm-pca:eu-west-1:111111111111:certificate-authority/0e2b8f4c-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
  trustDomain: "example.org",
  orgId: "o-exampleorg1",
  managementAccountId: "000000000000",
};

/** A port nothing listens on: an AWS call made while packaging fails at once. */
const CLOSED_ENDPOINT = "http://127.0.0.1:9";

export interface PackageOptions {
  /** Where the bundles are built and `serverless.yml` takes them from; `dist/` by default. */
  distDir?: string;
  /** Where the template and artifacts go; {@link PACKAGE_DIR} by default. */
  packageDir?: string;
  /** Build first (the default); `false` packages what `distDir` already holds. */
  build?: boolean;
  /** Receives `sls`'s output; by default it goes to this process's stdout and stderr. */
  output?: "inherit" | "pipe";
}

/**
 * Builds, then packages with the given `sls` arguments; resolves with the
 * `sls` exit code and, with `output: "pipe"`, what it printed.
 *
 * @example
 * await packageOffline(["--stage", "ci", ...paramArgs(EXAMPLE_PARAMS)]);
 */
export async function packageOffline(
  args: readonly string[],
  options: PackageOptions = {},
): Promise<{ code: number; output: string }> {
  const distDir = options.distDir ?? join(REPO, "dist");
  if (options.build !== false) await buildAll(distDir);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|DEFAULT_PROFILE)$/.test(name))
      delete env[name];
  }
  Object.assign(env, {
    LAMBDA_SVID_OFFLINE: "1",
    LAMBDA_SVID_DIST_DIR: distDir,
    AWS_ENDPOINT_URL: CLOSED_ENDPOINT,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  });
  const sls = createRequire(import.meta.url).resolve("osls/bin/serverless.js");
  const packageDir = options.packageDir ?? PACKAGE_DIR;
  const child = spawn(process.execPath, [sls, "package", "--package", packageDir, ...args], {
    cwd: REPO,
    env,
    stdio: ["ignore", options.output ?? "inherit", options.output ?? "inherit"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** `--param=name=value` arguments for `sls`. */
export function paramArgs(params: Readonly<Record<string, string>>): string[] {
  return Object.entries(params).map(([name, value]) => `--param=${name}=${value}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = (await packageOffline(process.argv.slice(2))).code;
}
