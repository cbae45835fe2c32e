/**
 * Per-worker setup for the integration project: points the AWS SDK's standard
 * configuration chain at the shared emulator and nowhere else.
 *
 * Product code and test clients stay plain (`new SecretsManagerClient({})`): they
 * find the emulator through `AWS_ENDPOINT_URL` exactly as they would find real AWS
 * through a profile or a Lambda role. Every other `AWS_*` setting of the caller's
 * shell is removed, and the config files are pointed at nothing, so no profile,
 * session token, web identity or per-service endpoint can reach a real account.
 */
import { inject } from "vitest";

for (const key of Object.keys(process.env)) {
  if (key.startsWith("AWS_")) delete process.env[key];
}

Object.assign(process.env, {
  AWS_ENDPOINT_URL: inject("awsEndpoint"),
  AWS_REGION: "us-east-1",
  // Static dummy keys: moto maps keys it did not issue to its default account 123456789012.
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_CONFIG_FILE: "/dev/null",
  AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  AWS_EC2_METADATA_DISABLED: "true",
});
