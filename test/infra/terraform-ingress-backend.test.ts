// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JavaScript templates
/**
 * The ingress-backend module, checked without the AWS provider (which cannot
 * be downloaded here): parsed with hcl2json, and its real templatefile()
 * calls rendered from infra/policies for each kind of backend, so that each
 * rendering is seen to trust the ingress's role alone and to grant exactly one
 * backend.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { PolicyDocument } from "../../infra/policies/render.ts";
import { list } from "../support/iam.ts";
import {
  attributes,
  evaluateAttribute,
  loadModule,
  type ModuleJson,
  type RenderedTemplate,
  renderTemplateCalls,
  repoPath,
  type TfValue,
} from "../support/terraform.ts";

const MODULE_DIR = repoPath("infra/terraform/modules/ingress-backend");
const EXAMPLE_DIR = join(MODULE_DIR, "examples/basic");
const POLICIES_DIR = repoPath("infra/policies");

const INGRESS_ROLE_ARN = "arn:aws:iam::111111111111:role/lambda-svid-ingress";
const EXECUTION_ARN = "arn:aws:execute-api:eu-west-1:222222222222:a1b2c3d4e5";
const FUNCTION_ARN = "arn:aws:lambda:eu-west-1:222222222222:function:orders:live";
const TRUST = "resource.aws_iam_role.backend.assume_role_policy";

/** Values of the data sources the module refers to. */
const WORLD: Record<string, TfValue> = { "data.aws_partition.current.partition": "aws" };

/** The `backend` input as Terraform hands it to the module: every optional attribute present. */
function backend(set: Record<string, TfValue>): TfValue {
  return { execute_api: null, lambda_function_url: null, s3: null, ...set };
}

let mod: ModuleJson;

async function render(backendInput: TfValue): Promise<Map<string, RenderedTemplate>> {
  const rendered = await renderTemplateCalls({
    dir: MODULE_DIR,
    module: mod,
    world: WORLD,
    inputs: {
      role_name: "lambda-svid-ingress-orders",
      ingress_role_arn: INGRESS_ROLE_ARN,
      backend: backendInput,
    },
  });
  return new Map(rendered.map((r) => [r.address, r]));
}

/** Every Allow statement of the identity policies, as [action, resource, condition] rows. */
function grants(rendered: Map<string, RenderedTemplate>): unknown[] {
  return [...rendered.values()]
    .filter((r) => r.address !== TRUST)
    .flatMap(({ doc }: { doc: PolicyDocument }) =>
      doc.Statement.flatMap((s) => {
        expect(s.Effect).toBe("Allow");
        expect(s.NotAction).toBeUndefined();
        expect(s.NotResource).toBeUndefined();
        return list(s.Action).flatMap((a) =>
          list(s.Resource).map((r) => [a, r, s.Condition ?? null]),
        );
      }),
    );
}

beforeAll(async () => {
  mod = await loadModule(MODULE_DIR);
});

describe("ingress-backend module", () => {
  it.each([
    ["module", MODULE_DIR],
    ["example", EXAMPLE_DIR],
  ])("%s: every variable has a description and a type", async (_, dir) => {
    const variables = Object.entries((await loadModule(dir)).variable ?? {}) as [
      string,
      Array<{ description?: string; type?: string }>,
    ][];
    for (const [name, [body]] of variables) {
      expect(body?.description?.trim(), `variable ${name}`).toBeTruthy();
      expect(body?.type, `variable ${name}`).toMatch(/^\$\{[\s\S]+\}$/);
    }
  });

  it("every output has a description", () => {
    const outputs = Object.entries(mod.output ?? {}) as [string, Array<{ description?: string }>][];
    expect(outputs.map(([name]) => name).sort()).toEqual(["kind", "role_arn", "role_name"]);
    for (const [name, [body]] of outputs)
      expect(body?.description?.trim(), `output ${name}`).toBeTruthy();
  });

  it("the basic example makes one route's role in at most 24 lines, with every required input", async () => {
    const text = readFileSync(join(EXAMPLE_DIR, "main.tf"), "utf8");
    expect(text.trimEnd().split("\n").length).toBeLessThanOrEqual(24);
    const example = await loadModule(EXAMPLE_DIR);
    const calls = Object.values(example.module ?? {}).flat() as Array<Record<string, unknown>>;
    expect(calls).toHaveLength(1);
    const { source, ...args } = calls[0] as Record<string, unknown>;
    expect(source).toBe("../..");
    const declared = mod.variable as Record<string, Array<Record<string, unknown>>>;
    const required = Object.keys(declared).filter((n) => !("default" in (declared[n]?.[0] ?? {})));
    expect(Object.keys(args).sort()).toEqual(expect.arrayContaining(required.sort()));
    for (const name of Object.keys(args)) expect(declared, `input ${name}`).toHaveProperty(name);
  });

  it("takes every policy document from infra/policies through templatefile()", async () => {
    expect(mod.data?.aws_iam_policy_document).toBeUndefined();
    const policyArgs = [...attributes(mod.resource, "resource")].filter(([address]) =>
      /\.(policy|assume_role_policy)$/.test(address),
    );
    expect(policyArgs).toHaveLength(5);
    for (const [, raw] of policyArgs)
      expect(raw).toMatch(
        /^\$\{templatefile\("\$\{local\.policies\}\/ingress-backend-[a-z0-9-]+\.json"/,
      );
    const rendered = await render(backend({ s3: { bucket: "b", prefix: "p/", list: true } }));
    for (const { file } of rendered.values())
      expect(file.startsWith(`${POLICIES_DIR}/`)).toBe(true);
  });

  it.each([
    [
      "execute_api",
      backend({
        execute_api: {
          execution_arn: EXECUTION_ARN,
          stage: "prod",
          methods: ["GET"],
          resource_path: "/",
        },
      }),
    ],
    ["lambda_function_url", backend({ lambda_function_url: { function_arn: FUNCTION_ARN } })],
    ["s3", backend({ s3: { bucket: "orders-site", prefix: "", list: false } })],
  ])("%s: the role trusts the ingress's role alone, for AssumeRole only", async (_, input) => {
    const trust = (await render(input)).get(TRUST);
    expect(trust?.doc.Statement).toEqual([
      {
        Sid: "IngressRoleOnly",
        Effect: "Allow",
        Principal: { AWS: INGRESS_ROLE_ARN },
        Action: "sts:AssumeRole",
      },
    ]);
  });

  it("execute_api: Invoke on the one API and stage, per method, under the path prefix", async () => {
    const rendered = await render(
      backend({
        execute_api: {
          execution_arn: EXECUTION_ARN,
          stage: "prod",
          methods: ["GET", "POST", "GET"],
          resource_path: "/orders/",
        },
      }),
    );
    expect([...rendered.keys()].sort()).toEqual([
      TRUST,
      'resource.aws_iam_role_policy.execute_api["GET"].policy',
      'resource.aws_iam_role_policy.execute_api["POST"].policy',
    ]);
    expect(grants(rendered)).toEqual([
      ["execute-api:Invoke", `${EXECUTION_ARN}/prod/GET/orders/*`, null],
      ["execute-api:Invoke", `${EXECUTION_ARN}/prod/POST/orders/*`, null],
    ]);
  });

  it("lambda_function_url: the one function through its IAM-authenticated URL only", async () => {
    const rendered = await render(backend({ lambda_function_url: { function_arn: FUNCTION_ARN } }));
    expect([...rendered.keys()].sort()).toEqual([
      TRUST,
      "resource.aws_iam_role_policy.lambda_function_url.policy",
    ]);
    expect(grants(rendered)).toEqual([
      [
        "lambda:InvokeFunctionUrl",
        FUNCTION_ARN,
        { StringEquals: { "lambda:FunctionUrlAuthType": "AWS_IAM" } },
      ],
      ["lambda:InvokeFunction", FUNCTION_ARN, { Bool: { "lambda:InvokedViaFunctionUrl": "true" } }],
    ]);
  });

  it.each([
    ["the whole bucket", "", false, []],
    ["a prefix", "site/", false, []],
    [
      "a prefix, listed",
      "site/",
      true,
      [["s3:ListBucket", "arn:aws:s3:::orders-site", { StringLike: { "s3:prefix": "site/*" } }]],
    ],
  ])("s3, %s: GetObject in the one bucket under the prefix", async (_, prefix, listed, more) => {
    const rendered = await render(backend({ s3: { bucket: "orders-site", prefix, list: listed } }));
    expect(grants(rendered)).toEqual([
      ["s3:GetObject", `arn:aws:s3:::orders-site/${prefix}*`, null],
      ...more,
    ]);
  });

  it("names the route file's kind for each backend", async () => {
    const kind = mod.locals.find((l: Record<string, unknown>) => "kind" in l).kind;
    const scope = (b: TfValue) => ({
      dir: MODULE_DIR,
      module: mod,
      world: WORLD,
      inputs: { backend: b },
    });
    expect(await evaluateAttribute(scope(backend({ execute_api: {} })), kind)).toBe("execute-api");
    expect(await evaluateAttribute(scope(backend({ lambda_function_url: {} })), kind)).toBe(
      "lambda",
    );
    expect(await evaluateAttribute(scope(backend({ s3: {} })), kind)).toBe("s3");
  });
});
