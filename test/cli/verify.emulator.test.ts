import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { beforeAll, describe, expect, it } from "vitest";
import { WRONG_TRUST_DOMAIN } from "../../cli/commands/verify.ts";
import { SvidReason } from "../../layers/spiffe/index.ts";
import { secretsClientForAccount } from "../emulator/secrets.ts";
import { TestCa } from "../support/ca.ts";
import { cliFleet, credentialsEnv, expectNothingSecret, runCli } from "./cli-harness.ts";

describe("lambda-svid verify", { timeout: 120_000 }, () => {
  let account: string;
  let tenantEnv: Record<string, string>;
  let document: string;
  let dir: string;

  beforeAll(async () => {
    const fleet = await cliFleet(1);
    account = fleet.accounts[0] as string;
    const issued = await runCli(["issue"], fleet.env);
    expect(issued.code).toBe(0);
    tenantEnv = await credentialsEnv(account);
    const secret = await secretsClientForAccount(account).send(
      new GetSecretValueCommand({ SecretId: "lambda-svid/svid" }),
    );
    document = secret.SecretString as string;
    dir = await mkdtemp(join(tmpdir(), "lambda-svid-cli-verify-"));
  });

  it("a good SVID from the secret: ID, serial, issuer, validity; exit 0", async () => {
    const run = await runCli(["verify", "lambda-svid/svid"], tenantEnv);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toMatch(
      new RegExp(
        `^OK secret arn:aws:secretsmanager:us-east-1:${account}:secret:lambda-svid/svid-\\w{6} version \\S+$`,
      ),
    );
    expect(lines[1]).toBe("id          spiffe://example.org/prod/svc0");
    expect(lines[2]).toMatch(/^serial {6}[0-9A-F]+$/);
    expect(lines[3]).toMatch(/^issuer {6}\S/);
    expect(lines[4]).toMatch(/^not before {2}\d{4}-\d\d-\d\dT\S+Z$/);
    expect(lines[5]).toMatch(/^not after {3}\d{4}-\d\d-\d\dT\S+Z$/);
    expect(lines[6]).toBe("chain       2 certificates to a root of the example.org bundle");
    expectNothingSecret(run, tenantEnv);
    expect(run.stdout).not.toContain(JSON.parse(document).x509SvidKey.split("\n")[1]);
  });

  it("the same document from a file, with the expected trust domain; exit 0", async () => {
    const file = join(dir, "good.json");
    await writeFile(file, document);
    const run = await runCli(["verify", file, "--trust-domain", "example.org"], tenantEnv);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[0]).toBe(`OK file ${file}`);
  });

  it("a document whose bundle was swapped for another CA's fails with the rule; exit 1", async () => {
    const other = await TestCa.root("example.org");
    const file = join(dir, "tampered-bundle.json");
    await writeFile(
      file,
      JSON.stringify({ ...JSON.parse(document), bundle: other.bundle().toPem() }),
    );
    const run = await runCli(["verify", file], tenantEnv);
    expect(run.code).toBe(1);
    const [head, rule] = run.stdout.trim().split("\n");
    expect(head).toBe(`FAILED file ${file}`);
    expect(rule?.startsWith(`rule: ${SvidReason.NO_CHAIN_TO_BUNDLE}`)).toBe(true);
    expectNothingSecret(run, tenantEnv);
  });

  it("a leaf whose signature was altered fails with the rule; exit 1", async () => {
    const doc = JSON.parse(document) as { x509Svid: string };
    const [leafPem, ...rest] = doc.x509Svid.split(/(?<=-----END CERTIFICATE-----\n?)/);
    const der = Buffer.from((leafPem as string).replace(/-----[^-]+-----|\s/g, ""), "base64");
    der[der.length - 5] = (der[der.length - 5] as number) ^ 0xff;
    const tampered = `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`;
    const file = join(dir, "tampered-signature.json");
    await writeFile(file, JSON.stringify({ ...doc, x509Svid: tampered + rest.join("") }));
    const run = await runCli(["verify", file], tenantEnv);
    expect(run.code).toBe(1);
    expect(run.stdout.trim().split("\n")[1]).toBe(
      `rule: ${SvidReason.NO_CHAIN_TO_BUNDLE}: spiffe://example.org/prod/svc0`,
    );
  });

  it("an SVID of another trust domain than the expected one fails; exit 1", async () => {
    const run = await runCli(
      ["verify", "lambda-svid/svid", "--trust-domain", "other.org"],
      tenantEnv,
    );
    expect(run.code).toBe(1);
    expect(run.stdout.trim().split("\n")[1]).toBe(
      `rule: ${WRONG_TRUST_DOMAIN}: "example.org" is not "other.org"`,
    );
  });

  it("neither a file nor a readable secret: exit 3, naming what was tried", async () => {
    const run = await runCli(["verify", "no/such-secret"], tenantEnv);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /^lambda-svid verify: cli: verify: could not read the SVID document: "no\/such-secret" is not a file, and reading it as a secret failed: ResourceNotFoundException: /,
    );
  });
});
