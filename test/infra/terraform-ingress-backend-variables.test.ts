/**
 * The ingress-backend module's input validation, run by the real Terraform
 * (1.5.7, built into .cache/ by scripts/go-tools.ts). Validation blocks need
 * no provider, so the module's own variables.tf is planned alone, in a scratch
 * directory, with good and with bad inputs.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureGoTools, INFRA_TOOLS } from "../../scripts/go-tools.ts";
import { repoPath } from "../support/terraform.ts";

const run = promisify(execFile);

/** A cold build of Terraform takes minutes; `npm test` builds it before the tests run. */
const BUILD_TIMEOUT_MS = 30 * 60_000;

let terraform: string;
let dir: string;

/** Plans variables.tf with the given inputs; returns the first line of each diagnostic's detail. */
async function plan(inputs: Record<string, unknown>): Promise<string[]> {
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
    .map((line) => (JSON.parse(line) as { diagnostic: { detail: string } }).diagnostic)
    .map((d) => d.detail.split("\n")[0] as string)
    .sort();
}

const route = (backend: Record<string, unknown>) => ({
  role_name: "lambda-svid-ingress-orders",
  ingress_role_arn: "arn:aws:iam::111111111111:role/lambda-svid-ingress",
  backend,
});

beforeAll(async () => {
  ({ terraform } = await ensureGoTools({ terraform: INFRA_TOOLS.terraform }));
  dir = mkdtempSync(join(tmpdir(), "lambda-svid-tf-ingress-"));
  copyFileSync(
    repoPath("infra/terraform/modules/ingress-backend/variables.tf"),
    join(dir, "variables.tf"),
  );
  await run(terraform, ["init", "-input=false", "-backend=false"], { cwd: dir });
}, BUILD_TIMEOUT_MS);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("ingress-backend module inputs", () => {
  it.each([
    [
      "execute_api",
      {
        execute_api: {
          execution_arn: "arn:aws:execute-api:eu-west-1:222222222222:a1b2c3d4e5",
          stage: "prod",
          methods: ["GET", "POST"],
          resource_path: "/orders/",
        },
      },
    ],
    [
      "lambda_function_url",
      {
        lambda_function_url: {
          function_arn: "arn:aws:lambda:eu-west-1:222222222222:function:orders",
        },
      },
    ],
    ["s3, whole bucket", { s3: { bucket: "orders-site" } }],
    ["s3, listed prefix", { s3: { bucket: "orders-site", prefix: "site/", list: true } }],
  ])("accepts one backend: %s", async (_, backend) => {
    expect(await plan(route(backend))).toEqual([]);
  });

  it.each([
    ["none", {}, "[]"],
    [
      "two",
      {
        s3: { bucket: "orders-site" },
        lambda_function_url: {
          function_arn: "arn:aws:lambda:eu-west-1:222222222222:function:orders",
        },
      },
      '["lambda_function_url","s3"]',
    ],
  ])("refuses %s backends", async (_, backend, named) => {
    expect(await plan(route(backend))).toEqual([
      `backend sets ${named}; expected exactly one of execute_api, lambda_function_url and s3.`,
    ]);
  });

  it("refuses each bad value with a message naming it and what was expected", async () => {
    const inputs = {
      role_name: "ingress role",
      ingress_role_arn: "arn:aws:iam::1111:role/ingress",
      max_session_duration: 900,
      permissions_boundary_arn: "arn:aws:iam::111111111111:role/boundary",
      backend: {
        execute_api: {
          execution_arn: "arn:aws:execute-api:eu-west-1:222222222222:a1b2c3d4e5/prod",
          stage: "prod stage",
          methods: ["GET", "GET", "ANY"],
          resource_path: "/orders/*",
        },
      },
    };
    expect(await plan(inputs)).toEqual(
      [
        'role_name is "ingress role"; expected an IAM role name, 1 to 64 characters of A-Z a-z 0-9 _ + = , . @ -.',
        'ingress_role_arn is "arn:aws:iam::1111:role/ingress"; expected an IAM role ARN such as arn:aws:iam::111111111111:role/lambda-svid-ingress.',
        "max_session_duration is 900; expected a whole number of seconds from 3600 to 43200.",
        'permissions_boundary_arn is "arn:aws:iam::111111111111:role/boundary"; expected null or an IAM policy ARN.',
        'backend.execute_api.execution_arn is "arn:aws:execute-api:eu-west-1:222222222222:a1b2c3d4e5/prod"; expected an API\'s execution ARN such as arn:aws:execute-api:eu-west-1:111111111111:a1b2c3d4e5.',
        'backend.execute_api.stage is "prod stage"; expected a stage name, 1 to 128 characters of A-Z a-z 0-9 _ -.',
        'backend.execute_api.methods is ["GET","GET","ANY"]; expected at least one of GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS, each once.',
        'backend.execute_api.resource_path is "/orders/*"; expected a path prefix that starts with /, without wildcards, quotes or spaces, such as / or /orders/.',
      ].sort(),
    );
    expect(
      await plan(
        route({
          lambda_function_url: {
            function_arn: "arn:aws:lambda:eu-west-1:222222222222:function:orders:live:1",
          },
        }),
      ),
    ).toEqual([
      'backend.lambda_function_url.function_arn is "arn:aws:lambda:eu-west-1:222222222222:function:orders:live:1"; expected a function ARN, with the URL\'s alias if any, such as arn:aws:lambda:eu-west-1:111111111111:function:orders or ...:function:orders:live.',
    ]);
    expect(await plan(route({ s3: { bucket: "Orders_Site", prefix: "/site/*" } }))).toEqual([
      'backend.s3.bucket is "Orders_Site"; expected an S3 bucket name, 3 to 63 characters of a-z 0-9 . -.',
      'backend.s3.prefix is "/site/*"; expected a key prefix of printable ASCII without * ? " \\ and not starting with /, such as site/ ("" for the whole bucket).',
    ]);
    expect(await plan(route({ s3: { bucket: "orders-site", list: true } }))).toEqual([
      "backend.s3.list is true with an empty prefix; expected a prefix, which limits the ListBucket grant (s3:prefix), or list = false.",
    ]);
  });
});
