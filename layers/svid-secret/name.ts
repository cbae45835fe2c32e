/**
 * The SVID secret's name: its default, its one validation, and the one
 * declaration of the environment variable that overrides it, which every
 * part's configuration catalogue includes.
 */
import { variable } from "../../lib/config/index.ts";

/** Default name of the SVID secret in each account's Secrets Manager. */
export const DEFAULT_SVID_SECRET_NAME = "lambda-svid/svid";

/** The variable every part (issuer, syncer, extension, in-process client) reads the name from. */
export const SVID_SECRET_NAME_VARIABLE = "LAMBDA_SVID_SECRET_NAME";

/**
 * What Secrets Manager accepts as a secret name; the Terraform module's
 * `svid_secret_name` validation is tested against it.
 */
export const SVID_SECRET_NAME_PATTERN = /^[\w/+=.@-]{1,512}$/;

/**
 * The declaration of {@link SVID_SECRET_NAME_VARIABLE}: every part that reads
 * the name includes this one object in its catalogue.
 *
 * @example
 * new Catalogue("syncer", "the Keywhiz syncer", [SVID_SECRET_NAME_SPEC]).reader(process.env).read(SVID_SECRET_NAME_VARIABLE);
 */
export const SVID_SECRET_NAME_SPEC = variable({
  name: SVID_SECRET_NAME_VARIABLE,
  kind: "string",
  default: DEFAULT_SVID_SECRET_NAME,
  pattern: {
    test: SVID_SECRET_NAME_PATTERN,
    expected: "a Secrets Manager secret name, 1 to 512 characters of [A-Za-z0-9/_+=.@-]",
  },
  description:
    "name of the SVID secret in the account's Secrets Manager: the issuer writes it, the other parts read it",
});
