// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are CloudFormation Fn::Sub text
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
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

const resource = (id: string): Resource => {
  const r = template.Resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  return r;
};
const ofType = (type: string) =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const source = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");

describe("npm run package (offline, no AWS credentials, AWS endpoints closed)", () => {
  it("deploys the issuer on nodejs22.x arm64, one run at a time, sized for a full run", () => {
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

  it("sets exactly variables the issuer reads, the ExternalId as a Secrets Manager reference", () => {
    const env = (
      resource("IssuerLambdaFunction").Properties.Environment as {
        Variables: Record<string, string>;
      }
    ).Variables;
    // The issuer's own settings, and the SVID secret name the contract's one reader reads for it.
    const read = new Set(
      ["functions/issuer/config.ts", "layers/svid-secret/name.ts"].flatMap(
        (file) => source(file).match(/LAMBDA_SVID_[A-Z_]+/g) ?? [],
      ),
    );
    for (const name of Object.keys(env).filter((n) => n.startsWith("LAMBDA_SVID_")))
      expect(read).toContain(name);
    expect(env).toMatchObject({
      LAMBDA_SVID_TRUST_DOMAIN: "example.org",
      LAMBDA_SVID_CA: `acm-pca:${EXAMPLE_PARAMS.caArn}`,
      LAMBDA_SVID_EXTERNAL_ID: "{{resolve:secretsmanager:lambda-svid/external-id:SecretString}}",
      LAMBDA_SVID_SECRET_FORMAT: "string",
    });
  });

  it("runs on an hourly schedule and on the lambda-svid.reissue event", () => {
    const rules = ofType("AWS::Events::Rule").map(([, r]) => r.Properties);
    expect(rules.map((r) => r.ScheduleExpression ?? r.EventPattern)).toEqual(
      expect.arrayContaining(["rate(60 minutes)", { "detail-type": ["lambda-svid.reissue"] }]),
    );
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

  it("gives the issuer role the rendered infra/policies documents, nothing more", () => {
    const role = resource("IssuerRole").Properties;
    expect(role.AssumeRolePolicyDocument).toEqual(
      cloudFormationPolicy(PolicyTemplate.LAMBDA_TRUST, {}),
    );
    expect(role.Policies).toEqual([
      {
        PolicyName: "lambda-svid-issuer",
        PolicyDocument: cloudFormationPolicy(PolicyTemplate.ISSUER, {
          ...PSEUDO_PARAMETERS,
          management_account_id: EXAMPLE_PARAMS.managementAccountId as string,
          org_id: EXAMPLE_PARAMS.orgId as string,
          ca_arn: EXAMPLE_PARAMS.caArn as string,
          template_arn: "arn:${AWS::Partition}:acm-pca:::template/EndEntityCertificate/V1",
          writer_role_name: "lambda-svid-writer",
          failure_queue_arn: "${IssuerFailureQueue.Arn}",
          function_name: "lambda-svid-issuer-test",
        }),
      },
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
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
      "MinSecondsToExpiry",
      "RegistryEntriesInvalid",
      "RunDeadlineReached",
      "SvidsFailed",
      "SvidsIssued",
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
    // No completed run (one SvidsIssued sample each) in two hourly periods.
    expect(alarms.SvidsIssued).toMatchObject({
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
