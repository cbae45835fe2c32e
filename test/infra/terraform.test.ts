// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JavaScript templates
/**
 * The tenant module, checked without the AWS provider (which cannot be
 * downloaded here): parsed with hcl2json, its real templatefile() calls
 * rendered from infra/policies with sample inputs, and its syncer environment
 * fed to the syncer's own configuration reader.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadSyncerConfig } from "../../functions/syncer/config.ts";
import { TestCa } from "../support/ca.ts";
import { isWriteAction, list } from "../support/iam.ts";
import {
  attributes,
  evaluateAttribute,
  loadModule,
  type ModuleJson,
  type RenderedTemplate,
  renderTemplateCalls,
  repoPath,
  type Scope,
  type TfValue,
} from "../support/terraform.ts";

const MODULE_DIR = repoPath("infra/terraform/modules/tenant");
const EXAMPLE_DIR = join(MODULE_DIR, "examples/basic");
const POLICIES_DIR = repoPath("infra/policies");

const ACCOUNT = "222222222222";
const ISSUER_ROLE_ARN = "arn:aws:iam::111111111111:role/lambda-svid-issuer-worker-prod";
const EXTERNAL_ID = "lambda-svid-7f3a";
const KEY_ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/5b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e`;
const DEPLOYER_ARN = `arn:aws:iam::${ACCOUNT}:role/terraform-deploy`;
const OPERATOR_PRINCIPAL_ARN = "arn:aws:iam::111111111111:role/lambda-svid-operator";

/** Write actions AWS offers no resource-level permission for; their Resource can only be "*". */
const NO_RESOURCE_LEVEL = new Set(["xray:PutTraceSegments", "xray:PutTelemetryRecords"]);

/** Values of the data sources and resource attributes the module refers to. */
const WORLD: Record<string, TfValue> = {
  "data.aws_partition.current.partition": "aws",
  "data.aws_region.current.name": "eu-west-1",
  "data.aws_caller_identity.current.account_id": ACCOUNT,
  "data.aws_iam_session_context.current.issuer_arn": DEPLOYER_ARN,
  "aws_kms_key.tenant[0].arn": KEY_ARN,
};

let mod: ModuleJson;
let scope: Scope;
let rendered: RenderedTemplate[];

function renderedAt(address: string): RenderedTemplate {
  const found = rendered.find((r) => r.address === address);
  if (!found) throw new Error(`no templatefile() at ${address}`);
  return found;
}

beforeAll(async () => {
  mod = await loadModule(MODULE_DIR);
  const keywhizCa = await TestCa.root("keywhiz.example.org");
  scope = {
    dir: MODULE_DIR,
    module: mod,
    world: WORLD,
    inputs: {
      issuer_role_arn: ISSUER_ROLE_ARN,
      external_id: EXTERNAL_ID,
      layer_arn: "arn:aws:lambda:eu-west-1:111111111111:layer:lambda-svid:3",
      syncer: {
        artifact: { bucket: "lambda-svid-artifacts", key: "syncer/s.zip", version: "v1" },
        keywhiz_url: "https://keywhiz.example.org:4444",
        keywhiz_ca_pem: keywhizCa.root.certPem,
        opt_in: ["orders-db-*", "orders-api-key"],
        prefix: "keywhiz/",
        schedule: "rate(15 minutes)",
        recovery_window_days: 7,
        max_delete_percent: 25,
        kms_key_arn: null,
        function_name: "lambda-svid-syncer",
        memory_size: 256,
        timeout: 120,
      },
      operator_role: {
        trusted_principal_arn: OPERATOR_PRINCIPAL_ARN,
        name: "lambda-svid-operator",
      },
    },
  };
  rendered = await renderTemplateCalls(scope);
});

describe("tenant module", () => {
  it.each([
    ["module", MODULE_DIR],
    ["example", EXAMPLE_DIR],
  ])("%s: every variable has a description and a type", async (_, dir) => {
    const variables = Object.entries((await loadModule(dir)).variable ?? {}) as [
      string,
      Array<{ description?: string; type?: string }>,
    ][];
    expect(variables.length).toBeGreaterThan(0);
    for (const [name, [body]] of variables) {
      expect(body?.description?.trim(), `variable ${name}`).toBeTruthy();
      expect(body?.type, `variable ${name}`).toMatch(/^\$\{[\s\S]+\}$/);
    }
  });

  it("every output has a description", () => {
    const outputs = Object.entries(mod.output ?? {}) as [string, Array<{ description?: string }>][];
    expect(outputs.map(([name]) => name)).toEqual(
      expect.arrayContaining(["writer_role_arn", "svid_reader_policy_arn", "layer_arn"]),
    );
    for (const [name, [body]] of outputs)
      expect(body?.description?.trim(), `output ${name}`).toBeTruthy();
  });

  it("the basic example onboards a tenant in at most 24 lines, with every required input", async () => {
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

  it("takes every policy document from infra/policies through templatefile()", () => {
    expect(mod.data?.aws_iam_policy_document).toBeUndefined();
    const policyArgs = [...attributes(mod.resource, "resource")].filter(([address]) =>
      /\.(policy|assume_role_policy)$/.test(address),
    );
    expect(policyArgs.length).toBeGreaterThanOrEqual(6);
    for (const [address] of policyArgs) {
      const call = renderedAt(address);
      expect(call.file.startsWith(`${POLICIES_DIR}/`), address).toBe(true);
    }
    expect(rendered.map((r) => r.address).sort()).toEqual(
      policyArgs.map(([address]) => address).sort(),
    );
  });

  it("the writer role's trust names only the issuer role and requires the ExternalId", () => {
    const { doc } = renderedAt("resource.aws_iam_role.writer.assume_role_policy");
    expect(doc.Statement).toHaveLength(1);
    const [trust] = doc.Statement;
    expect(trust?.Effect).toBe("Allow");
    expect(list(trust?.Action)).toEqual(["sts:AssumeRole"]);
    expect(trust?.Principal).toEqual({ AWS: ISSUER_ROLE_ARN });
    expect(trust?.Condition).toEqual({ StringEquals: { "sts:ExternalId": EXTERNAL_ID } });
  });

  it("the operator role is trusted by the named central principal alone and may only invoke the syncer", () => {
    const trust = renderedAt("resource.aws_iam_role.operator.assume_role_policy").doc;
    expect(trust.Statement).toEqual([
      {
        Sid: "NamedCentralPrincipalOnly",
        Effect: "Allow",
        Principal: { AWS: OPERATOR_PRINCIPAL_ARN },
        Action: "sts:AssumeRole",
      },
    ]);
    const { doc } = renderedAt("resource.aws_iam_role_policy.operator.policy");
    expect(doc.Statement).toEqual([
      {
        Sid: "InvokeTheSyncerOnly",
        Effect: "Allow",
        Action: "lambda:InvokeFunction",
        Resource: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:lambda-svid-syncer`,
      },
    ]);
    const role = mod.resource.aws_iam_role.operator[0];
    expect(role.count).toBe("${var.operator_role == null ? 0 : 1}");
    expect(role.lifecycle[0].precondition[0].condition).toBe("${var.syncer != null}");
    expect(mod.output.operator_role_arn[0].value).toBe(
      "${var.operator_role == null ? null : aws_iam_role.operator[0].arn}",
    );
  });

  it("no identity policy allows a write action on every resource", () => {
    const identityPolicies = rendered.filter(
      (r) => !r.address.endsWith(".assume_role_policy") && !r.address.includes("aws_kms_key"),
    );
    expect(identityPolicies.map((r) => r.address).sort()).toEqual([
      "resource.aws_iam_policy.svid_reader.policy",
      "resource.aws_iam_role_policy.operator.policy",
      "resource.aws_iam_role_policy.syncer.policy",
      "resource.aws_iam_role_policy.writer.policy",
    ]);
    for (const { address, doc } of identityPolicies) {
      for (const s of doc.Statement.filter((st) => st.Effect === "Allow")) {
        expect(s.NotAction, address).toBeUndefined();
        expect(s.NotResource, address).toBeUndefined();
        for (const action of list(s.Action)) expect(action, address).not.toMatch(/[*?]/);
        if (!list(s.Resource).some((r) => r === "*")) continue;
        const writes = list(s.Action).filter((a) => isWriteAction(a) && !NO_RESOURCE_LEVEL.has(a));
        expect(writes, `${address} ${s.Sid}`).toEqual([]);
      }
    }
  });

  it("the KMS key policy lets the writer and syncer roles, and readers only decrypt, through Secrets Manager", () => {
    const { doc } = renderedAt("resource.aws_kms_key.tenant.policy");
    const root = `arn:aws:iam::${ACCOUNT}:root`;
    const usage = /^kms:(Encrypt|Decrypt|ReEncrypt|GenerateDataKey|CreateGrant)/;
    for (const s of doc.Statement) {
      expect(s.Effect).toBe("Allow");
      const principals = list((s.Principal as Record<string, string | string[]>).AWS);
      expect(principals).not.toContain("*");
      if (principals.includes(root)) {
        // Whole-account grants carry the service and the secret they are for.
        expect(s.Condition?.StringEquals?.["kms:ViaService"], s.Sid).toBe(
          "secretsmanager.eu-west-1.amazonaws.com",
        );
        expect(s.Condition?.StringLike?.["kms:EncryptionContext:SecretARN"], s.Sid).toBeTruthy();
      } else {
        expect(principals, s.Sid).toEqual([DEPLOYER_ARN]);
        expect(
          list(s.Action).filter((a) => usage.test(a)),
          s.Sid,
        ).toEqual([]);
      }
    }
    const roleOf = (sid: string | undefined) =>
      doc.Statement.find((s) => s.Sid === sid)?.Condition?.ArnEquals?.["aws:PrincipalArn"];
    const named = doc.Statement.map((s) => roleOf(s.Sid)).filter((r) => r !== undefined);
    expect(named.sort()).toEqual([
      `arn:aws:iam::${ACCOUNT}:role/lambda-svid-syncer`,
      `arn:aws:iam::${ACCOUNT}:role/lambda-svid-writer`,
    ]);
  });

  it("gives the syncer exactly the environment functions/syncer/config.ts reads", async () => {
    const fn = mod.resource.aws_lambda_function.syncer[0];
    const variables = fn.environment[0].variables as Record<string, unknown>;
    const env: Record<string, string> = {};
    for (const [name, raw] of Object.entries(variables))
      env[name] = String(await evaluateAttribute(scope, raw));
    const read = new Set<string>();
    const recording = new Proxy(env, {
      get: (target, key) => {
        if (typeof key === "string") read.add(key);
        return target[key as string];
      },
    });
    const config = loadSyncerConfig(recording);
    expect([...read].sort()).toEqual(Object.keys(env).sort());
    expect(config.keywhizUrl.href).toBe("https://keywhiz.example.org:4444/");
    expect(config.prefix).toBe("keywhiz/");
    expect(config.kmsKeyId).toBe(KEY_ARN);
    expect(config.svidSecretName).toBe("lambda-svid/svid");
    expect(config.optIn.size).toBe(2);
    expect(config.recoveryWindowDays).toBe(7);
    expect(config.maxDeletePercent).toBe(25);
    expect(fn.handler).toBe("index.handler");
    expect(fn.runtime).toBe("nodejs22.x");
  });
});
