/**
 * The variables the operator command line reads besides the issuer's own
 * (which it reads through `loadIssuerConfig`, as the handler does), declared
 * once as a catalogue so `docs/configuration.md` lists them.
 */
import { Catalogue, variable } from "../lib/config/index.ts";

/** The deployment's default alarm (`minSecondsToExpiryThreshold` in serverless.yml): 6 hours. */
export const DEFAULT_ALARM_BELOW_MS = 6 * 3_600_000;

/**
 * The command line's own variables.
 *
 * @example
 * const name = CLI_CATALOGUE.reader(process.env).read("LAMBDA_SVID_SYNCER_FUNCTION"); // "lambda-svid-syncer"
 */
export const CLI_CATALOGUE = new Catalogue(
  "cli",
  "The operator command line (`lambda-svid`, `cli/`), which also reads the issuer's variables",
  [
    variable({
      name: "LAMBDA_SVID_ALARM_BELOW",
      kind: "duration",
      default: { derived: "6h, or `LAMBDA_SVID_RENEW_BEFORE` when that is shorter" },
      min: 0,
      max: { derived: "`LAMBDA_SVID_VALIDITY`" },
      expected: "a duration up to LAMBDA_SVID_VALIDITY, such as 6h",
      description:
        "`status` and `report`: an identity with less left needs attention (exit 1); set it to the deployment's `minSecondsToExpiryThreshold`",
    }),
    variable({
      name: "LAMBDA_SVID_ISSUER_FUNCTION",
      kind: "string",
      expected:
        "the deployed issuer's function name or ARN (or --function), such as lambda-svid-issuer-prod",
      whenUnset: "`issue --remote` needs `--function`",
      description: "`issue --remote`: the deployed issuer (the planner) to invoke",
    }),
    variable({
      name: "LAMBDA_SVID_SYNCER_FUNCTION",
      kind: "string",
      default: "lambda-svid-syncer",
      pattern: { test: /^[A-Za-z0-9_-]{1,64}$/, expected: "a Lambda function name" },
      description:
        "`sync`: the syncer's function name in the tenant account (the tenant module's `syncer.function_name`)",
    }),
    variable({
      name: "LAMBDA_SVID_OPERATOR_ROLE",
      kind: "string",
      pattern: { test: /^[\w+=,.@-]{1,64}$/, expected: "an IAM role name" },
      whenUnset: "the SDK's own credentials invoke the syncer",
      description:
        "`sync`: a role in the tenant account allowed `lambda:InvokeFunction` on the syncer, assumed through STS",
    }),
  ],
);
