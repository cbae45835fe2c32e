/**
 * Reads the fleet as the operator tools show it, from the issuer's own
 * memory: the state table when `LAMBDA_SVID_STATE_TABLE` is set (the
 * deployed, queued issuer: registry snapshot, plans and outcomes, one Scan),
 * otherwise the registry plus each tenant's SVID secret metadata, read with
 * DescribeSecret through the writer role as the direct issuer reads it. Never
 * GetSecretValue: no key material is read.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { OrganizationsClient } from "@aws-sdk/client-organizations";
import { organizationsClient, tenantAccess } from "../../functions/issuer/compose.ts";
import { resolveRegistry } from "../../functions/issuer/planner.ts";
import {
  loadRegistry,
  type RegistryProblem,
  type ResolvedIdentity,
} from "../../functions/issuer/registry/index.ts";
import { IssuerStore, type Snapshot } from "../../functions/issuer/store.ts";
import {
  readSecretState,
  type SecretState,
  type TenantAccess,
} from "../../functions/issuer/tenant.ts";
import { mapConcurrent } from "../../lib/limits/index.ts";
import type { FleetConfig } from "./config.ts";
import type { FleetRow } from "./row.ts";

/** The fleet and where it was read from. */
export interface Fleet {
  rows: FleetRow[];
  /** `state table <name>` or `secret metadata`, for the header line. */
  source: string;
  /** Registry entries the issuer skips, with the reason. */
  invalid: RegistryProblem[];
}

/** Clients the fleet is read with; each defaults to the issuer's own. */
export interface FleetClients {
  organizations?: OrganizationsClient;
  dynamodb?: DynamoDBClient;
  tenants?: Pick<TenantAccess, "secretsManager">;
}

/**
 * Reads every registered identity's row.
 *
 * @example
 * const fleet = await readFleet(loadFleetConfig(process.env));
 * for (const row of fleet.rows) console.log(row.spiffeId, row.notAfter);
 */
export async function readFleet(config: FleetConfig, clients: FleetClients = {}): Promise<Fleet> {
  const organizations = clients.organizations ?? organizationsClient({});
  const { source } = config;
  if (source.kind === "state-table") {
    const table = source.table;
    const snapshot = await new IssuerStore(
      clients.dynamodb ?? new DynamoDBClient({}),
      table,
    ).load();
    const { identities, problems } = await resolveRegistry(
      { settings: config, organizations },
      snapshot,
      new AbortController().signal,
    );
    return {
      rows: identities.map((identity) => rowFromSnapshot(identity, snapshot, config)),
      source: `state table ${table}`,
      invalid: problems,
    };
  }
  const { identities, problems } = await loadRegistry(
    {
      source: config.registry,
      tagKeys: config.tagKeys,
      idTemplate: config.idTemplate,
      organizationsRate: config.organizationsRate,
    },
    organizations,
  );
  const tenants = clients.tenants ?? tenantAccess(source, {});
  const rows = await mapConcurrent(identities, source.concurrency, (identity) =>
    rowFromSecret(identity, tenants, source.secretName, config),
  );
  return {
    rows: rows.map((row, i) => row ?? describe(identities[i] as ResolvedIdentity, "missing")),
    source: "secret metadata",
    invalid: problems,
  };
}

function describe(identity: ResolvedIdentity, outcome: FleetRow["outcome"]): FleetRow {
  return {
    accountId: identity.accountId,
    service: identity.service,
    environment: identity.environment,
    spiffeId: identity.spiffeId.toString(),
    outcome,
  };
}

/**
 * Neither the state item nor the secret's metadata holds the not-before; the
 * issuer sets not-after = not-before + validity, so it follows from the
 * configured validity (off only for SVIDs issued under another validity).
 */
function validity(
  notAfter: string,
  config: Pick<FleetConfig, "validityMs">,
): Pick<FleetRow, "notBefore" | "notAfter"> {
  return {
    notBefore: new Date(Date.parse(notAfter) - config.validityMs).toISOString(),
    notAfter,
  };
}

function rowFromSnapshot(
  identity: ResolvedIdentity,
  snapshot: Snapshot,
  config: Pick<FleetConfig, "validityMs">,
): FleetRow {
  const spiffeId = identity.spiffeId.toString();
  const state = snapshot.states.get(identity.accountId);
  const plan = snapshot.plans.get(identity.accountId);
  // A state of another ID (the account's tags changed) says nothing of this identity's SVID.
  const own = state !== undefined && state.spiffeId === spiffeId ? state : undefined;
  const held = own?.notAfter !== undefined ? validity(own.notAfter, config) : {};
  const answered = own !== undefined && plan !== undefined && own.plannedAt >= plan.plannedAt;
  if (own?.outcome === "failed") {
    return {
      ...describe(identity, "failed"),
      ...held,
      ...(own.failure ? { failure: { ...own.failure } } : {}),
    };
  }
  if (plan !== undefined && plan.spiffeId === spiffeId && !answered) {
    return { ...describe(identity, "pending"), ...held };
  }
  if (own === undefined) return describe(identity, "missing");
  return { ...describe(identity, own.outcome), ...held };
}

async function rowFromSecret(
  identity: ResolvedIdentity,
  tenants: Pick<TenantAccess, "secretsManager">,
  secretName: string,
  config: Pick<FleetConfig, "validityMs">,
): Promise<FleetRow> {
  const spiffeId = identity.spiffeId.toString();
  let stage = "access";
  let state: SecretState;
  try {
    const sm = await tenants.secretsManager(identity);
    stage = "describe";
    state = await readSecretState(sm, secretName);
  } catch (err) {
    return {
      ...describe(identity, "failed"),
      failure: {
        stage,
        reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        at: new Date().toISOString(),
      },
    };
  }
  if (state.kind === "foreign") {
    return {
      ...describe(identity, "failed"),
      failure: {
        stage: "describe",
        reason: `${secretName} exists without the issuer's owner tag`,
        at: new Date().toISOString(),
      },
    };
  }
  if (
    state.kind === "missing" ||
    state.scheduledForDeletion ||
    state.spiffeId !== spiffeId ||
    state.notAfter === undefined
  ) {
    return describe(identity, "missing");
  }
  return { ...describe(identity, "issued"), ...validity(state.notAfter.toISOString(), config) };
}
