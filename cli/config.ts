/**
 * The variables the operator command line reads besides the issuer's own
 * (which it reads through the issuer's catalogue: `issue` all of them with
 * `loadIssuerConfig`, `status` and `report` only what their source needs with
 * `loadFleetConfig`), declared once as a catalogue so `docs/configuration.md`
 * lists them.
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
  [
    "The operator command line (`lambda-svid`, `cli/`). It also reads the [issuer](#issuer)'s variables, by their declarations there:",
    "`issue` all of them (as the issuer does);",
    "`status` and `report` only what their source needs: `LAMBDA_SVID_TRUST_DOMAIN`, `LAMBDA_SVID_ID_TEMPLATE`, `LAMBDA_SVID_REGISTRY`,",
    "`LAMBDA_SVID_TAG_SERVICE`, `LAMBDA_SVID_TAG_ENVIRONMENT`, `LAMBDA_SVID_TAG_ENABLED`, `LAMBDA_SVID_TAG_SPANS_ACCOUNTS`,",
    "`LAMBDA_SVID_ORGANIZATIONS_RATE`, `LAMBDA_SVID_VALIDITY` and `LAMBDA_SVID_RENEW_BEFORE`, then `LAMBDA_SVID_STATE_TABLE` (the state table)",
    "or, without it, the secret metadata's `LAMBDA_SVID_WRITER_ROLE`, `LAMBDA_SVID_EXTERNAL_ID`, `LAMBDA_SVID_SECRET_NAME`,",
    "`LAMBDA_SVID_CA_ISSUE_RATE` and `LAMBDA_SVID_CONCURRENCY` (never `LAMBDA_SVID_CA`);",
    "`verify` `LAMBDA_SVID_TRUST_DOMAIN` when it is set",
  ].join(" "),
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
      name: "LAMBDA_SVID_LOCAL_DIR",
      kind: "string",
      expected: "a directory",
      whenUnset: "`.local/` in the repository",
      description:
        "`npm start`, `npm run demo`, `--local`: where the local emulator's address, its log and the local CA are kept",
    }),
    variable({
      name: "LAMBDA_SVID_OPERATOR_ROLE",
      kind: "string",
      pattern: { test: /^[\w+=,.@-]{1,64}$/, expected: "an IAM role name" },
      whenUnset: "the SDK's own credentials invoke the syncer",
      description:
        "`sync`: a role in the tenant account allowed `lambda:InvokeFunction` on the syncer, assumed through STS (the tenant module's `operator_role`, `lambda-svid-operator`)",
    }),
  ],
);
