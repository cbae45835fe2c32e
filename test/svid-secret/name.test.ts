import { describe, expect, it } from "vitest";
import { loadIssuerConfig } from "../../functions/issuer/config.ts";
import { loadSyncerConfig } from "../../functions/syncer/config.ts";
import { loadAgentConfig } from "../../layers/agent/index.ts";
import {
  DEFAULT_SVID_SECRET_NAME,
  SVID_SECRET_NAME_SPEC,
  SVID_SECRET_NAME_VARIABLE,
} from "../../layers/svid-secret/index.ts";
import { Catalogue, ConfigError, type Env } from "../../lib/config/index.ts";
import { thrown } from "../support/thrown.ts";

const BAD = "lambda svid/svid";
const MESSAGE =
  'config: LAMBDA_SVID_SECRET_NAME is "lambda svid/svid"; expected a Secrets Manager secret name, 1 to 512 characters of [A-Za-z0-9/_+=.@-]';

/** Every part that reads the SVID secret's name, with the least it needs besides. */
const READERS: Record<string, (env: Env) => string> = {
  issuer: (env) =>
    loadIssuerConfig({
      LAMBDA_SVID_TRUST_DOMAIN: "example.org",
      LAMBDA_SVID_CA: "local:/tmp/ca",
      LAMBDA_SVID_EXTERNAL_ID: "external-id",
      ...env,
    }).secretName,
  syncer: (env) =>
    loadSyncerConfig({
      LAMBDA_SVID_KEYWHIZ_URL: "https://keywhiz.internal:4444",
      LAMBDA_SVID_KEYWHIZ_CA: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      LAMBDA_SVID_SYNC_OPT_IN: "db-*",
      ...env,
    }).svidSecretName,
  agent: (env) => loadAgentConfig({ AWS_SESSION_TOKEN: "t", ...env }).secretName,
};

/** The shared declaration alone, read as any part's catalogue reads it. */
const readName = (env: Env) =>
  new Catalogue("test", "the declaration alone", [SVID_SECRET_NAME_SPEC])
    .reader(env)
    .read(SVID_SECRET_NAME_VARIABLE);

describe("SVID_SECRET_NAME_SPEC", () => {
  it("is the default when unset or empty, and the variable's value otherwise", () => {
    expect(DEFAULT_SVID_SECRET_NAME).toBe("lambda-svid/svid");
    expect(SVID_SECRET_NAME_VARIABLE).toBe("LAMBDA_SVID_SECRET_NAME");
    expect(readName({})).toBe("lambda-svid/svid");
    expect(readName({ LAMBDA_SVID_SECRET_NAME: " " })).toBe("lambda-svid/svid");
    expect(readName({ LAMBDA_SVID_SECRET_NAME: "team/svid" })).toBe("team/svid");
  });

  it.each([BAD, "a".repeat(513), "svid*", "svid\u00e9"])(
    "refuses %j, naming the variable",
    (bad) => {
      const err = thrown(() => readName({ LAMBDA_SVID_SECRET_NAME: bad }), ConfigError);
      expect(err.variable).toBe("LAMBDA_SVID_SECRET_NAME");
    },
  );
});

describe.each(Object.entries(READERS))("the %s reads the name the same way", (_part, read) => {
  it("takes the default and an override", () => {
    expect(read({})).toBe("lambda-svid/svid");
    expect(read({ LAMBDA_SVID_SECRET_NAME: "team/svid" })).toBe("team/svid");
  });

  it("refuses a name Secrets Manager would refuse, with the same message", () => {
    expect(thrown(() => read({ LAMBDA_SVID_SECRET_NAME: BAD }), ConfigError).message).toBe(MESSAGE);
  });
});
