import { describe, expect, it } from "vitest";
import { createIssuer, createPlanner, createWorker } from "../../functions/issuer/compose.ts";
import { loadIssuerConfig, requireSetting, SettingUser } from "../../functions/issuer/config.ts";
import { IdTemplateReason } from "../../functions/issuer/errors.ts";
import { ConfigError, ConfigReason } from "../../lib/config/index.ts";
import { thrown } from "../support/thrown.ts";

const base = {
  LAMBDA_SVID_TRUST_DOMAIN: "example.org",
  LAMBDA_SVID_CA: "local:/tmp/ca",
  LAMBDA_SVID_EXTERNAL_ID: "ext-id-123",
};

function configError(env: Record<string, string>): ConfigError {
  return thrown(() => loadIssuerConfig(env), ConfigError);
}

describe("issuer configuration", () => {
  it("applies the documented defaults", () => {
    const c = loadIssuerConfig(base);
    expect(c.trustDomain.name).toBe("example.org");
    expect(c.registry).toEqual({ kind: "organizations" });
    expect(c.ca).toEqual({ kind: "local", directory: "/tmp/ca" });
    expect(c.writerRole).toBe("lambda-svid-writer");
    expect(c.secretName).toBe("lambda-svid/svid");
    expect(c.validityMs).toBe(24 * 3_600_000);
    expect(c.renewBeforeMs).toBe(8 * 3_600_000);
    expect(c.keyAlgorithm).toBe("EC_P256");
    expect(c.idTemplate.text).toBe("spiffe://{trustDomain}/{environment}/{service}");
    expect(c.tagKeys).toEqual({
      service: "lambda-svid:service",
      environment: "lambda-svid:environment",
      enabled: "lambda-svid:enabled",
      spansAccounts: "lambda-svid:spans-accounts",
    });
    expect(c.secretFormat).toBe("string");
    expect(c.caIssueRate).toBeLessThan(25);
    expect(c.caGetRate).toBeLessThan(75);
  });

  it("reads every variable", () => {
    const arn =
      "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/0f2c3d4e-1111-2222-3333-444455556666";
    const c = loadIssuerConfig({
      ...base,
      LAMBDA_SVID_REGISTRY: "file:/etc/registry.yaml",
      LAMBDA_SVID_CA: `acm-pca:${arn}`,
      LAMBDA_SVID_WRITER_ROLE: "svid-writer",
      LAMBDA_SVID_SECRET_NAME: "team/svid",
      LAMBDA_SVID_ID_TEMPLATE: "spiffe://{trustDomain}/aws/{accountId}/{service}",
      LAMBDA_SVID_VALIDITY: "12h",
      LAMBDA_SVID_RENEW_BEFORE: "3h",
      LAMBDA_SVID_KEY_ALGORITHM: "RSA_2048",
      LAMBDA_SVID_CONCURRENCY: "4",
      LAMBDA_SVID_CA_ISSUE_RATE: "5.5",
      LAMBDA_SVID_KMS_KEY_ID: "alias/svid",
      LAMBDA_SVID_SECRET_FORMAT: "binary",
      LAMBDA_SVID_TAG_SPANS_ACCOUNTS: "svid:shared",
    });
    expect(c.secretFormat).toBe("binary");
    expect(c.tagKeys.spansAccounts).toBe("svid:shared");
    expect(c.registry).toEqual({ kind: "file", path: "/etc/registry.yaml" });
    expect(c.ca).toEqual({ kind: "acm-pca", arn });
    expect(c.validityMs).toBe(12 * 3_600_000);
    expect(c.renewBeforeMs).toBe(3 * 3_600_000);
    expect(c.keyAlgorithm).toBe("RSA_2048");
    expect(c.concurrency).toBe(4);
    expect(c.caIssueRate).toBe(5.5);
    expect(c.kmsKeyId).toBe("alias/svid");
    expect(
      c.idTemplate
        .render({ service: "web", environment: "prod", accountId: "111122223333" })
        .toString(),
    ).toBe("spiffe://example.org/aws/111122223333/web");
  });

  it.each([
    [{ LAMBDA_SVID_TRUST_DOMAIN: "" }, "LAMBDA_SVID_TRUST_DOMAIN"],
    [{ LAMBDA_SVID_TRUST_DOMAIN: "Example.org" }, "LAMBDA_SVID_TRUST_DOMAIN"],
    [{ LAMBDA_SVID_CA: "vault:/x" }, "LAMBDA_SVID_CA"],
    [{ LAMBDA_SVID_CA: "acm-pca:not-an-arn" }, "LAMBDA_SVID_CA"],
    [{ LAMBDA_SVID_REGISTRY: "ldap" }, "LAMBDA_SVID_REGISTRY"],
    [{ LAMBDA_SVID_VALIDITY: "forever" }, "LAMBDA_SVID_VALIDITY"],
    [{ LAMBDA_SVID_VALIDITY: "30d" }, "LAMBDA_SVID_VALIDITY"],
    [{ LAMBDA_SVID_RENEW_BEFORE: "25h" }, "LAMBDA_SVID_RENEW_BEFORE"],
    [{ LAMBDA_SVID_KEY_ALGORITHM: "DSA" }, "LAMBDA_SVID_KEY_ALGORITHM"],
    [{ LAMBDA_SVID_CONCURRENCY: "0" }, "LAMBDA_SVID_CONCURRENCY"],
    [{ LAMBDA_SVID_CA_ISSUE_RATE: "30" }, "LAMBDA_SVID_CA_ISSUE_RATE"],
    [{ LAMBDA_SVID_ID_TEMPLATE: "spiffe://{trustDomain}/{env}" }, "LAMBDA_SVID_ID_TEMPLATE"],
    [{ LAMBDA_SVID_ID_TEMPLATE: "spiffe://other.org/{service}" }, "LAMBDA_SVID_ID_TEMPLATE"],
    [{ LAMBDA_SVID_WRITER_ROLE: "bad role" }, "LAMBDA_SVID_WRITER_ROLE"],
    [{ LAMBDA_SVID_SECRET_FORMAT: "json" }, "LAMBDA_SVID_SECRET_FORMAT"],
  ])("a bad value stops with a message naming the variable: %j", (override, variable) => {
    const err = configError({ ...base, ...override });
    expect(err.reason).toBe(ConfigReason.INVALID);
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(new RegExp(`^config: ${variable} is .*; expected `));
  });

  it("names the bad value and what was expected", () => {
    expect(configError({ ...base, LAMBDA_SVID_CONCURRENCY: "lots" }).message).toBe(
      'config: LAMBDA_SVID_CONCURRENCY is "lots"; expected an integer from 1 to 256',
    );
  });

  it("names the accepted secret formats", () => {
    expect(configError({ ...base, LAMBDA_SVID_SECRET_FORMAT: "SecretBinary" }).message).toBe(
      'config: LAMBDA_SVID_SECRET_FORMAT is "SecretBinary"; expected one of string, binary',
    );
  });

  it.each([
    ["spiffe://{trustDomain}/{environment}{service}", "{environment} and {service}"],
    ["spiffe://{trustDomain}/{environment}-{service}", "{environment} and {service}"],
    ["spiffe://{trustDomain}/{environment}.x_{service}", "{environment} and {service}"],
    ["spiffe://{trustDomain}/{service}{accountId}", "{service} and {accountId}"],
    ["spiffe://{trustDomain}/{environment}/{service}_{accountId}", "{service} and {accountId}"],
    ["spiffe://{trustDomain}/{environment}{trustDomain}{service}", "{environment} and {service}"],
  ])(
    "refuses %s: its placeholders are not separated, so two identities could share an ID",
    (template, pair) => {
      const err = configError({ ...base, LAMBDA_SVID_ID_TEMPLATE: template });
      expect(err.variable).toBe("LAMBDA_SVID_ID_TEMPLATE");
      expect(err.message).toBe(
        `config: LAMBDA_SVID_ID_TEMPLATE is ${JSON.stringify(template)}; expected a template such as spiffe://{trustDomain}/{environment}/{service} (${IdTemplateReason.NOT_SEPARATED}: ${pair})`,
      );
    },
  );

  it.each([
    "spiffe://{trustDomain}/{environment}/{service}",
    "spiffe://{trustDomain}/lambda/{environment}/svc-{service}/{accountId}",
    "spiffe://{trustDomain}/{service}",
  ])("accepts %s", (template) => {
    expect(loadIssuerConfig({ ...base, LAMBDA_SVID_ID_TEMPLATE: template }).idTemplate.text).toBe(
      template,
    );
  });

  it("never echoes the ExternalId", () => {
    const err = configError({ ...base, LAMBDA_SVID_EXTERNAL_ID: "bad value with spaces" });
    expect(err.message).not.toContain("bad value");
  });
});

describe("settings the planner runs without", () => {
  const planner = {
    LAMBDA_SVID_TRUST_DOMAIN: "example.org",
    LAMBDA_SVID_STATE_TABLE: "state",
    LAMBDA_SVID_WORK_QUEUE_URL: "http://127.0.0.1:9/000000000000/work",
    LAMBDA_SVID_DEAD_LETTER_QUEUE_URL: "http://127.0.0.1:9/000000000000/dead-letter",
  };
  const CA_MISSING =
    'config: LAMBDA_SVID_CA is ""; expected acm-pca:<certificate-authority-arn> or local:<directory>';
  const EXTERNAL_ID_MISSING =
    'config: LAMBDA_SVID_EXTERNAL_ID is ""; expected the ExternalId the tenant writer roles require';

  it("loads without the CA and the ExternalId, and the planner builds", () => {
    const c = loadIssuerConfig(planner);
    expect(c.ca).toBeUndefined();
    expect(c.externalId).toBeUndefined();
    expect(() => createPlanner(c)).not.toThrow();
  });

  it("still refuses a malformed CA where it is not used", () => {
    expect(configError({ ...planner, LAMBDA_SVID_CA: "vault:/x" }).variable).toBe("LAMBDA_SVID_CA");
  });

  it.each([
    ["the worker", () => createWorker(loadIssuerConfig(planner))],
    ["a direct run", () => createIssuer(loadIssuerConfig(planner))],
  ])("%s refuses to be built without the ExternalId, naming itself", (user, build) => {
    const err = thrown(build, ConfigError);
    expect(err.variable).toBe("LAMBDA_SVID_EXTERNAL_ID");
    expect(err.message).toBe(`${EXTERNAL_ID_MISSING} (required by ${user})`);
  });

  it.each([
    ["the worker", createWorker],
    ["a direct run", createIssuer],
  ])("%s refuses to be built without the CA, naming itself", (user, create) => {
    const config = loadIssuerConfig({ ...planner, LAMBDA_SVID_EXTERNAL_ID: "ext-id-123" });
    const err = thrown(() => create(config), ConfigError);
    expect(err.variable).toBe("LAMBDA_SVID_CA");
    expect(err.message).toBe(`${CA_MISSING} (required by ${user})`);
  });

  it("needs no CA when the caller opens the CA itself", () => {
    const config = loadIssuerConfig({ ...planner, LAMBDA_SVID_EXTERNAL_ID: "ext-id-123" });
    const openCa = () => Promise.reject(new Error("not opened in this test"));
    expect(() => createWorker(config, { openCa })).not.toThrow();
  });

  it("returns the setting when it is set", () => {
    const config = loadIssuerConfig({ ...planner, ...base });
    expect(requireSetting(config, "ca", SettingUser.WORKER)).toEqual({
      kind: "local",
      directory: "/tmp/ca",
    });
    expect(requireSetting(config, "externalId", SettingUser.DIRECT_RUN)).toBe("ext-id-123");
  });
});
