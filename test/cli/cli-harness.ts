/**
 * Runs `lambda-svid` as operators do: the package's bin (cli/bin/lambda-svid.mjs)
 * as a real child process, with the AWS SDK pointed at the shared emulator
 * and the credentials and `LAMBDA_SVID_*` variables a test gives it; and a
 * fleet to run it on: a fresh Organization of tagged accounts and a local CA.
 */
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { credentialsForAccount } from "../emulator/accounts.ts";
import { createOrganization } from "../emulator/organizations.ts";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = join(REPO, "cli/bin/lambda-svid.mjs");
export const EXTERNAL_ID = "cli-test-external-id";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the bin with `args`. The child gets PATH and HOME, the emulator's
 * `AWS_*` settings of this process, then `env` on top; nothing else of this
 * process's environment.
 */
export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliRun> {
  const aws = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("AWS_")));
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: REPO,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...aws, ...env },
        maxBuffer: 16 * 1024 * 1024,
      },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

/** The child's `AWS_*` credential variables for acting in `accountId` (from a real STS AssumeRole). */
export async function credentialsEnv(accountId: string): Promise<Record<string, string>> {
  const c = await credentialsForAccount(accountId);
  return {
    AWS_ACCESS_KEY_ID: c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    AWS_SESSION_TOKEN: c.sessionToken ?? "",
  };
}

/**
 * An Organization of `count` tagged accounts (`svc<i>`, environment `prod`)
 * and a local CA; `env` is what the CLI needs to act as the issuer's
 * operator: the management account's credentials and the issuer's variables.
 */
export async function cliFleet(count = 3) {
  const org = await createOrganization({
    accounts: Array.from({ length: count }, (_, i) => ({
      name: `svc${i}`,
      tags: {
        "lambda-svid:enabled": "true",
        "lambda-svid:service": `svc${i}`,
        "lambda-svid:environment": "prod",
      },
    })),
  });
  const caDir = await mkdtemp(join(tmpdir(), "lambda-svid-cli-ca-"));
  const env = {
    ...(await credentialsEnv(org.managementAccountId)),
    LAMBDA_SVID_TRUST_DOMAIN: "example.org",
    LAMBDA_SVID_CA: `local:${caDir}`,
    LAMBDA_SVID_EXTERNAL_ID: EXTERNAL_ID,
  };
  return { org, caDir, env, accounts: org.accounts.map((a) => a.id) };
}

/** Nothing the CLI printed holds key material, the ExternalId or a session token. */
export function expectNothingSecret(
  run: CliRun,
  env: Record<string, string | undefined> = {},
): void {
  const seen = run.stdout + run.stderr;
  expect(seen).not.toContain("PRIVATE KEY");
  expect(seen).not.toContain(EXTERNAL_ID);
  for (const key of ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
    const value = env[key];
    if (value) expect(seen).not.toContain(value);
  }
}
