/**
 * What `status` and `report` need to read the fleet, and only that: an
 * operator who reads the issuer's state table sets neither the CA nor the
 * ExternalId, and one who reads secret metadata sets no CA. Every variable is
 * the issuer's own declaration, read through the issuer's catalogue by the
 * issuer's own partial readers, so the two cannot disagree on a name, a
 * default or a form.
 */
import {
  type IdentitySettings,
  ISSUER_CATALOGUE,
  type IssuerConfig,
  type IssuerReader,
  readConcurrency,
  readIdentitySettings,
  readLifetime,
  readTenantSettings,
  type TenantSettings,
} from "../../functions/issuer/config.ts";
import { ConfigError, type Env } from "../../lib/config/index.ts";
import { CliError, CliReason } from "../errors.ts";

/** Where the fleet is read from, with what that source alone needs. */
export type FleetSource =
  | { kind: "state-table"; table: string }
  | ({ kind: "secret-metadata" } & TenantSettings & Pick<IssuerConfig, "concurrency">);

/** The fleet reader's configuration: how identities are named, their lifetime, and the source. */
export interface FleetConfig
  extends IdentitySettings,
    Pick<IssuerConfig, "validityMs" | "renewBeforeMs"> {
  source: FleetSource;
}

/** The mode as a refusal names it. */
const MODE_TEXT = {
  "state-table": "reading the state table (LAMBDA_SVID_STATE_TABLE)",
  "secret-metadata": "reading secret metadata (LAMBDA_SVID_STATE_TABLE unset)",
} as const;

/**
 * Reads the fleet reader's configuration from `env`: with
 * `LAMBDA_SVID_STATE_TABLE` the table, the registry and ID template (the
 * table's registry snapshot is resolved into SPIFFE IDs as the planner does)
 * and the lifetime; without it, also the writer role, its ExternalId, the
 * secret name and the concurrency the tenants are described with.
 *
 * @throws {CliError} `FLEET_CONFIG`, naming the variable at fault and the mode that needs it, with the {@link ConfigError} as its cause.
 * @example
 * const config = loadFleetConfig(process.env);
 * const fleet = await readFleet(config);
 */
export function loadFleetConfig(env: Env): FleetConfig {
  const r = ISSUER_CATALOGUE.reader(env);
  const table = r.read("LAMBDA_SVID_STATE_TABLE");
  const kind = table === undefined ? "secret-metadata" : "state-table";
  try {
    const identities = readIdentitySettings(r);
    const lifetime = readLifetime(r);
    return {
      ...identities,
      ...lifetime,
      source:
        table === undefined
          ? { kind: "secret-metadata", ...metadataSettings(r) }
          : { kind: "state-table", table },
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new CliError(CliReason.FLEET_CONFIG, `${MODE_TEXT[kind]} needs ${err.variable}`, {
      cause: err,
    });
  }
}

function metadataSettings(r: IssuerReader) {
  const { writerRole, externalId, secretName } = readTenantSettings(r);
  return { writerRole, externalId, secretName, concurrency: readConcurrency(r).concurrency };
}
