import type { IssuerConfig } from "../../functions/issuer/config.ts";
import { type Env, EnvReader } from "../../lib/config/index.ts";
import type { FleetThresholds } from "./row.ts";

/** The deployment's default alarm (`minSecondsToExpiryThreshold` in serverless.yml): 6 hours. */
const DEFAULT_ALARM_BELOW_MS = 6 * 3_600_000;

/**
 * What `status` and `report` judge the fleet against: the alarm threshold
 * (`LAMBDA_SVID_ALARM_BELOW`, read here only, a duration such as `6h`; set it
 * to the deployment's `minSecondsToExpiryThreshold`) and the issuer's own
 * renewal window (`LAMBDA_SVID_RENEW_BEFORE`, through its configuration).
 *
 * @throws {ConfigError} naming `LAMBDA_SVID_ALARM_BELOW` when it is not a duration below the validity.
 * @example
 * const thresholds = readThresholds(process.env, loadIssuerConfig(process.env), new Date());
 */
export function readThresholds(env: Env, config: IssuerConfig, now: Date): FleetThresholds {
  return {
    now: now.toISOString(),
    alarmBelowMs: new EnvReader(env).duration(
      "LAMBDA_SVID_ALARM_BELOW",
      Math.min(DEFAULT_ALARM_BELOW_MS, config.renewBeforeMs),
      0,
      config.validityMs,
      "a duration up to LAMBDA_SVID_VALIDITY, such as 6h",
    ),
    renewBeforeMs: config.renewBeforeMs,
  };
}
