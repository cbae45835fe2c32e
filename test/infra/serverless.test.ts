// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are CloudFormation Fn::Sub text
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ISSUER_CATALOGUE } from "../../functions/issuer/config.ts";
import { cloudFormationPolicy, PSEUDO_PARAMETERS } from "../../infra/policies/cloudformation.ts";
import { PolicyTemplate } from "../../infra/policies/render.ts";
import { syncerArtifact } from "../../infra/serverless/artifacts.ts";
import { FUNCTION_ZIPS } from "../../scripts/build.ts";
import { EXAMPLE_PARAMS, packageOffline, paramArgs } from "../../scripts/package.ts";

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}
type Environment = { Variables: Record<string, unknown> };
interface Template {
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: unknown }>;
}

let template: Template;
let distDir: string;

/** Packages into temporary directories, so nothing else's dist/ is touched. */
async function packageWith(params: Record<string, string>, outDir: string, build = false) {
  return packageOffline(["--stage", "test", ...paramArgs(params)], {
    distDir,
    packageDir: outDir,
    output: "pipe",
    build,
  });
}

beforeAll(async () => {
  distDir = await mkdtemp(join(tmpdir(), "lambda-svid-dist-"));
  const out = await mkdtemp(join(tmpdir(), "lambda-svid-package-"));
  const { code, output } = await packageWith({ ...EXAMPLE_PARAMS }, out, true);
  expect(output).toContain("Service packaged");
  expect(code).toBe(0);
  template = JSON.parse(
    readFileSync(join(out, "cloudformation-template-update-stack.json"), "utf8"),
  ) as Template;
}, 180_000);

/** Packages with example parameters and `params` over them, without building again. */
async function templateWith(params: Record<string, string>): Promise<Template> {
  const out = await mkdtemp(join(tmpdir(), "lambda-svid-package-"));
  const { code, output } = await packageWith({ ...EXAMPLE_PARAMS, ...params }, out);
  expect(output).toContain("Service packaged");
  expect(code).toBe(0);
  return JSON.parse(
    readFileSync(join(out, "cloudformation-template-update-stack.json"), "utf8"),
  ) as Template;
}

const resource = (id: string, from: Template = template): Resource => {
  const r = from.Resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  return r;
};
const ofType = (type: string, from: Template = template) =>
  Object.entries(from.Resources).filter(([, r]) => r.Type === type);
const environment = (fn: string) => (resource(fn).Properties.Environment as Environment).Variables;
const source = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");

/** Markdown files the documentation is in: the README, docs/, and each folder's README under infra/ and cli/. */
function documentation(): string[] {
  const repo = new URL("../../", import.meta.url);
  const under = (dir: string) =>
    readdirSync(new URL(dir, repo), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".md"))
      .map((f) => `${dir}${f}`);
  return ["README.md", ...under("docs/"), ...under("infra/"), ...under("cli/")];
}

describe("npm run package (offline, no AWS credentials, AWS endpoints closed)", () => {
  it("has every stack output the documentation tells operators to read", () => {
    const named = new Map<string, string>();
    for (const file of documentation())
      for (const [, name] of source(file).matchAll(/\boutputs? `?([A-Z][A-Za-z0-9]+)\b/g))
        named.set(name as string, file);
    expect(named.size).toBeGreaterThan(3);
    for (const [name, file] of named)
      expect(template.Outputs, `${name} in ${file}`).toHaveProperty(name);
  });

  it("deploys the planner on nodejs22.x arm64, one run at a time", () => {
    const fn = resource("IssuerLambdaFunction").Properties;
    expect(fn).toMatchObject({
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      Handler: "index.handler",
      Timeout: 900,
      MemorySize: 512,
      ReservedConcurrentExecutions: 1,
      Role: { "Fn::GetAtt": ["IssuerRole", "Arn"] },
    });
    expect((fn.Code as { S3Key: string }).S3Key).toMatch(/\/lambda-svid-issuer\.zip$/);
  });

  it("sets on each function only variables that function reads, the ExternalId as a Secrets Manager reference", () => {
    // Everything the issuer's code reads is in its catalogue (the SVID secret name by its shared declaration).
    const issuer = new Set(ISSUER_CATALOGUE.variables.map((v) => v.name));
    // Read by signing, tenant writes and dead-lettering alone: the planner's role can do none of them.
    const workersOnly = [
      "LAMBDA_SVID_CA",
      "LAMBDA_SVID_WRITER_ROLE",
      "LAMBDA_SVID_EXTERNAL_ID",
      "LAMBDA_SVID_DEAD_LETTER_QUEUE_URL",
      "LAMBDA_SVID_MAX_RECEIVES",
      "LAMBDA_SVID_WORKERS",
    ];
    for (const name of workersOnly) expect(issuer).toContain(name);
    const reads = {
      IssuerLambdaFunction: new Set([...issuer].filter((n) => !workersOnly.includes(n))),
      IssuerWorkerLambdaFunction: issuer,
    };
    for (const [fn, read] of Object.entries(reads)) {
      const env = environment(fn);
      for (const name of Object.keys(env).filter((n) => n.startsWith("LAMBDA_SVID_")))
        expect(read, `${fn} ${name}`).toContain(name);
      expect(env, fn).toMatchObject({
        LAMBDA_SVID_TRUST_DOMAIN: "example.org",
        LAMBDA_SVID_SECRET_FORMAT: "string",
        LAMBDA_SVID_STATE_TABLE: { Ref: "IssuerStateTable" },
      });
    }
    expect(environment("IssuerWorkerLambdaFunction")).toMatchObject({
      LAMBDA_SVID_CA: `acm-pca:${EXAMPLE_PARAMS.caArn}`,
      LAMBDA_SVID_WRITER_ROLE: "lambda-svid-writer",
      LAMBDA_SVID_EXTERNAL_ID: "{{resolve:secretsmanager:lambda-svid/external-id:SecretString}}",
    });
    expect(Object.keys(environment("IssuerLambdaFunction")).sort()).toEqual([
      "LAMBDA_SVID_KMS_KEY_ID",
      "LAMBDA_SVID_REGISTRY",
      "LAMBDA_SVID_SECRET_FORMAT",
      "LAMBDA_SVID_SECRET_NAME",
      "LAMBDA_SVID_STATE_TABLE",
      "LAMBDA_SVID_TRUST_DOMAIN",
      "LAMBDA_SVID_WORK_QUEUE_URL",
      "POWERTOOLS_LOG_LEVEL",
    ]);
  });

  it("names the work queue to the planner and the workers, the dead-letter queue to the workers", () => {
    const planner = environment("IssuerLambdaFunction");
    expect(planner.LAMBDA_SVID_WORK_QUEUE_URL).toEqual({ Ref: "IssuerWorkQueue" });
    expect(planner).not.toHaveProperty("LAMBDA_SVID_DEAD_LETTER_QUEUE_URL");
    const worker = environment("IssuerWorkerLambdaFunction");
    expect(Object.keys(worker).sort()).toEqual([
      "LAMBDA_SVID_CA",
      "LAMBDA_SVID_DEAD_LETTER_QUEUE_URL",
      "LAMBDA_SVID_EXTERNAL_ID",
      "LAMBDA_SVID_KMS_KEY_ID",
      "LAMBDA_SVID_MAX_RECEIVES",
      "LAMBDA_SVID_SECRET_FORMAT",
      "LAMBDA_SVID_SECRET_NAME",
      "LAMBDA_SVID_STATE_TABLE",
      "LAMBDA_SVID_TRUST_DOMAIN",
      "LAMBDA_SVID_WORKERS",
      "LAMBDA_SVID_WORK_QUEUE_URL",
      "LAMBDA_SVID_WRITER_ROLE",
      "POWERTOOLS_LOG_LEVEL",
    ]);
    expect(worker).toMatchObject({
      LAMBDA_SVID_DEAD_LETTER_QUEUE_URL: { Ref: "IssuerDeadLetterQueue" },
      LAMBDA_SVID_MAX_RECEIVES: "3",
      LAMBDA_SVID_WORKERS: "2",
      LAMBDA_SVID_WORK_QUEUE_URL: { Ref: "IssuerWorkQueue" },
    });
  });

  it("deploys the worker from the same zip, on its own role, at most `workers` at once", () => {
    const fn = resource("IssuerWorkerLambdaFunction").Properties;
    expect(fn).toMatchObject({
      FunctionName: "lambda-svid-issuer-worker-test",
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      Handler: "index.worker",
      Timeout: 900,
      MemorySize: 512,
      ReservedConcurrentExecutions: 2,
      Role: { "Fn::GetAtt": ["IssuerWorkerRole", "Arn"] },
    });
    expect((fn.Code as { S3Key: string }).S3Key).toBe(
      (resource("IssuerLambdaFunction").Properties.Code as { S3Key: string }).S3Key,
    );
  });

  it("feeds the worker from the work queue in batches, reporting failed items alone", () => {
    expect(ofType("AWS::Lambda::EventSourceMapping").map(([, r]) => r.Properties)).toEqual([
      {
        EventSourceArn: { "Fn::GetAtt": ["IssuerWorkQueue", "Arn"] },
        FunctionName: { "Fn::GetAtt": ["IssuerWorkerLambdaFunction", "Arn"] },
        BatchSize: 1000,
        MaximumBatchingWindowInSeconds: 5,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
        ScalingConfig: { MaximumConcurrency: 2 },
        Enabled: true,
      },
    ]);
  });

  it("keeps the state table on demand, recoverable, encrypted, and when the stack goes", () => {
    const table = resource("IssuerStateTable");
    expect(table).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
    expect(table.Properties).toEqual({
      TableName: "lambda-svid-issuer-state-test",
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it("hides a message from other workers for six worker timeouts and dead-letters it one receive after the workers would", () => {
    const workerTimeout = resource("IssuerWorkerLambdaFunction").Properties.Timeout as number;
    expect(resource("IssuerWorkQueue").Properties).toEqual({
      QueueName: "lambda-svid-issuer-work-test",
      VisibilityTimeout: 6 * workerTimeout,
      MessageRetentionPeriod: 4 * 86_400,
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: { "Fn::GetAtt": ["IssuerDeadLetterQueue", "Arn"] },
        maxReceiveCount: 3 + 1,
      },
    });
    expect(resource("IssuerDeadLetterQueue").Properties).toEqual({
      QueueName: "lambda-svid-issuer-dead-letter-test",
      MessageRetentionPeriod: 14 * 86_400,
      SqsManagedSseEnabled: true,
    });
  });

  it("follows the workers and maxReceives parameters everywhere they go", async () => {
    const custom = await templateWith({ workers: "7", maxReceives: "5" });
    const worker = resource("IssuerWorkerLambdaFunction", custom).Properties;
    expect(worker.ReservedConcurrentExecutions).toBe(7);
    expect((worker.Environment as Environment).Variables).toMatchObject({
      LAMBDA_SVID_WORKERS: "7",
      LAMBDA_SVID_MAX_RECEIVES: "5",
    });
    expect(
      ofType("AWS::Lambda::EventSourceMapping", custom).map(([, r]) => r.Properties.ScalingConfig),
    ).toEqual([{ MaximumConcurrency: 7 }]);
    expect(resource("IssuerWorkQueue", custom).Properties.RedrivePolicy).toMatchObject({
      maxReceiveCount: 6,
    });
  }, 60_000);

  it("plans on an hourly schedule, on the lambda-svid.reissue event and on Organizations account changes", () => {
    const rules = ofType("AWS::Events::Rule").map(([, r]) => r.Properties);
    expect(rules.map((r) => r.ScheduleExpression ?? r.EventPattern)).toEqual([
      "rate(60 minutes)",
      { "detail-type": ["lambda-svid.reissue"] },
      {
        source: ["aws.organizations"],
        "detail-type": ["AWS API Call via CloudTrail", "AWS Service Event via CloudTrail"],
        detail: {
          eventSource: ["organizations.amazonaws.com"],
          eventName: [
            "TagResource",
            "UntagResource",
            "CreateAccount",
            "CreateAccountResult",
            "AcceptHandshake",
            "InviteAccountToOrganization",
            "RemoveAccountFromOrganization",
            "CloseAccount",
            "MoveAccount",
          ],
        },
      },
    ]);
    for (const rule of rules)
      expect(rule.Targets).toEqual([
        expect.objectContaining({ Arn: { "Fn::GetAtt": ["IssuerLambdaFunction", "Arn"] } }),
      ]);
  });

  it("sends failed invocations to the failure queue and keeps logs for 90 days", () => {
    expect(resource("IssuerLambdaEvConf").Properties.DestinationConfig).toEqual({
      OnFailure: { Destination: { "Fn::GetAtt": ["IssuerFailureQueue", "Arn"] } },
    });
    expect(resource("IssuerLogGroup").Properties.RetentionInDays).toBe(90);
  });

  it("gives the planner and the worker roles their rendered infra/policies documents, nothing more", () => {
    const planner = resource("IssuerRole").Properties;
    const worker = resource("IssuerWorkerRole").Properties;
    for (const role of [planner, worker]) {
      expect(role.AssumeRolePolicyDocument).toEqual(
        cloudFormationPolicy(PolicyTemplate.LAMBDA_TRUST, {}),
      );
      expect(role.ManagedPolicyArns).toBeUndefined();
    }
    expect(planner.Policies).toEqual([
      {
        PolicyName: "lambda-svid-issuer",
        PolicyDocument: cloudFormationPolicy(PolicyTemplate.ISSUER, {
          ...PSEUDO_PARAMETERS,
          management_account_id: EXAMPLE_PARAMS.managementAccountId as string,
          org_id: EXAMPLE_PARAMS.orgId as string,
          state_table_arn: "${IssuerStateTable.Arn}",
          work_queue_arn: "${IssuerWorkQueue.Arn}",
          failure_queue_arn: "${IssuerFailureQueue.Arn}",
          function_name: "lambda-svid-issuer-test",
        }),
      },
    ]);
    expect(worker.Policies).toEqual([
      {
        PolicyName: "lambda-svid-issuer-worker",
        PolicyDocument: cloudFormationPolicy(PolicyTemplate.ISSUER_WORKER, {
          ...PSEUDO_PARAMETERS,
          org_id: EXAMPLE_PARAMS.orgId as string,
          ca_arn: EXAMPLE_PARAMS.caArn as string,
          template_arn: "arn:${AWS::Partition}:acm-pca:::template/EndEntityCertificate/V1",
          writer_role_name: "lambda-svid-writer",
          state_table_arn: "${IssuerStateTable.Arn}",
          work_queue_arn: "${IssuerWorkQueue.Arn}",
          dead_letter_queue_arn: "${IssuerDeadLetterQueue.Arn}",
          function_name: "lambda-svid-issuer-worker-test",
        }),
      },
    ]);
    // The tenant writer roles trust the worker role: it is what the stack hands them.
    expect(template.Outputs.IssuerWorkerRoleArn?.Value).toEqual({
      "Fn::GetAtt": ["IssuerWorkerRole", "Arn"],
    });
    expect(template.Outputs).not.toHaveProperty("IssuerRoleArn");
  });

  it("lets the management account forward Organizations events onto the default bus, nothing else", () => {
    const [{ Sid, ...statement }] = cloudFormationPolicy(PolicyTemplate.ORGANIZATIONS_EVENTS, {
      ...PSEUDO_PARAMETERS,
      management_account_id: EXAMPLE_PARAMS.managementAccountId as string,
    }).Statement as [Record<string, unknown>];
    expect(ofType("AWS::Events::EventBusPolicy").map(([, r]) => r.Properties)).toEqual([
      { EventBusName: "default", StatementId: Sid, Statement: statement },
    ]);
  });

  it("alarms on any dead-lettered identity and on work waiting over two hours", () => {
    const onQueues = Object.fromEntries(
      ofType("AWS::CloudWatch::Alarm")
        .map(([, r]) => r.Properties)
        .filter((p) => p.Namespace === "AWS/SQS")
        .map((p) => [
          `${(p.Dimensions as [{ Value: { "Fn::GetAtt": [string] } }])[0].Value["Fn::GetAtt"][0]} ${p.MetricName}`,
          p,
        ]),
    );
    expect(Object.keys(onQueues).sort()).toEqual([
      "IssuerDeadLetterQueue ApproximateNumberOfMessagesVisible",
      "IssuerFailureQueue ApproximateNumberOfMessagesVisible",
      "IssuerWorkQueue ApproximateAgeOfOldestMessage",
    ]);
    for (const alarm of Object.values(onQueues))
      expect(alarm).toMatchObject({
        Statistic: "Maximum",
        ComparisonOperator: "GreaterThanThreshold",
        AlarmActions: [{ Ref: "AlarmTopic" }],
      });
    expect(onQueues["IssuerDeadLetterQueue ApproximateNumberOfMessagesVisible"]?.Threshold).toBe(0);
    expect(onQueues["IssuerWorkQueue ApproximateAgeOfOldestMessage"]?.Threshold).toBe(2 * 3600);
  });

  it("alarms on the metrics the issuer emits, in its namespace and service dimension", () => {
    const handler = source("functions/issuer/handler.ts");
    const namespace = /namespace: "([^"]+)"/.exec(handler)?.[1];
    const service = /const SERVICE = "([^"]+)"/.exec(handler)?.[1];
    const emitted = new Set(
      [...source("functions/issuer/report.ts").matchAll(/addMetric\("(\w+)"/g)].map((m) => m[1]),
    );
    const alarms = Object.fromEntries(
      ofType("AWS::CloudWatch::Alarm")
        .map(([, r]) => r.Properties)
        .filter((p) => p.Namespace === "LambdaSvid")
        .map((p) => [p.MetricName as string, p]),
    );
    expect(Object.keys(alarms).sort()).toEqual([
      "IdentitiesQueued",
      "MinSecondsToExpiry",
      "RegistryEntriesInvalid",
      "RunDeadlineReached",
      "SvidsFailed",
    ]);
    for (const [metric, alarm] of Object.entries(alarms)) {
      expect(emitted).toContain(metric);
      expect(alarm.Namespace).toBe(namespace);
      expect(alarm.Dimensions).toEqual([{ Name: "service", Value: service }]);
    }
    expect(alarms.MinSecondsToExpiry).toMatchObject({
      Statistic: "Minimum",
      Threshold: 21600,
      ComparisonOperator: "LessThanThreshold",
    });
    // No completed planner run (one IdentitiesQueued sample each) in two hourly periods.
    expect(alarms.IdentitiesQueued).toMatchObject({
      Statistic: "SampleCount",
      Period: 7200,
      Threshold: 1,
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
    });
    expect(alarms.SvidsFailed).toMatchObject({ ComparisonOperator: "GreaterThanThreshold" });
    expect(alarms.RunDeadlineReached).toMatchObject({
      Statistic: "Maximum",
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
    });
  });

  it("publishes the layer for nodejs22.x and nodejs24.x on both architectures, to the Organization only", () => {
    const [[id, layer], ...more] = ofType("AWS::Lambda::LayerVersion") as [[string, Resource]];
    expect(more).toEqual([]);
    expect(layer.Properties).toMatchObject({
      CompatibleRuntimes: ["nodejs22.x", "nodejs24.x"],
      CompatibleArchitectures: ["arm64", "x86_64"],
    });
    expect(layer).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
    expect(ofType("AWS::Lambda::LayerVersionPermission").map(([, r]) => r)).toEqual([
      {
        Type: "AWS::Lambda::LayerVersionPermission",
        DeletionPolicy: "Retain",
        UpdateReplacePolicy: "Retain",
        Properties: {
          LayerVersionArn: { Ref: id },
          Action: "lambda:GetLayerVersion",
          Principal: "*",
          OrganizationId: EXAMPLE_PARAMS.orgId,
        },
      },
    ]);
  });

  it("keeps the syncer artifact in a versioned, encrypted, private bucket the Organization reads", async () => {
    const bucket = resource("ArtifactBucket");
    expect(bucket.DeletionPolicy).toBe("Retain");
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: "Enabled" },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    expect(resource("ArtifactBucketPolicy").Properties.PolicyDocument).toEqual(
      cloudFormationPolicy(PolicyTemplate.ARTIFACT_BUCKET, {
        partition: PSEUDO_PARAMETERS.partition,
        bucket_name: "${ArtifactBucket}",
        org_id: EXAMPLE_PARAMS.orgId as string,
      }),
    );
    const artifact = await syncerArtifact(join(distDir, FUNCTION_ZIPS.syncer));
    expect(template.Outputs.SyncerArtifactKey?.Value).toBe(artifact.key);
    expect(artifact.key).toMatch(/^syncer\/lambda-svid-syncer-\d+\.\d+\.\d+-[0-9a-f]{12}\.zip$/);
  });

  it.each([
    [
      "orgId",
      "example",
      'config: param:orgId is "example"; expected an Organization ID such as o-a1b2c3d4e5',
    ],
    [
      "caArn",
      "arn:aws:kms:eu-west-1:111111111111:key/x",
      'config: param:caArn is "arn:aws:kms:eu-west-1:111111111111:key/x"; expected the ARN of an AWS Private CA',
    ],
    [
      "scheduleMinutes",
      "1440",
      'config: param:scheduleMinutes is "1440"; expected at most 720 minutes',
    ],
    // An SQS event source's maximum concurrency is at least 2.
    ["workers", "1", 'config: param:workers is "1"; expected a whole number from 2 to 100'],
    ["maxReceives", "0", 'config: param:maxReceives is "0"; expected a whole number from 1 to 20'],
  ])(
    "refuses a bad %s, naming it",
    async (name, value, message) => {
      const out = await mkdtemp(join(tmpdir(), "lambda-svid-package-"));
      const { code, output } = await packageWith({ ...EXAMPLE_PARAMS, [name]: value }, out);
      expect(code).not.toBe(0);
      expect(output).toContain(message);
    },
    60_000,
  );
});
