import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLI_CATALOGUE } from "../../cli/config.ts";
import { CliError, CliReason } from "../../cli/errors.ts";
import { loadFleetConfig, readThresholds } from "../../cli/fleet/index.ts";
import { ISSUER_CATALOGUE, readTrustDomain } from "../../functions/issuer/config.ts";
import { ConfigError, type Env } from "../../lib/config/index.ts";
import { REFERENCE_FILE } from "../../scripts/config-reference.ts";
import { thrown } from "../support/thrown.ts";

const HOUR = 3_600_000;
const TABLE = { LAMBDA_SVID_TRUST_DOMAIN: "example.org", LAMBDA_SVID_STATE_TABLE: "svid-state" };
const METADATA = { LAMBDA_SVID_TRUST_DOMAIN: "example.org", LAMBDA_SVID_EXTERNAL_ID: "ext-id-123" };

function refusal(env: Env): CliError {
  return thrown(() => loadFleetConfig(env), CliError);
}

/** `env` that records every name read from it. */
function recording(env: Env): { env: Env; read: Set<string> } {
  const read = new Set<string>();
  const proxy = new Proxy(env, {
    get(target, name) {
      if (typeof name === "string") read.add(name);
      return Reflect.get(target, name);
    },
  });
  return { env: proxy, read };
}

describe("the fleet reader's configuration (status, report)", () => {
  it("reads the state table with no CA, ExternalId or writer role", () => {
    const config = loadFleetConfig(TABLE);
    expect(config.source).toEqual({ kind: "state-table", table: "svid-state" });
    expect(config.trustDomain.name).toBe("example.org");
    expect(config.registry).toEqual({ kind: "organizations" });
    expect(config.idTemplate.text).toBe("spiffe://{trustDomain}/{environment}/{service}");
    expect(config.validityMs).toBe(24 * HOUR);
    expect(config.renewBeforeMs).toBe(8 * HOUR);
  });

  it("reads secret metadata with the writer role and ExternalId but no CA", () => {
    const config = loadFleetConfig({ ...METADATA, LAMBDA_SVID_WRITER_ROLE: "svid-writer" });
    expect(config.source).toEqual({
      kind: "secret-metadata",
      writerRole: "svid-writer",
      externalId: "ext-id-123",
      secretName: "lambda-svid/svid",
      concurrency: 60,
    });
  });

  it("names the missing variable and the mode that needs it", () => {
    const externalId = refusal({ LAMBDA_SVID_TRUST_DOMAIN: "example.org" });
    expect(externalId.reason).toBe(CliReason.FLEET_CONFIG);
    expect(externalId.message).toBe(
      'cli: fleet: configuration: reading secret metadata (LAMBDA_SVID_STATE_TABLE unset) needs LAMBDA_SVID_EXTERNAL_ID: config: LAMBDA_SVID_EXTERNAL_ID is ""; expected the ExternalId the tenant writer roles require',
    );
    expect(externalId.cause).toBeInstanceOf(ConfigError);

    const trustDomain = refusal({ LAMBDA_SVID_STATE_TABLE: "svid-state" });
    expect(trustDomain.message).toBe(
      'cli: fleet: configuration: reading the state table (LAMBDA_SVID_STATE_TABLE) needs LAMBDA_SVID_TRUST_DOMAIN: config: LAMBDA_SVID_TRUST_DOMAIN is ""; expected a SPIFFE trust domain name such as example.org',
    );
  });

  it("never echoes a malformed ExternalId", () => {
    const bad = refusal({ ...METADATA, LAMBDA_SVID_EXTERNAL_ID: "secret value with spaces" });
    expect(bad.message).toBe(
      "cli: fleet: configuration: reading secret metadata (LAMBDA_SVID_STATE_TABLE unset) needs LAMBDA_SVID_EXTERNAL_ID: config: LAMBDA_SVID_EXTERNAL_ID is invalid; expected 2 to 1224 characters of [\\w+=,.@:/-]",
    );
  });
});

describe("the configuration reference's cli section", () => {
  const reference = readFileSync(REFERENCE_FILE, "utf8");
  const section = reference.slice(
    reference.indexOf("\n## cli\n"),
    reference.indexOf("\n## shared\n"),
  );

  it("names every variable status, report and verify read, in each mode", () => {
    const reads = [
      () => {
        const { env, read } = recording(TABLE);
        readThresholds(env, loadFleetConfig(env), new Date());
        return read;
      },
      () => {
        const { env, read } = recording(METADATA);
        readThresholds(env, loadFleetConfig(env), new Date());
        return read;
      },
      () => {
        const { env, read } = recording({});
        readTrustDomain(ISSUER_CATALOGUE.reader(env), { ifSet: true });
        return read;
      },
    ];
    const names = new Set(reads.flatMap((r) => [...r()]));
    expect(names).toContain("LAMBDA_SVID_TRUST_DOMAIN");
    for (const name of names) expect(section, name).toContain(`\`${name}\``);
    // Never the CA: an operator reading the fleet does not configure one.
    expect(names).not.toContain("LAMBDA_SVID_CA");
  });

  it("lists the command line's own variables in its table", () => {
    for (const spec of CLI_CATALOGUE.variables) expect(section).toContain(`| \`${spec.name}\` |`);
  });
});

describe("verify's trust domain from the environment", () => {
  it("is optional, and read by the issuer's declaration when set", () => {
    expect(readTrustDomain(ISSUER_CATALOGUE.reader({}), { ifSet: true })).toBeUndefined();
    expect(
      readTrustDomain(ISSUER_CATALOGUE.reader({ LAMBDA_SVID_TRUST_DOMAIN: "example.org" }), {
        ifSet: true,
      })?.name,
    ).toBe("example.org");
    const bad = thrown(
      () =>
        readTrustDomain(ISSUER_CATALOGUE.reader({ LAMBDA_SVID_TRUST_DOMAIN: "Example.org" }), {
          ifSet: true,
        }),
      ConfigError,
    );
    expect(bad.variable).toBe("LAMBDA_SVID_TRUST_DOMAIN");
  });
});
