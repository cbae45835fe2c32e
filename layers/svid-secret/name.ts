/**
 * The SVID secret's name: its default, its one validation, and the one place
 * the environment variable that overrides it is read.
 */
import { ConfigError, type EnvReader } from "../../lib/config/index.ts";

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
 * The SVID secret's name from {@link SVID_SECRET_NAME_VARIABLE}, or
 * {@link DEFAULT_SVID_SECRET_NAME} when it is unset.
 *
 * @throws {ConfigError} naming the variable when the value is not a Secrets Manager name.
 * @example
 * const name = readSvidSecretName(new EnvReader(process.env)); // "lambda-svid/svid"
 */
export function readSvidSecretName(r: EnvReader): string {
  const name = r.string(SVID_SECRET_NAME_VARIABLE, DEFAULT_SVID_SECRET_NAME);
  if (!SVID_SECRET_NAME_PATTERN.test(name)) {
    throw new ConfigError(
      SVID_SECRET_NAME_VARIABLE,
      "a Secrets Manager secret name, 1 to 512 characters of [A-Za-z0-9/_+=.@-]",
      name,
    );
  }
  return name;
}
