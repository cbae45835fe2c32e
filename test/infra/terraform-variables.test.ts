/**
 * The tenant module's input validation, run by the real Terraform (1.5.7,
 * built into .cache/ by scripts/go-tools.ts). Validation blocks need no
 * provider, so the module's own variables.tf is planned alone, in a scratch
 * directory, with good and with bad inputs.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureGoTools, INFRA_TOOLS } from "../../scripts/go-tools.ts";
import { TestCa } from "../support/ca.ts";
import { repoPath } from "../support/terraform.ts";

const run = promisify(execFile);

/** A cold build of Terraform takes minutes; `npm test` builds it before the tests run. */
const BUILD_TIMEOUT_MS = 30 * 60_000;
const EXTERNAL_ID = "lambda-svid-7f3a";

let terraform: string;
let dir: string;
let caPem: string;

interface Diagnostic {
  severity: string;
  summary: string;
  detail: string;
}

/** Plans variables.tf with the given inputs; returns Terraform's diagnostics. */
async function plan(inputs: Record<string, unknown>): Promise<Diagnostic[]> {
  const varFile = join(dir, "inputs.tfvars.json");
  writeFileSync(varFile, JSON.stringify(inputs));
  const result = await run(
    terraform,
    ["plan", "-input=false", "-json", "-lock=false", `-var-file=${varFile}`],
    { cwd: dir, env: { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" } },
  ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }));
  return result.stdout
    .split("\n")
    .filter((line) => line.includes('"type":"diagnostic"'))
    .map((line) => (JSON.parse(line) as { diagnostic: Diagnostic }).diagnostic);
}

function goodInputs(): Record<string, unknown> {
  return {
    issuer_role_arn: "arn:aws:iam::111111111111:role/lambda-svid-issuer-worker-prod",
    external_id: EXTERNAL_ID,
    layer_arn: "arn:aws:lambda:eu-west-1:111111111111:layer:lambda-svid:3",
    syncer: {
      artifact: { bucket: "lambda-svid-artifacts", key: "syncer/s.zip", version: "v1" },
      keywhiz_url: "https://keywhiz.example.org:4444",
      keywhiz_ca_pem: caPem,
      opt_in: ["orders-db-*"],
    },
  };
}

beforeAll(async () => {
  ({ terraform } = await ensureGoTools({ terraform: INFRA_TOOLS.terraform }));
  caPem = (await TestCa.root("keywhiz.example.org")).root.certPem;
  dir = mkdtempSync(join(tmpdir(), "lambda-svid-tf-"));
  copyFileSync(repoPath("infra/terraform/modules/tenant/variables.tf"), join(dir, "variables.tf"));
  await run(terraform, ["init", "-input=false", "-backend=false"], { cwd: dir });
}, BUILD_TIMEOUT_MS);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("tenant module inputs", () => {
  it("accepts the documented inputs, with and without a syncer", async () => {
    expect(await plan(goodInputs())).toEqual([]);
    expect(await plan({ ...goodInputs(), syncer: null })).toEqual([]);
    expect(
      await plan({
        ...goodInputs(),
        operator_role: { trusted_principal_arn: "arn:aws:iam::111111111111:role/ops/oncall" },
      }),
    ).toEqual([]);
  });

  it("refuses an operator role trusting anything but one named principal, or a bad name", async () => {
    const details = async (operator_role: Record<string, string>) =>
      (await plan({ ...goodInputs(), operator_role })).map((d) => d.detail.split("\n")[0]);
    expect(await details({ trusted_principal_arn: "*" })).toEqual([
      'operator_role.trusted_principal_arn is "*"; expected one IAM role or user ARN such as arn:aws:iam::111111111111:role/lambda-svid-operator, without wildcards.',
    ]);
    expect(
      await details({ trusted_principal_arn: "arn:aws:iam::111111111111:role/ops-*" }),
    ).toHaveLength(1);
    expect(await details({ trusted_principal_arn: "arn:aws:iam::111111111111:root" })).toHaveLength(
      1,
    );
    expect(
      await details({
        trusted_principal_arn: "arn:aws:iam::111111111111:role/lambda-svid-operator",
        name: "no spaces allowed",
      }),
    ).toEqual([
      'operator_role.name is "no spaces allowed"; expected an IAM role name, 1 to 64 characters of A-Z a-z 0-9 _ + = , . @ -.',
    ]);
  });

  it("refuses each bad value with a message naming it and what was expected", async () => {
    const inputs = {
      ...goodInputs(),
      issuer_role_arn: "arn:aws:iam::1111:role/issuer",
      writer_role_name: "writer role",
      svid_secret_name: "svid secret",
      kms_key_arn: "alias/lambda-svid",
      kms_key_alias: "alias/aws/secretsmanager",
      kms_key_administrator_arn: "arn:aws:iam::111111111111:group/admins",
      svid_reader_policy_name: "reader policy",
      layer_arn: "arn:aws:lambda:eu-west-1:111111111111:layer:lambda-svid",
      log_retention_days: 2,
      syncer: {
        artifact: { bucket: "b", key: "k", version: "v" },
        keywhiz_url: "https://user@keywhiz.example.org/?q",
        keywhiz_ca_pem: "not a certificate",
        opt_in: ["a,b"],
        prefix: "key whiz/",
        schedule: "hourly",
        recovery_window_days: 3,
        max_delete_percent: 150,
        kms_key_arn: "arn:aws:kms:eu-west-1:111111111111:alias/x",
        function_name: "syncer.fn",
        memory_size: 64,
        timeout: 120,
      },
    };
    const details = (await plan(inputs)).map((d) => d.detail.split("\n")[0]).sort();
    expect(details).toEqual(
      [
        'issuer_role_arn is "arn:aws:iam::1111:role/issuer"; expected an IAM role ARN such as arn:aws:iam::111111111111:role/lambda-svid-issuer-worker-prod.',
        'writer_role_name is "writer role"; expected an IAM role name, 1 to 64 characters of A-Z a-z 0-9 _ + = , . @ -.',
        'svid_secret_name is "svid secret"; expected a Secrets Manager name, 1 to 512 characters of A-Z a-z 0-9 / _ + = . @ -.',
        'kms_key_arn is "alias/lambda-svid"; expected null or a KMS key ARN such as arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab.',
        'kms_key_alias is "alias/aws/secretsmanager"; expected alias/ followed by 1 to 250 characters of A-Z a-z 0-9 / _ -, not under alias/aws/.',
        'kms_key_administrator_arn is "arn:aws:iam::111111111111:group/admins"; expected null or an IAM role or user ARN.',
        'svid_reader_policy_name is "reader policy"; expected an IAM policy name, 1 to 128 characters of A-Z a-z 0-9 _ + = , . @ -.',
        'layer_arn is "arn:aws:lambda:eu-west-1:111111111111:layer:lambda-svid"; expected a layer version ARN such as arn:aws:lambda:eu-west-1:111111111111:layer:lambda-svid:3.',
        "log_retention_days is 2; expected one of CloudWatch Logs' retention values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653.",
        'syncer.keywhiz_url is "https://user@keywhiz.example.org/?q"; expected an https:// URL, optionally with a path, without user, query or fragment.',
        "syncer.max_delete_percent is 150; expected a whole number from 0 to 100.",
        'syncer.keywhiz_ca_pem holds no "-----BEGIN CERTIFICATE-----"; expected the PEM roots of the Keywhiz server\'s certificate.',
        'syncer.opt_in is ["a,b"]; expected at least one Keywhiz secret name or glob, without commas or spaces.',
        'syncer.prefix is "key whiz/"; expected 1 to 256 characters of A-Z a-z 0-9 / _ + = . @ -.',
        'syncer.schedule is "hourly"; expected an EventBridge schedule expression, rate(...) or cron(...).',
        "syncer.recovery_window_days is 3; expected a whole number of days from 7 to 30.",
        'syncer.kms_key_arn is "arn:aws:kms:eu-west-1:111111111111:alias/x"; expected null or a KMS key ARN.',
        'syncer.function_name is "syncer.fn"; expected 1 to 64 characters of A-Z a-z 0-9 _ -.',
        "syncer.memory_size is 64 and syncer.timeout is 120; expected 128 to 10240 MB and 10 to 900 seconds.",
      ].sort(),
    );
  });

  it("never prints the ExternalId, which is checked where Terraform keeps it hidden", async () => {
    const badId = "not an external id!";
    const diagnostics = await plan({ ...goodInputs(), external_id: badId, layer_arn: "bad" });
    expect(diagnostics.map((d) => d.summary)).toEqual(["Invalid value for variable"]);
    expect(JSON.stringify(diagnostics)).not.toContain(badId);
  });
});
