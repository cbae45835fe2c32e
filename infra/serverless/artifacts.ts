/**
 * The syncer's deployment package as tenant accounts get it: one object per
 * release in the central stack's artifact bucket, under a key that names the
 * version and the content, so a tenant pins exactly what it runs and a new
 * build never replaces an old one in place.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { HeadObjectCommand, NotFound, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { FUNCTION_ZIPS } from "../../scripts/build.ts";

const REPO = new URL("../../", import.meta.url);

/** The stack output that names the artifact bucket (see serverless.yml). */
export const ARTIFACT_BUCKET_OUTPUT = "ArtifactBucketName";

/** Raised when the artifact cannot be found or published; the message says what to do. */
export class ArtifactError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`artifacts: ${message}`, options);
    this.name = "ArtifactError";
  }
}

/** A built zip and where it goes in the bucket. */
export interface Artifact {
  file: string;
  key: string;
  /** Hex SHA-256 of the zip. */
  sha256: string;
}

/**
 * The syncer zip of `npm run build` and its key,
 * `syncer/lambda-svid-syncer-<version>-<first 12 hex of its SHA-256>.zip`.
 *
 * @throws {ArtifactError} when the zip has not been built.
 *
 * @example
 * const { key } = await syncerArtifact(); // "syncer/lambda-svid-syncer-0.1.0-3f9a0c1b2d4e.zip"
 */
export async function syncerArtifact(
  file: string = join(distDir(), FUNCTION_ZIPS.syncer),
  version?: string,
): Promise<Artifact> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new ArtifactError(`${file} is missing; run npm run build first`, { cause: err });
  }
  const release = version ?? (await packageVersion());
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  return { file, sha256, key: `syncer/lambda-svid-syncer-${release}-${sha256.slice(0, 12)}.zip` };
}

/** `dist/`, or the build directory `npm run package` was given (LAMBDA_SVID_DIST_DIR). */
export function distDir(): string {
  return process.env.LAMBDA_SVID_DIST_DIR ?? fileURLToPath(new URL("dist", REPO));
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL("package.json", REPO), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** Object metadata that records the artifact's SHA-256 (hex), which HeadObject returns. */
const SHA256_METADATA = "sha256";

/**
 * Uploads the artifact unless the bucket already holds it with the same
 * SHA-256: its key is content-addressed, so an existing object is this one
 * and keeps the version ID tenants may have pinned. S3 checks the upload
 * against the same SHA-256.
 *
 * @example
 * await publishArtifact(new S3Client({}), "lambda-svid-artifactbucket-1x2y", await syncerArtifact());
 */
export async function publishArtifact(
  s3: S3Client,
  bucket: string,
  artifact: Artifact,
): Promise<{ uploaded: boolean; versionId: string | undefined }> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: artifact.key }));
    if (head.Metadata?.[SHA256_METADATA] === artifact.sha256)
      return { uploaded: false, versionId: head.VersionId };
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
  }
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: artifact.key,
      Body: await readFile(artifact.file),
      ChecksumSHA256: Buffer.from(artifact.sha256, "hex").toString("base64"),
      Metadata: { [SHA256_METADATA]: artifact.sha256 },
      ContentType: "application/zip",
    }),
  );
  return { uploaded: true, versionId: put.VersionId };
}

/**
 * The artifact bucket of a deployed stack, from its outputs.
 *
 * @throws {ArtifactError} when the stack has no such output.
 */
export async function artifactBucketOf(
  cloudFormation: CloudFormationClient,
  stackName: string,
): Promise<string> {
  const out = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const bucket = out.Stacks?.[0]?.Outputs?.find(
    (o) => o.OutputKey === ARTIFACT_BUCKET_OUTPUT,
  )?.OutputValue;
  if (!bucket)
    throw new ArtifactError(`stack ${stackName} has no output ${ARTIFACT_BUCKET_OUTPUT}`);
  return bucket;
}
