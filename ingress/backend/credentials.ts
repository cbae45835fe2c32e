/**
 * The ingress's own AWS credentials: the SDK's default chain (environment,
 * web identity / IRSA, ECS, instance metadata) unless the caller gives a
 * provider, cached with the SDK's own `memoize` and fetched again
 * `refreshBeforeMs` before they expire, so no request is signed with
 * credentials about to lapse. Long-term keys (no expiry) are fetched once.
 */
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { memoize } from "@smithy/core/config";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

/** The SDK's own margin: its default chain treats credentials as expired five minutes early. */
export const DEFAULT_REFRESH_BEFORE_MS = 5 * 60_000;

/**
 * Caches `provider`'s credentials until `refreshBeforeMs` before their expiry.
 * Concurrent requests in that window share one fetch.
 *
 * @example
 * const credentials = refreshingCredentials(fromNodeProviderChain(), DEFAULT_REFRESH_BEFORE_MS);
 * const { accessKeyId } = await credentials();
 */
export function refreshingCredentials(
  provider: AwsCredentialIdentityProvider,
  refreshBeforeMs: number,
): AwsCredentialIdentityProvider {
  return memoize(
    provider,
    (credentials: AwsCredentialIdentity) =>
      credentials.expiration !== undefined &&
      credentials.expiration.getTime() - Date.now() < refreshBeforeMs,
    (credentials: AwsCredentialIdentity) => credentials.expiration !== undefined,
  );
}

/**
 * The SDK's default provider chain, as every AWS client of the project finds
 * its credentials.
 *
 * @example
 * const credentials = refreshingCredentials(defaultCredentials(), DEFAULT_REFRESH_BEFORE_MS);
 */
export function defaultCredentials(): AwsCredentialIdentityProvider {
  return fromNodeProviderChain();
}
