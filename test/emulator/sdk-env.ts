/**
 * Points the AWS SDK's standard configuration chain at an emulator and nowhere
 * else: every `AWS_*` variable of the caller's shell is removed first, and the
 * config files are pointed at nothing, so no profile, session token, web
 * identity or per-service endpoint can reach a real account.
 */
export function pointSdkAtEmulator(endpoint: string): void {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith("AWS_")) delete process.env[key];
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: "us-east-1",
    // Static dummy keys: moto maps keys it did not issue to its default account 123456789012.
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    // Tests run on Node 20; Lambda runs nodejs22.x, where the SDK has nothing to warn about.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  });
}
