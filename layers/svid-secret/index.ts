/**
 * The SVID secret contract: what the issuer writes into each account's
 * Secrets Manager and what the layer's agent and the syncer read back.
 *
 * - name: {@link DEFAULT_SVID_SECRET_NAME}, overridden by `LAMBDA_SVID_SECRET_NAME`,
 *   declared once as {@link SVID_SECRET_NAME_SPEC}, which every part's
 *   configuration catalogue includes;
 *   `serverless.yml` and the Terraform tenant module are tested against both;
 * - tags: {@link SvidSecretTag} and the issuer's owner value {@link SVID_SECRET_OWNER};
 * - description: states the leaf's not-after ({@link svidSecretDescription});
 *   the owner tag key is `lib/secrets`' `OWNER_TAG`, shared with the syncer's mirrors;
 * - format: the JSON document, re-exported from the SPIFFE library. It stays
 *   there because it is SPIRE's `aws_secretsmanager` SVIDStore format over
 *   SPIFFE types, with no AWS SDK and no product name in it, so the library
 *   (shipped alone as `@lambda-svid/spiffe`) can parse it for a function that
 *   reads the secret itself.
 *
 * - reader: {@link SvidSource} reads, verifies and holds the SVID by the
 *   {@link freshness} rules, failing with {@link SvidSourceError}; the agent's
 *   extension and in-process client and the syncer all read it through this,
 *   the syncer without the agent's HTTP clients.
 *
 * May import `layers/spiffe` and `lib/`; nothing from functions/, cli/ or
 * layers/agent, which all import this.
 *
 * @example
 * import { parseSvidSecret } from "../svid-secret/index.ts";
 * const name = config.secretName; // read through the part's catalogue
 * const { svid, bundle } = parseSvidSecret(await sm.send(new GetSecretValueCommand({ SecretId: name })));
 *
 * @module
 */
export {
  encodeSvidSecret,
  parseSvidSecret,
  type SvidSecret,
  type SvidSecretDocument,
  SvidSecretError,
  SvidSecretReason,
} from "../spiffe/index.ts";
export { notAfterFromDescription, svidSecretDescription } from "./description.ts";
export { SvidSourceError, SvidSourceReason } from "./errors.ts";
export {
  DEFAULT_FRESHNESS,
  type Freshness,
  type FreshnessPolicy,
  freshness,
} from "./freshness.ts";
export {
  DEFAULT_SVID_SECRET_NAME,
  SVID_SECRET_NAME_PATTERN,
  SVID_SECRET_NAME_SPEC,
  SVID_SECRET_NAME_VARIABLE,
} from "./name.ts";
export {
  type HeldSvid,
  type SecretReader,
  SvidSource,
  type SvidSourceOptions,
} from "./source.ts";
export { SVID_SECRET_OWNER, SvidSecretTag } from "./tags.ts";
