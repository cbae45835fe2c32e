/**
 * Per-worker setup for the integration project: points the AWS SDK's standard
 * configuration chain at the shared emulator and nowhere else.
 *
 * Product code and test clients stay plain (`new SecretsManagerClient({})`): they
 * find the emulator through `AWS_ENDPOINT_URL` exactly as they would find real AWS
 * through a profile or a Lambda role.
 */
import { inject } from "vitest";
import { pointSdkAtEmulator } from "./sdk-env.ts";

pointSdkAtEmulator(inject("awsEndpoint"));
