// Serverless Framework plugin, for the stack's layer versions once they are compiled:
// - shares each with the Organization (`custom.layerOrganizationId`) and nobody else. Serverless's
//   own `allowedAccounts` takes account IDs only, and a retained layer's logical ID carries its
//   content hash, so the permission is added here, beside each version and retained with it;
// - retains a retained version on replacement too, not only on deletion: functions in tenant
//   accounts keep naming the versions they were built with.
class Layers {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { "after:package:compileLayers": () => this.addPermissions() };
  }

  addPermissions() {
    const organizationId = this.serverless.service.custom?.layerOrganizationId;
    if (!/^o-[a-z0-9]{10,32}$/.test(String(organizationId))) {
      throw new Error(
        `layers: custom.layerOrganizationId is ${JSON.stringify(organizationId)}; expected an Organization ID such as o-a1b2c3d4e5`,
      );
    }
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== "AWS::Lambda::LayerVersion") continue;
      if (resource.DeletionPolicy) resource.UpdateReplacePolicy = resource.DeletionPolicy;
      template.Resources[`${id}OrganizationPermission`] = {
        Type: "AWS::Lambda::LayerVersionPermission",
        ...(resource.DeletionPolicy
          ? {
              DeletionPolicy: resource.DeletionPolicy,
              UpdateReplacePolicy: resource.DeletionPolicy,
            }
          : {}),
        Properties: {
          LayerVersionArn: { Ref: id },
          Action: "lambda:GetLayerVersion",
          Principal: "*",
          OrganizationId: organizationId,
        },
      };
    }
  }
}

module.exports = Layers;
