// Serverless Framework plugin: after `sls deploy` has updated the stack, uploads this release's
// syncer zip into the stack's artifact bucket (artifacts.ts says how), with the deployment's own
// AWS credentials and region.
const { tsImport } = require("tsx/esm/api");

class PublishSyncerArtifact {
  constructor(serverless, _options, { log }) {
    this.serverless = serverless;
    this.log = log;
    this.hooks = { "after:deploy:deploy": () => this.publish() };
  }

  async publish() {
    const { CloudFormationClient } = require("@aws-sdk/client-cloudformation");
    const { S3Client } = require("@aws-sdk/client-s3");
    const { artifactBucketOf, publishArtifact, syncerArtifact } = await tsImport(
      "./artifacts.ts",
      __filename,
    );
    const provider = this.serverless.getProvider("aws");
    const config = await provider.getAwsSdkV3Config();
    const bucket = await artifactBucketOf(
      new CloudFormationClient(config),
      provider.naming.getStackName(),
    );
    const artifact = await syncerArtifact();
    const { uploaded, versionId } = await publishArtifact(new S3Client(config), bucket, artifact);
    this.log.notice(
      `syncer artifact s3://${bucket}/${artifact.key} (version ${versionId ?? "-"}) ${uploaded ? "uploaded" : "already published"}`,
    );
  }
}

module.exports = PublishSyncerArtifact;
