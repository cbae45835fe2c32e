import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  parseSvidSecret,
  SpiffeError,
  verifyX509Svid,
  type X509Svid,
} from "../../layers/spiffe/index.ts";

/** The account's own SVID could not be read or does not verify; the run changes nothing. */
export class OwnSvidError extends Error {
  constructor(secretName: string, problem: string, options?: { cause?: unknown }) {
    const causeText = options?.cause instanceof SpiffeError ? `: ${options.cause.message}` : "";
    super(`syncer: SVID secret ${JSON.stringify(secretName)} ${problem}${causeText}`, options);
    this.name = "OwnSvidError";
  }
}

/**
 * Reads the account's SVID from its own Secrets Manager and verifies it against
 * the bundle stored with it, at `now`. An expired or unverifiable SVID is never
 * presented to Keywhiz.
 *
 * @throws {OwnSvidError}
 */
export async function readOwnSvid(
  sm: SecretsManagerClient,
  secretName: string,
  now: Date,
): Promise<X509Svid> {
  let value: { SecretString?: string | undefined; SecretBinary?: Uint8Array | undefined };
  try {
    value = await sm.send(new GetSecretValueCommand({ SecretId: secretName }));
  } catch (cause) {
    throw new OwnSvidError(secretName, `cannot be read (${(cause as Error).name})`, { cause });
  }
  try {
    const { svid, bundles } = parseSvidSecret(value);
    verifyX509Svid(svid.certificates, bundles, { now });
    return svid;
  } catch (cause) {
    if (!(cause instanceof SpiffeError)) throw cause;
    throw new OwnSvidError(secretName, "does not hold a valid SVID", { cause });
  }
}
