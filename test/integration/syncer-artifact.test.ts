import { randomUUID } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudFormationClient, CreateStackCommand } from "@aws-sdk/client-cloudformation";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import {
  ArtifactError,
  artifactBucketOf,
  publishArtifact,
  syncerArtifact,
} from "../../infra/serverless/artifacts.ts";

// The emulator serves every bucket on one host, so bucket names go in the path.
const s3 = new S3Client({ forcePathStyle: true });

async function versionedBucket(): Promise<string> {
  const bucket = `lambda-svid-artifacts-${randomUUID().slice(0, 8)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: "Enabled" },
    }),
  );
  return bucket;
}

async function zipFile(content: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), "lambda-svid-artifact-")), "syncer.zip");
  await writeFile(file, content);
  return file;
}

describe("syncer artifact publishing (S3 and CloudFormation on the emulator)", () => {
  it("uploads a release once under its content key, and a changed build under a new key", async () => {
    const bucket = await versionedBucket();
    const first = await syncerArtifact(await zipFile("build one"), "1.2.3");
    expect(first.key).toBe(`syncer/lambda-svid-syncer-1.2.3-${first.sha256.slice(0, 12)}.zip`);

    const uploaded = await publishArtifact(s3, bucket, first);
    expect(uploaded.uploaded).toBe(true);
    expect(uploaded.versionId).toBeTruthy();
    const again = await publishArtifact(s3, bucket, first);
    expect(again).toEqual({ uploaded: false, versionId: uploaded.versionId });

    const second = await syncerArtifact(await zipFile("build two"), "1.2.3");
    expect(second.key).not.toBe(first.key);
    expect((await publishArtifact(s3, bucket, second)).uploaded).toBe(true);

    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect((versions.Versions ?? []).map((v) => v.Key).sort()).toEqual(
      [first.key, second.key].sort(),
    );
    const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: first.key }));
    expect(await body.Body?.transformToString()).toBe("build one");
  });

  it("uploads over an object at its key that it did not publish, keeping that version", async () => {
    const bucket = await versionedBucket();
    const artifact = await syncerArtifact(await zipFile("the real build"), "1.2.3");
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: artifact.key, Body: "by hand" }));
    expect((await publishArtifact(s3, bucket, artifact)).uploaded).toBe(true);
    const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: artifact.key }));
    expect(await body.Body?.transformToString()).toBe("the real build");
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect(versions.Versions).toHaveLength(2);
  });

  it("refuses a missing zip with what to do", async () => {
    const missing = join(tmpdir(), `no-such-${randomUUID()}.zip`);
    await expect(syncerArtifact(missing, "1.2.3")).rejects.toThrow(
      new ArtifactError(`${missing} is missing; run npm run build first`),
    );
  });

  it("finds the artifact bucket in the deployed stack's outputs", async () => {
    const cloudFormation = new CloudFormationClient({});
    const stackName = `lambda-svid-${randomUUID().slice(0, 8)}`;
    const template = {
      Resources: { ArtifactBucket: { Type: "AWS::S3::Bucket" } },
      Outputs: { ArtifactBucketName: { Value: { Ref: "ArtifactBucket" } } },
    };
    await cloudFormation.send(
      new CreateStackCommand({ StackName: stackName, TemplateBody: JSON.stringify(template) }),
    );
    const bucket = await artifactBucketOf(cloudFormation, stackName);
    expect(bucket).toMatch(/artifactbucket/i);

    const bare = `lambda-svid-bare-${randomUUID().slice(0, 8)}`;
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: bare,
        TemplateBody: JSON.stringify({ Resources: template.Resources }),
      }),
    );
    await expect(artifactBucketOf(cloudFormation, bare)).rejects.toThrow(
      new ArtifactError(`stack ${bare} has no output ArtifactBucketName`),
    );
  });
});
