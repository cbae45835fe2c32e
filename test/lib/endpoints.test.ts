import { ACMPCAClient, DescribeCertificateAuthorityCommand } from "@aws-sdk/client-acm-pca";
import { DescribeSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fixedEndpoint } from "../../lib/endpoints/index.ts";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example" };

describe("fixedEndpoint", () => {
  let saved: NodeJS.ProcessEnv;
  beforeEach(() => {
    saved = { ...process.env };
    for (const name of Object.keys(process.env)) {
      if (name.startsWith("AWS_ENDPOINT_URL") || name === "AWS_USE_FIPS_ENDPOINT") {
        delete process.env[name];
      }
    }
  });
  afterEach(() => {
    process.env = saved;
  });

  it("is the Regional endpoint the rules give, for the current clients and the pinned CA client alike", async () => {
    const sm = new SecretsManagerClient({ region: "eu-west-1", credentials });
    expect(await fixedEndpoint(sm.config, DescribeSecretCommand)).toBe(
      "https://secretsmanager.eu-west-1.amazonaws.com/",
    );
    const pca = new ACMPCAClient({ region: "ap-southeast-2", credentials });
    expect(await fixedEndpoint(pca.config, DescribeCertificateAuthorityCommand)).toBe(
      "https://acm-pca.ap-southeast-2.amazonaws.com/",
    );
  });

  it("is the configured endpoint when one is set: the service's own variable first, then AWS_ENDPOINT_URL", async () => {
    process.env.AWS_ENDPOINT_URL = "http://127.0.0.1:4566";
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = "http://127.0.0.1:5000";
    const sm = new SecretsManagerClient({ region: "us-east-1", credentials });
    expect(await fixedEndpoint(sm.config, DescribeSecretCommand)).toBe("http://127.0.0.1:5000/");
    const pca = new ACMPCAClient({ region: "us-east-1", credentials });
    expect(await fixedEndpoint(pca.config, DescribeCertificateAuthorityCommand)).toBe(
      "http://127.0.0.1:4566/",
    );
  });

  it("is the endpoint a client was given", async () => {
    const sm = new SecretsManagerClient({
      region: "us-east-1",
      credentials,
      endpoint: "https://sm.example.internal",
    });
    expect(await fixedEndpoint(sm.config, DescribeSecretCommand)).toBe(
      "https://sm.example.internal/",
    );
  });

  it("is undefined for a client that asks for FIPS or dual-stack endpoints, whose rules refuse a fixed one", async () => {
    for (const setting of [{ useFipsEndpoint: true }, { useDualstackEndpoint: true }]) {
      const sm = new SecretsManagerClient({ region: "us-east-1", credentials, ...setting });
      expect(await fixedEndpoint(sm.config, DescribeSecretCommand)).toBeUndefined();
    }
    process.env.AWS_USE_FIPS_ENDPOINT = "true";
    const fips = new SecretsManagerClient({ region: "us-east-1", credentials });
    expect(await fixedEndpoint(fips.config, DescribeSecretCommand)).toBeUndefined();
  });
});
