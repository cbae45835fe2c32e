/**
 * The local default that `npm start`, `npm run demo` and `lambda-svid --local`
 * share: the background emulator, the example Organization in it, the local
 * CA in `.local/ca`, and local values for the `LAMBDA_SVID_*` and AWS
 * variables that are unset. Variables already set win, so the commands read
 * the same configuration as the Lambda handlers.
 */
import { join } from "node:path";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { ensureExampleOrganization } from "./example-organization.ts";
import { ensureLocalEmulator, localDir } from "./local-emulator.ts";

/** What the local default fills in when unset. */
export function localDefaults(): Record<string, string> {
  return {
    AWS_REGION: "us-east-1",
    // Moto's default account; the emulator accepts any static key.
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    LAMBDA_SVID_TRUST_DOMAIN: "example.org",
    LAMBDA_SVID_REGISTRY: "organizations",
    LAMBDA_SVID_CA: `local:${join(localDir(), "ca")}`,
    LAMBDA_SVID_EXTERNAL_ID: "lambda-svid-local",
  };
}

/** The local emulator and example Organization as they were found or made. */
export interface LocalDefault {
  endpoint: string;
  /** The emulator was started by this call (not reused). */
  started: boolean;
  /** Accounts of the example Organization created by this call. */
  created: number;
}

/**
 * Starts (or reuses) the local emulator, points this process's AWS SDK at it,
 * fills in the local defaults, and makes sure the example Organization exists.
 *
 * @example
 * const local = await useLocalDefault(process.env);
 * console.log(`emulator ${local.endpoint}`);
 */
export async function useLocalDefault(env: NodeJS.ProcessEnv): Promise<LocalDefault> {
  const emulator = await ensureLocalEmulator();
  env.AWS_ENDPOINT_URL = emulator.endpoint;
  for (const [key, value] of Object.entries(localDefaults())) env[key] ??= value;
  const created = await ensureExampleOrganization(new OrganizationsClient({}));
  return { ...emulator, created };
}
