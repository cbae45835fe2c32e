/**
 * What the model's tests share: a fresh modelled AWS on a virtual clock, with
 * a tenant account in its organization.
 */
import { createModelAws, type ModelAws, type ModelAwsOptions } from "./aws.ts";
import { onVirtualClock } from "./clock.ts";

/** Where the tests' virtual clock starts. */
export const START = Date.parse("2026-01-01T00:00:00Z");
/** A member account of the tests' organization. */
export const TENANT = "111111111111";

/**
 * Builds the model and runs `fn` against it on a virtual clock starting at {@link START}.
 *
 * @example
 * await withModel({}, async (aws) => {
 *   const sts = new STSClient(aws.clientConfig());
 * });
 */
export function withModel<T>(
  options: ModelAwsOptions,
  fn: (aws: ModelAws) => Promise<T>,
): Promise<T> {
  return onVirtualClock(START, async () => {
    const aws = createModelAws(options);
    aws.organizations.add(TENANT, { team: "web" });
    return fn(aws);
  });
}
