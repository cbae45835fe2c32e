/**
 * Tags on the SVID secret. They carry what is not secret, so freshness and
 * ownership can be checked with DescribeSecret, without reading key material.
 */
import { OWNER_TAG } from "../../lib/secrets/index.ts";

export const SvidSecretTag = {
  /**
   * The owner tag every secret lambda-svid writes carries; on the SVID secret
   * its value is {@link SVID_SECRET_OWNER}, and the issuer never writes a
   * secret without it. (The syncer's mirrors carry the same key with its own value.)
   */
  OWNER: OWNER_TAG,
  SPIFFE_ID: "lambda-svid:spiffe-id",
  /**
   * Retired: earlier issuers kept the leaf's not-after here, in a second call
   * after the value. It now lives in the description (`svidSecretDescription`);
   * the issuer removes this tag when it finds it, and still reads it from a
   * secret written before.
   */
  NOT_AFTER: "lambda-svid:not-after",
} as const;

/** The value of the {@link SvidSecretTag.OWNER} tag on the SVID secret: its writer is the issuer. */
export const SVID_SECRET_OWNER = "lambda-svid-issuer";
