// Serverless Framework plugin: `sls package` asks CloudFormation whether the deployed stack already
// has an identical layer, so that `deploy` can skip re-uploading it. With LAMBDA_SVID_OFFLINE=1
// (`npm run package`) that question is not asked: the template and artifacts are made without AWS
// credentials or network, and the layer is uploaded as new when that package is deployed.
class OfflinePackage {
  constructor(serverless) {
    if (process.env.LAMBDA_SVID_OFFLINE !== "1") return;
    const layers = serverless.pluginManager.plugins.find(
      (plugin) => plugin.constructor.name === "AwsCompileLayers",
    );
    if (!layers) throw new Error("offline-package: the Serverless layers compiler was not found");
    layers.compareWithLastLayer = async () => {};
  }
}

module.exports = OfflinePackage;
