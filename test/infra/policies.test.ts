// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform template text, not JavaScript templates
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type PolicyDocument,
  PolicyError,
  PolicyReason,
  type PolicyStatement,
  PolicyTemplate,
  renderPolicy,
  renderPolicyText,
  templatePlaceholders,
} from "../../infra/policies/render.ts";
import { thrown } from "../support/thrown.ts";

const CA_ARN =
  "arn:aws:acm-pca:eu-west-1:111111111111:certificate-authority/0e2b8f4c-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
const TEMPLATE_ARN = "arn:aws:acm-pca:::template/EndEntityCertificate/V1";
const ISSUER_ROLE_ARN = "arn:aws:iam::111111111111:role/lambda-svid-issuer-worker";
const STATE_TABLE_ARN = "arn:aws:dynamodb:eu-west-1:111111111111:table/lambda-svid-issuer-state";
const WORK_QUEUE_ARN = "arn:aws:sqs:eu-west-1:111111111111:lambda-svid-issuer-work";
const DEAD_LETTER_QUEUE_ARN = "arn:aws:sqs:eu-west-1:111111111111:lambda-svid-issuer-dead-letter";
const FAILURE_QUEUE_ARN = "arn:aws:sqs:eu-west-1:111111111111:lambda-svid-issuer-failures";
const KEY_ARN = "arn:aws:kms:eu-west-1:222222222222:key/5b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e";
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:222222222222:secret:lambda-svid/svid-??????";

/** Example values for every placeholder any template uses. */
const VALUES: Record<string, string> = {
  partition: "aws",
  region: "eu-west-1",
  account_id: "222222222222",
  management_account_id: "000000000000",
  issuer_account_id: "111111111111",
  org_id: "o-exampleorg1",
  ca_arn: CA_ARN,
  template_arn: TEMPLATE_ARN,
  writer_role_name: "lambda-svid-writer",
  failure_queue_arn: FAILURE_QUEUE_ARN,
  state_table_arn: STATE_TABLE_ARN,
  work_queue_arn: WORK_QUEUE_ARN,
  dead_letter_queue_arn: DEAD_LETTER_QUEUE_ARN,
  function_name: "lambda-svid-fn",
  issuer_role_arn: ISSUER_ROLE_ARN,
  operator_principal_arn: "arn:aws:iam::111111111111:role/lambda-svid-operator",
  external_id: "lambda-svid-7f3a",
  secret_name: "lambda-svid/svid",
  kms_key_arn: KEY_ARN,
  sync_prefix: "keywhiz/",
  sync_kms_key_arn: KEY_ARN,
  bucket_name: "lambda-svid-artifacts",
  administrator_arn: "arn:aws:iam::222222222222:role/platform-admin",
  syncer_role_name: "lambda-svid-syncer",
  ingress_role_arn: "arn:aws:iam::111111111111:role/lambda-svid-ingress",
  execution_arn: "arn:aws:execute-api:eu-west-1:222222222222:a1b2c3d4e5",
  stage: "prod",
  method: "GET",
  resource_path: "/orders/",
  function_arn: "arn:aws:lambda:eu-west-1:222222222222:function:orders",
  object_prefix: "orders-site/site/",
  bucket: "orders-site",
  key_prefix: "site/",
};

function render(template: PolicyTemplate): PolicyDocument {
  const values = Object.fromEntries(templatePlaceholders(template).map((n) => [n, VALUES[n]]));
  return renderPolicy(template, values as Record<string, string>);
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];
const allows = (doc: PolicyDocument): PolicyStatement[] =>
  doc.Statement.filter((s) => s.Effect === "Allow");
const allowedActions = (doc: PolicyDocument): string[] =>
  allows(doc)
    .flatMap((s) => list(s.Action))
    .sort();
const statementsFor = (doc: PolicyDocument, action: string): PolicyStatement[] =>
  allows(doc).filter((s) => list(s.Action).includes(action));

/** Read-only actions by their verb; everything else counts as a write. */
const READ_VERB = /^[a-z0-9-]+:(Get|List|Describe)[A-Za-z]*$/;
/** Actions AWS offers no resource-level permission for, so their Resource can only be "*", and why. */
const NO_RESOURCE_LEVEL: Readonly<Record<string, string>> = {
  "organizations:ListAccounts": "lists the whole Organization; IAM defines no resource type for it",
  "xray:PutTraceSegments": "X-Ray defines no resource type for writing segments",
  "xray:PutTelemetryRecords": "X-Ray defines no resource type for writing telemetry",
};
const noResourceLevel = (action: string) => Object.hasOwn(NO_RESOURCE_LEVEL, action);

const SDK_SERVICE: Record<string, string> = {
  "@aws-sdk/client-organizations": "organizations",
  "@aws-sdk/client-acm-pca": "acm-pca",
  "@aws-sdk/client-secrets-manager": "secretsmanager",
  "@aws-sdk/client-sts": "sts",
  "@aws-sdk/client-dynamodb": "dynamodb",
  "@aws-sdk/client-sqs": "sqs",
  "@aws-sdk/client-lambda": "lambda",
};
/** Calls IAM authorizes as another action: a batch as the action it batches. */
const AUTHORIZED_AS: Readonly<Record<string, string>> = {
  "sqs:SendMessageBatch": "sqs:SendMessage",
  "lambda:Invoke": "lambda:InvokeFunction",
};

/** The IAM actions the given source files send, from the `new XCommand(` calls and their imports. */
function actionsCalledIn(...files: string[]): string[] {
  const actions = new Set<string>();
  for (const file of files) {
    const source = readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");
    for (const [, names, from] of source.matchAll(/import\s*{([^}]*)}\s*from\s*"([^"]+)"/g)) {
      const service = SDK_SERVICE[from as string];
      if (service === undefined) continue;
      for (const raw of (names as string).split(",")) {
        const name = raw.replace(/^\s*type\s+/, "").trim();
        if (name.endsWith("Command") && source.includes(`new ${name}(`)) {
          const action = `${service}:${name.slice(0, -"Command".length)}`;
          actions.add(AUTHORIZED_AS[action] ?? action);
        }
        // The SDK waiter polls GetCertificate.
        if (name === "waitUntilCertificateIssued") actions.add("acm-pca:GetCertificate");
      }
    }
  }
  return [...actions].sort();
}

describe("policy templates", () => {
  it("are exactly the JSON files in infra/policies", () => {
    const files = readdirSync(new URL("../../infra/policies/", import.meta.url))
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -".json".length))
      .sort();
    expect(files).toEqual(Object.values(PolicyTemplate).sort());
  });

  it.each(Object.values(PolicyTemplate))("%s renders into a policy document", (template) => {
    const doc = render(template);
    expect(doc.Version).toBe("2012-10-17");
    expect(JSON.stringify(doc)).not.toContain("${");
  });

  it.each(Object.values(PolicyTemplate))(
    "%s allows no write action, and no action wildcard, on every resource",
    (template) => {
      // In a resource policy (one with principals) "*" is the resource it is attached to.
      for (const s of allows(render(template)).filter((s) => s.Principal === undefined)) {
        for (const action of list(s.Action)) expect(action).not.toMatch(/[*?]/);
        expect(s.NotAction).toBeUndefined();
        expect(s.NotResource).toBeUndefined();
        if (!list(s.Resource).includes("*")) continue;
        for (const action of list(s.Action)) {
          if (!noResourceLevel(action)) expect(action).toMatch(READ_VERB);
        }
      }
    },
  );
});

describe("resource policies", () => {
  it.each(Object.values(PolicyTemplate))(
    "%s allows anyone only inside the Organization",
    (template) => {
      for (const s of allows(render(template))) {
        const principals = s.Principal === "*" ? ["*"] : Object.values(s.Principal ?? {}).flat();
        if (!principals.includes("*")) continue;
        expect(s.Condition?.StringEquals?.["aws:PrincipalOrgID"]).toBe("o-exampleorg1");
      }
    },
  );
});

/**
 * The issuer's two roles name a resource in every statement; "*" only for the
 * actions IAM has no resource type for ({@link NO_RESOURCE_LEVEL} says why),
 * in a statement whose Sid says so.
 */
function expectResourcesNamed(doc: PolicyDocument) {
  for (const s of allows(doc)) {
    if (!list(s.Resource).includes("*")) continue;
    expect(list(s.Resource), s.Sid).toEqual(["*"]);
    expect(s.Sid).toMatch(/NoResourceLevelPermissions$/);
    for (const action of list(s.Action))
      expect(noResourceLevel(action), `${action} on "*"`).toBe(true);
  }
}

describe("issuer planner role policy", () => {
  const doc = render(PolicyTemplate.ISSUER);

  it("allows exactly the registry reads, the state table, the work and failure queues, logs and traces", () => {
    expect(allowedActions(doc)).toEqual([
      "dynamodb:BatchWriteItem",
      "dynamodb:Scan",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "organizations:DescribeAccount",
      "organizations:ListAccounts",
      "organizations:ListTagsForResource",
      // One statement for the work queue, one for the failure queue.
      "sqs:SendMessage",
      "sqs:SendMessage",
      "xray:PutTelemetryRecords",
      "xray:PutTraceSegments",
    ]);
    const called = actionsCalledIn("functions/issuer/registry/organizations.ts");
    expect(called).toContain("organizations:ListTagsForResource");
    for (const action of called) expect(allowedActions(doc)).toContain(action);
  });

  it("never touches the CA or a tenant account", () => {
    for (const action of allowedActions(doc)) expect(action).not.toMatch(/^(acm-pca|sts):/);
  });

  it("names its resource in every statement", () => expectResourcesNamed(doc));

  it("reads only the Organization's accounts", () => {
    for (const action of ["DescribeAccount", "ListTagsForResource"])
      expect(statementsFor(doc, `organizations:${action}`).map((s) => s.Resource)).toEqual([
        "arn:aws:organizations::000000000000:account/o-exampleorg1/*",
      ]);
  });

  it("scans and writes only the state table, and sends only to the work and failure queues", () => {
    for (const action of ["dynamodb:Scan", "dynamodb:BatchWriteItem"])
      expect(statementsFor(doc, action).map((s) => s.Resource)).toEqual([STATE_TABLE_ARN]);
    expect(statementsFor(doc, "sqs:SendMessage").map((s) => s.Resource)).toEqual([
      WORK_QUEUE_ARN,
      FAILURE_QUEUE_ARN,
    ]);
  });
});

describe("issuer worker role policy", () => {
  const doc = render(PolicyTemplate.ISSUER_WORKER);

  it("allows exactly the CA, the tenant writer role, the state table, the queues, logs and traces", () => {
    expect(allowedActions(doc)).toEqual([
      "acm-pca:DescribeCertificateAuthority",
      "acm-pca:GetCertificate",
      "acm-pca:GetCertificateAuthorityCertificate",
      "acm-pca:IssueCertificate",
      "dynamodb:BatchWriteItem",
      "dynamodb:GetItem",
      "dynamodb:UpdateItem",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
      "sts:AssumeRole",
      "xray:PutTelemetryRecords",
      "xray:PutTraceSegments",
    ]);
    // What the CA adapter, the tenant session and the shared issue rate send in the central
    // account (Secrets Manager calls go through the writer role and are the writer policy's).
    const called = actionsCalledIn(
      "functions/issuer/ca/acm-pca.ts",
      "functions/issuer/tenant.ts",
      "functions/issuer/rate.ts",
    );
    expect(called).toContain("acm-pca:IssueCertificate");
    for (const action of called.filter((a) => !a.startsWith("secretsmanager:")))
      expect(allowedActions(doc)).toContain(action);
  });

  it("never reads the Organization", () => {
    for (const action of allowedActions(doc)) expect(action).not.toMatch(/^organizations:/);
  });

  it("names its resource in every statement", () => expectResourcesNamed(doc));

  it("issues only on the configured CA and only with the end-entity template", () => {
    const [issue, ...more] = statementsFor(doc, "acm-pca:IssueCertificate");
    expect(more).toEqual([]);
    expect(issue?.Resource).toBe(CA_ARN);
    expect(issue?.Condition).toEqual({ StringEquals: { "acm-pca:TemplateArn": TEMPLATE_ARN } });
    for (const action of allowedActions(doc).filter((a) => a.startsWith("acm-pca:")))
      for (const s of statementsFor(doc, action)) expect(s.Resource).toBe(CA_ARN);
  });

  it("assumes only the writer role name, only inside the Organization", () => {
    const [assume, ...more] = statementsFor(doc, "sts:AssumeRole");
    expect(more).toEqual([]);
    expect(assume?.Resource).toBe("arn:aws:iam::*:role/lambda-svid-writer");
    expect(assume?.Condition).toEqual({
      StringEquals: { "aws:ResourceOrgID": "o-exampleorg1" },
    });
  });

  it("writes only the state table, receives only from the work queue, sends only to the dead-letter queue", () => {
    expect(statementsFor(doc, "dynamodb:BatchWriteItem").map((s) => s.Resource)).toEqual([
      STATE_TABLE_ARN,
    ]);
    // The shared IssueCertificate rate: the worker reads and moves only the `#rate` items.
    for (const action of ["dynamodb:GetItem", "dynamodb:UpdateItem"])
      expect(statementsFor(doc, action)).toEqual([
        expect.objectContaining({
          Resource: STATE_TABLE_ARN,
          Condition: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": ["#rate"] } },
        }),
      ]);
    for (const action of [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ChangeMessageVisibility",
    ])
      expect(statementsFor(doc, action).map((s) => s.Resource)).toEqual([WORK_QUEUE_ARN]);
    expect(statementsFor(doc, "sqs:SendMessage").map((s) => s.Resource)).toEqual([
      DEAD_LETTER_QUEUE_ARN,
    ]);
  });
});

describe("issuer planner and worker policies together", () => {
  it("allow every call the issuer sends in the central account", () => {
    const allowed = new Set([
      ...allowedActions(render(PolicyTemplate.ISSUER)),
      ...allowedActions(render(PolicyTemplate.ISSUER_WORKER)),
    ]);
    // Secrets Manager calls go through the tenant writer role; the writer policy's test has them.
    const called = actionsCalledIn(
      "functions/issuer/ca/acm-pca.ts",
      "functions/issuer/registry/organizations.ts",
      "functions/issuer/tenant.ts",
      "functions/issuer/store.ts",
      "functions/issuer/queue.ts",
    ).filter((a) => !a.startsWith("secretsmanager:"));
    expect(called).toEqual(
      expect.arrayContaining(["dynamodb:BatchWriteItem", "dynamodb:Scan", "sqs:SendMessage"]),
    );
    for (const action of called) expect(allowed).toContain(action);
  });
});

describe("Organizations events bus policy", () => {
  it("lets only the management account put only Organizations events on this account's default bus", () => {
    expect(render(PolicyTemplate.ORGANIZATIONS_EVENTS).Statement).toEqual([
      {
        Sid: "ManagementAccountForwardsOrganizationsEvents",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::000000000000:root" },
        Action: "events:PutEvents",
        Resource: "arn:aws:events:eu-west-1:222222222222:event-bus/default",
        Condition: { StringEquals: { "events:source": "aws.organizations" } },
      },
    ]);
  });
});

describe("tenant writer role", () => {
  it("is trusted by the issuer worker role alone, and only with the ExternalId", () => {
    const trust = render(PolicyTemplate.WRITER_TRUST);
    expect(trust.Statement).toEqual([
      {
        Sid: "IssuerWithExternalIdOnly",
        Effect: "Allow",
        Principal: { AWS: ISSUER_ROLE_ARN },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "sts:ExternalId": "lambda-svid-7f3a" } },
      },
    ]);
  });

  it("may describe, create, put, update, tag, untag and restore the SVID secret and use its key, nothing else", () => {
    const doc = render(PolicyTemplate.WRITER);
    const called = actionsCalledIn("functions/issuer/tenant.ts", "lib/secrets/owned.ts").filter(
      (a) => a.startsWith("secretsmanager:"),
    );
    expect(allowedActions(doc)).toEqual([...called, "kms:Decrypt", "kms:GenerateDataKey"].sort());
    for (const s of allows(doc)) {
      const resources = list(s.Resource);
      const action = list(s.Action)[0];
      // Describing a secret that does not exist yet is judged against its name's ARN, without the suffix.
      const expected = action?.startsWith("kms:")
        ? [KEY_ARN]
        : action === "secretsmanager:DescribeSecret"
          ? [SECRET_ARN, SECRET_ARN.replace(/-\?{6}$/, "")]
          : [SECRET_ARN];
      expect(resources).toEqual(expected);
    }
    const owned = { "secretsmanager:ResourceTag/lambda-svid:owner": "lambda-svid-issuer" };
    for (const action of [
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecret",
      "secretsmanager:RestoreSecret",
    ])
      expect(statementsFor(doc, action)[0]?.Condition).toEqual({ StringEquals: owned });
    // Untagging the owner tag would hand the secret over; only the retired not-after tag goes.
    expect(statementsFor(doc, "secretsmanager:UntagResource")[0]?.Condition).toEqual({
      StringEquals: owned,
      "ForAllValues:StringEquals": { "aws:TagKeys": ["lambda-svid:not-after"] },
    });
  });
});

describe("tenant operator role", () => {
  it("is trusted by the one named central principal alone", () => {
    expect(render(PolicyTemplate.OPERATOR_TRUST).Statement).toEqual([
      {
        Sid: "NamedCentralPrincipalOnly",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::111111111111:role/lambda-svid-operator" },
        Action: "sts:AssumeRole",
      },
    ]);
  });

  it("may invoke the syncer only: what lambda-svid sync sends in the tenant account, no secret", () => {
    const doc = render(PolicyTemplate.OPERATOR);
    // sync assumes the role with the central credentials (sts, not this policy), then only invokes.
    expect(actionsCalledIn("cli/commands/sync.ts", "cli/invoke.ts")).toEqual([
      "lambda:InvokeFunction",
      "sts:AssumeRole",
    ]);
    expect(doc.Statement).toEqual([
      {
        Sid: "InvokeTheSyncerOnly",
        Effect: "Allow",
        Action: "lambda:InvokeFunction",
        Resource: "arn:aws:lambda:eu-west-1:222222222222:function:lambda-svid-fn",
      },
    ]);
  });
});

describe("SVID reader managed policy", () => {
  it("reads the SVID secret and decrypts it through Secrets Manager, nothing else", () => {
    const doc = render(PolicyTemplate.SVID_READER);
    expect(allowedActions(doc)).toEqual(
      [...actionsCalledIn("layers/svid-secret/source.ts"), "kms:Decrypt"].sort(),
    );
    expect(statementsFor(doc, "secretsmanager:GetSecretValue")[0]?.Resource).toBe(SECRET_ARN);
    expect(statementsFor(doc, "kms:Decrypt")[0]).toMatchObject({
      Resource: KEY_ARN,
      Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
    });
  });
});

describe("syncer role policy", () => {
  const doc = render(PolicyTemplate.SYNCER);

  it("allows exactly what the syncer sends, plus its key use, logs and traces", () => {
    // The shared owned-secret writer sends UpdateSecret and UntagResource only when asked
    // (describeEachVersion, retiredTags), which the issuer does and the syncer does not.
    const issuerOnly = ["secretsmanager:UntagResource", "secretsmanager:UpdateSecret"];
    expect(
      readFileSync(new URL("../../functions/syncer/mirror.ts", import.meta.url), "utf8"),
    ).not.toMatch(/describeEachVersion|retiredTags/);
    const called = actionsCalledIn(
      "functions/syncer/mirror.ts",
      "lib/secrets/owned.ts",
      "layers/svid-secret/source.ts",
    ).filter((a) => !issuerOnly.includes(a));
    expect(allowedActions(doc)).toEqual(
      [
        ...called,
        // A second GetSecretValue: the syncer's content key, besides the SVID.
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ].sort(),
    );
  });

  it("writes only under its prefix, and changes only secrets it owns", () => {
    const prefixArn = "arn:aws:secretsmanager:eu-west-1:222222222222:secret:keywhiz/*";
    for (const action of ["CreateSecret", "TagResource", "PutSecretValue", "RestoreSecret"])
      for (const s of statementsFor(doc, `secretsmanager:${action}`))
        expect(s.Resource).toBe(prefixArn);
    for (const action of ["PutSecretValue", "RestoreSecret", "DeleteSecret"])
      expect(statementsFor(doc, `secretsmanager:${action}`)[0]?.Condition).toEqual({
        StringEquals: { "secretsmanager:ResourceTag/lambda-svid:owner": "lambda-svid-syncer" },
      });
    const [svid, key, ...more] = statementsFor(doc, "secretsmanager:GetSecretValue");
    expect(svid?.Resource).toBe(SECRET_ARN);
    expect(more).toEqual([]);
    expect(key).toMatchObject({
      Resource:
        "arn:aws:secretsmanager:eu-west-1:222222222222:secret:keywhiz/.lambda-svid-sync-key-??????",
      Condition: {
        StringEquals: { "secretsmanager:ResourceTag/lambda-svid:owner": "lambda-svid-syncer" },
      },
    });
  });
});

describe("artifact bucket policy", () => {
  it("lets only principals of the Organization read, and refuses plain HTTP", () => {
    const doc = render(PolicyTemplate.ARTIFACT_BUCKET);
    const [read, ...more] = allows(doc);
    expect(more).toEqual([]);
    expect(read?.Action).toEqual(["s3:GetObject", "s3:GetObjectVersion"]);
    expect(read?.Condition).toEqual({ StringEquals: { "aws:PrincipalOrgID": "o-exampleorg1" } });
    const deny = doc.Statement.find((s) => s.Effect === "Deny");
    expect(deny?.Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
    expect(deny?.Resource).toEqual([
      "arn:aws:s3:::lambda-svid-artifacts",
      "arn:aws:s3:::lambda-svid-artifacts/*",
    ]);
  });
});

describe("ingress backend roles", () => {
  it("are trusted by the ingress's role alone", () => {
    expect(render(PolicyTemplate.INGRESS_BACKEND_TRUST).Statement).toEqual([
      {
        Sid: "IngressRoleOnly",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::111111111111:role/lambda-svid-ingress" },
        Action: "sts:AssumeRole",
      },
    ]);
  });

  it.each([
    [
      PolicyTemplate.INGRESS_BACKEND_EXECUTE_API,
      [
        [
          "execute-api:Invoke",
          "arn:aws:execute-api:eu-west-1:222222222222:a1b2c3d4e5/prod/GET/orders/*",
        ],
      ],
    ],
    [
      PolicyTemplate.INGRESS_BACKEND_LAMBDA_URL,
      [
        ["lambda:InvokeFunctionUrl", "arn:aws:lambda:eu-west-1:222222222222:function:orders"],
        ["lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:222222222222:function:orders"],
      ],
    ],
    [PolicyTemplate.INGRESS_BACKEND_S3, [["s3:GetObject", "arn:aws:s3:::orders-site/site/*"]]],
    [PolicyTemplate.INGRESS_BACKEND_S3_LIST, [["s3:ListBucket", "arn:aws:s3:::orders-site"]]],
  ])("%s grants one action per statement on the one backend it names", (template, expected) => {
    const rows = allows(render(template)).map((s) => [list(s.Action), list(s.Resource)]);
    expect(rows).toEqual(expected.map(([action, resource]) => [[action], [resource]]));
  });

  it("reach a function only through its IAM-authenticated URL, and list a bucket only under the prefix", () => {
    const url = render(PolicyTemplate.INGRESS_BACKEND_LAMBDA_URL);
    expect(statementsFor(url, "lambda:InvokeFunctionUrl")[0]?.Condition).toEqual({
      StringEquals: { "lambda:FunctionUrlAuthType": "AWS_IAM" },
    });
    expect(statementsFor(url, "lambda:InvokeFunction")[0]?.Condition).toEqual({
      Bool: { "lambda:InvokedViaFunctionUrl": "true" },
    });
    expect(
      statementsFor(render(PolicyTemplate.INGRESS_BACKEND_S3_LIST), "s3:ListBucket")[0]?.Condition,
    ).toEqual({ StringLike: { "s3:prefix": "site/*" } });
  });
});

describe("renderPolicy", () => {
  const trustValues = { issuer_role_arn: ISSUER_ROLE_ARN, external_id: "lambda-svid-7f3a" };

  it("lists a template's placeholders", () => {
    expect(templatePlaceholders(PolicyTemplate.WRITER_TRUST)).toEqual([
      "external_id",
      "issuer_role_arn",
    ]);
  });

  it("refuses a placeholder without a value, naming it", () => {
    const err = thrown(
      () => renderPolicy(PolicyTemplate.WRITER_TRUST, { issuer_role_arn: ISSUER_ROLE_ARN }),
      PolicyError,
    );
    expect(err.reason).toBe(PolicyReason.MISSING_VALUE);
    expect(err.message).toBe('policies: placeholder has no value: writer-trust: "external_id"');
  });

  it("refuses a value for a placeholder the template does not have, naming it", () => {
    const err = thrown(
      () => renderPolicy(PolicyTemplate.WRITER_TRUST, { ...trustValues, externalId: "x" }),
      PolicyError,
    );
    expect(err.reason).toBe(PolicyReason.UNKNOWN_VALUE);
    expect(err.message).toBe(
      'policies: value given for a placeholder the template does not have: writer-trust: "externalId"; expected one of external_id, issuer_role_arn',
    );
  });

  it.each([
    ["a wildcard", "*", 'contains "*"'],
    ["a quote", 'a"b', 'contains "\\""'],
    ["nothing", "", "is empty"],
    ["multi-line", "a\nb", 'contains "\\n"'],
  ])("refuses a value that is %s, without echoing it", (_, value, problem) => {
    const err = thrown(
      () => renderPolicy(PolicyTemplate.WRITER_TRUST, { ...trustValues, issuer_role_arn: value }),
      PolicyError,
    );
    expect(err.reason).toBe(PolicyReason.BAD_VALUE);
    expect(err.message).toBe(
      `policies: value cannot go into a policy: writer-trust: "issuer_role_arn" ${problem}; expected non-empty printable ASCII without quotes, backslashes or wildcards`,
    );
  });

  it("refuses an unknown template", () => {
    const err = thrown(() => renderPolicy("admin" as PolicyTemplate, {}), PolicyError);
    expect(err.reason).toBe(PolicyReason.UNKNOWN_TEMPLATE);
    expect(err.message).toMatch(
      /^policies: no such policy template: "admin"; expected one of issuer, /,
    );
  });

  it("reads $${ as a literal ${, as Terraform does", () => {
    const doc = renderPolicyText(
      "inline",
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:${partition}:s3:::b/$${aws:username}/*"}]}',
      { partition: "aws" },
    );
    expect(doc.Statement[0]?.Resource).toBe("arn:aws:s3:::b/${aws:username}/*");
  });

  it.each([
    [
      "an expression placeholder",
      '{"a":"${aws:username}"}',
      '"${aws:username}" is not a ${name} placeholder',
    ],
    [
      "a directive",
      '{"a":"%{ if x }y%{ endif }"}',
      "template directives (%{...}) are not supported",
    ],
    [
      "no policy document",
      '{"Version":"2012-10-17","Statement":[]}',
      'expected Version "2012-10-17" and a non-empty Statement list',
    ],
    ["not JSON", '{"Version":', "not JSON after substitution"],
  ])("refuses a template with %s", (_, text, detail) => {
    const err = thrown(() => renderPolicyText("inline", text, {}), PolicyError);
    expect(err.reason).toBe(PolicyReason.MALFORMED_TEMPLATE);
    expect(err.message).toBe(`policies: template is malformed: inline: ${detail}`);
  });
});
