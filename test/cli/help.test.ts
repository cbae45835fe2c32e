import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { EXIT_CODES_HELP } from "../../cli/exit.ts";
import { REPO, runCli } from "./cli-harness.ts";

// Nothing here may reach AWS: a closed local port instead of any configured endpoint.
const OFFLINE = { AWS_ENDPOINT_URL: "http://127.0.0.1:9", AWS_REGION: "us-east-1" };

describe("lambda-svid --help and bad arguments", { timeout: 60_000 }, () => {
  it.each([
    ["status", "$ lambda-svid status --json"],
    ["issue", "$ lambda-svid issue --account 111122223333 --force"],
    ["sync", "$ lambda-svid sync --account 111122223333"],
    ["verify", "$ lambda-svid verify lambda-svid/svid"],
    ["report", "$ lambda-svid report --html fleet.html"],
  ])("%s --help: usage, examples and exit codes, exit 0", async (command, example) => {
    const run = await runCli([command, "--help"], OFFLINE);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout.startsWith(`Usage: lambda-svid ${command} `)).toBe(true);
    expect(run.stdout).toContain("Examples:");
    expect(run.stdout).toContain(example);
    expect(run.stdout).toContain(EXIT_CODES_HELP.trim());
  });

  it("a bad argument names the option, the value and what was expected; exit 2", async () => {
    const run = await runCli(["issue", "--account", "12345"], OFFLINE);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      "error: option '--account <id>' argument '12345' is invalid. expected a 12-digit AWS account id.\n(add --help for usage and examples)\n",
    );
  });

  it("a missing required option, an unknown option and an unknown command are usage errors; exit 2", async () => {
    const sync = await runCli(["sync"], OFFLINE);
    expect(sync.code).toBe(2);
    expect(sync.stderr.split("\n")[0]).toBe(
      "error: required option '--account <id>' not specified",
    );
    const unknown = await runCli(["status", "--colour"], OFFLINE);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split("\n")[0]).toBe("error: unknown option '--colour'");
    const command = await runCli(["stauts"], OFFLINE);
    expect(command.code).toBe(2);
    expect(command.stderr.split("\n")[0]).toBe("error: unknown command 'stauts'");
    const trustDomain = await runCli(
      ["verify", "x.json", "--trust-domain", "Example.org"],
      OFFLINE,
    );
    expect(trustDomain.code).toBe(2);
    expect(trustDomain.stderr.split("\n")[0]).toMatch(
      /^error: option '--trust-domain <name>' argument 'Example.org' is invalid. expected a trust domain name such as example.org \(spiffeid: trust domain characters/,
    );
  });

  it("a bad value of one of the command line's own variables names it; exit 3", async () => {
    const run = await runCli(["sync", "--account", "111122223333"], {
      ...OFFLINE,
      LAMBDA_SVID_SYNCER_FUNCTION: "not a name",
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      'lambda-svid sync: config: LAMBDA_SVID_SYNCER_FUNCTION is "not a name"; expected a Lambda function name\n',
    );
  });

  it("verify reads LAMBDA_SVID_TRUST_DOMAIN by the issuer's declaration: a bad one names it; exit 3", async () => {
    const run = await runCli(["verify", "x.json"], {
      ...OFFLINE,
      LAMBDA_SVID_TRUST_DOMAIN: "Example.org",
    });
    expect(run.code).toBe(3);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(
      /^lambda-svid verify: config: LAMBDA_SVID_TRUST_DOMAIN is "Example\.org"; expected a trust domain name \(spiffeid: trust domain characters/,
    );
  });

  it("npx lambda-svid runs the package's bin", async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>(
      (resolve) => {
        const child = execFile(
          "npx",
          ["lambda-svid", "--help"],
          { cwd: REPO, env: { ...process.env, ...OFFLINE } },
          (_e, out) => resolve({ code: child.exitCode, stdout: out }),
        );
      },
    );
    expect(code).toBe(0);
    expect(stdout.startsWith("Usage: lambda-svid [options] [command]")).toBe(true);
    expect(stdout).toMatch(/^ {2}status \[options\]\s+every identity: SPIFFE ID/m);
  });
});
