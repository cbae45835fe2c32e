import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { UpdateSecretCommand } from "@aws-sdk/client-secrets-manager";
import { beforeAll, describe, expect, it } from "vitest";
import { IssuerStore } from "../../functions/issuer/store.ts";
import { svidSecretDescription } from "../../layers/svid-secret/index.ts";
import { clientConfigForAccount } from "../emulator/accounts.ts";
import { secretsClientForAccount } from "../emulator/secrets.ts";
import { cliFleet, expectNothingSecret, runCli } from "./cli-harness.ts";

const HOUR = 3_600_000;

interface StatusJson {
  source: string;
  attention: number;
  identities: Array<{
    accountId: string;
    spiffeId: string;
    outcome: string;
    health: string;
    secondsLeft: number | null;
    notAfter?: string;
    failure?: { stage: string; reason: string };
  }>;
}

describe("lambda-svid issue and status (secret metadata, no state table)", {
  timeout: 120_000,
}, () => {
  let fleet: Awaited<ReturnType<typeof cliFleet>>;
  beforeAll(async () => {
    fleet = await cliFleet(3);
  });

  it("issue --account issues that account only; status then shows the others missing and exits 1", async () => {
    const [first, second, third] = fleet.accounts as [string, string, string];
    const issued = await runCli(["issue", "--account", second], fleet.env);
    expect(issued.stderr).toBe("");
    expect(issued.code).toBe(0);
    const lines = issued.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^SPIFFE ID\s+ACCOUNT\s+NOT AFTER\s+OUTCOME$/);
    expect(lines.slice(1, -1)).toHaveLength(1);
    expect(lines[1]).toMatch(
      new RegExp(`^spiffe://example.org/prod/svc1\\s+${second}\\s+\\S+Z\\s+issued$`),
    );
    expect(lines.at(-1)).toBe("issued 1, skipped-fresh 0, failed 0, not-reached 0, invalid 0");
    expectNothingSecret(issued, fleet.env);

    const table = await runCli(["status"], fleet.env);
    expect(table.code).toBe(1);
    const rows = table.stdout.trim().split("\n");
    expect(rows[0]).toMatch(
      /^3 identities from secret metadata; alarm below 6h, renewal 8h before not-after; at /,
    );
    expect(rows[1]).toMatch(/^SPIFFE ID\s+ACCOUNT\s+NOT AFTER\s+LEFT\s+OUTCOME$/);
    // Missing first (by SPIFFE ID), then by time left.
    expect(rows[2]).toMatch(
      new RegExp(`^spiffe://example.org/prod/svc0\\s+${first}\\s+-\\s+-\\s+missing$`),
    );
    expect(rows[3]).toMatch(
      new RegExp(`^spiffe://example.org/prod/svc2\\s+${third}\\s+-\\s+-\\s+missing$`),
    );
    expect(rows[4]).toMatch(
      new RegExp(`^spiffe://example.org/prod/svc1\\s+${second}\\s+\\S+Z\\s+23h5\\dm\\s+issued$`),
    );
    expect(rows[5]).toBe("2 of 3 need attention (expired, missing or below the alarm threshold)");
    // Not a terminal: no colour codes.
    expect(table.stdout).not.toContain("\u001b[");
    expectNothingSecret(table, fleet.env);
  });

  it("after a full issue, status is healthy (exit 0) in the table and in JSON", async () => {
    const issued = await runCli(["issue"], fleet.env);
    expect(issued.code).toBe(0);
    expect(issued.stdout.trim().split("\n").at(-1)).toBe(
      "issued 2, skipped-fresh 1, failed 0, not-reached 0, invalid 0",
    );
    const table = await runCli(["status"], fleet.env);
    expect(table.code).toBe(0);
    expect(table.stdout.trim().split("\n").at(-1)).toBe("all 3 healthy");

    const json = await runCli(["status", "--json"], fleet.env);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as StatusJson;
    expect(parsed.source).toBe("secret metadata");
    expect(parsed.attention).toBe(0);
    expect(parsed.identities.map((r) => r.accountId).sort()).toEqual([...fleet.accounts].sort());
    for (const row of parsed.identities) {
      expect(row.health).toBe("ok");
      expect(row.outcome).toBe("issued");
      expect(row.secondsLeft).toBeGreaterThan(23 * 3600);
    }
    const left = parsed.identities.map((r) => r.secondsLeft as number);
    expect(left).toEqual([...left].sort((a, b) => a - b));
    expectNothingSecret(json, fleet.env);
  });

  it("report --html writes the page of the same rows; exit 0", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "lambda-svid-cli-report-")), "fleet.html");
    const run = await runCli(["report", "--html", file], fleet.env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^wrote ${file}: 3 identities from secret metadata, \\d+ bytes\n$`),
    );
    const html = await readFile(file, "utf8");
    expect(html.toLowerCase().startsWith("<!doctype html>")).toBe(true);
    for (const account of fleet.accounts) expect(html).toContain(account);
    expect(html).not.toContain("PRIVATE KEY");
    expectNothingSecret(run, fleet.env);
  });

  it("an identity below the alarm threshold exits 1; so does an expired one, shown as expired", async () => {
    const below = await runCli(["status", "--json"], {
      ...fleet.env,
      LAMBDA_SVID_ALARM_BELOW: "24h",
    });
    expect(below.code).toBe(1);
    const parsed = JSON.parse(below.stdout) as StatusJson;
    expect(parsed.attention).toBe(3);
    expect(new Set(parsed.identities.map((r) => r.health))).toEqual(new Set(["alarm"]));

    const victim = fleet.accounts[0] as string;
    await secretsClientForAccount(victim).send(
      new UpdateSecretCommand({
        SecretId: "lambda-svid/svid",
        Description: svidSecretDescription(new Date(Date.now() - 2 * HOUR)),
      }),
    );
    const expired = await runCli(["status"], fleet.env);
    expect(expired.code).toBe(1);
    const rows = expired.stdout.trim().split("\n");
    expect(rows[2]).toMatch(
      new RegExp(
        `^spiffe://example.org/prod/svc0\\s+${victim}\\s+\\S+Z\\s+expired 2h ago\\s+issued$`,
      ),
    );
    expect(rows.at(-1)).toBe(
      "1 of 3 need attention (expired, missing or below the alarm threshold)",
    );
  });

  it("secret metadata needs no CA; without the ExternalId it exits 3 naming it and the mode", async () => {
    const noCa = await runCli(["status", "--json"], { ...fleet.env, LAMBDA_SVID_CA: undefined });
    expect(noCa.stderr).toBe("");
    expect((JSON.parse(noCa.stdout) as StatusJson).identities).toHaveLength(3);
    for (const command of [["status"], ["report", "--html", join(tmpdir(), "never.html")]]) {
      const run = await runCli(command, { ...fleet.env, LAMBDA_SVID_EXTERNAL_ID: undefined });
      expect(run.code).toBe(3);
      expect(run.stdout).toBe("");
      expect(run.stderr).toBe(
        `lambda-svid ${command[0]}: cli: fleet: configuration: reading secret metadata (LAMBDA_SVID_STATE_TABLE unset) needs LAMBDA_SVID_EXTERNAL_ID: config: LAMBDA_SVID_EXTERNAL_ID is ""; expected the ExternalId the tenant writer roles require\n`,
      );
    }
  });

  it("could not read: a bad variable or an unreachable table exits 3, naming it", async () => {
    const bad = await runCli(["status"], { ...fleet.env, LAMBDA_SVID_ALARM_BELOW: "soon" });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toBe(
      'lambda-svid status: config: LAMBDA_SVID_ALARM_BELOW is "soon"; expected a duration up to LAMBDA_SVID_VALIDITY, such as 6h\n',
    );
    const missing = await runCli(["status"], { ...fleet.env, LAMBDA_SVID_TRUST_DOMAIN: undefined });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe(
      'lambda-svid status: cli: fleet: configuration: reading secret metadata (LAMBDA_SVID_STATE_TABLE unset) needs LAMBDA_SVID_TRUST_DOMAIN: config: LAMBDA_SVID_TRUST_DOMAIN is ""; expected a SPIFFE trust domain name such as example.org\n',
    );
    const table = await runCli(["status"], {
      ...fleet.env,
      LAMBDA_SVID_STATE_TABLE: "no-such-table",
    });
    expect(table.code).toBe(3);
    expect(table.stderr).toMatch(/^lambda-svid status: .*not found/i);
    expectNothingSecret(table, fleet.env);
  });
});

describe("lambda-svid status from the issuer's state table", { timeout: 120_000 }, () => {
  it("shows what the workers recorded: issued, failed with its stage and reason, pending, missing", async () => {
    const fleet = await cliFleet(4);
    const [ok, failed, pending, never] = fleet.accounts as [string, string, string, string];
    const table = `lambda-svid-cli-${ok}`;
    // The table is the central account's: the one the CLI's credentials act in.
    const dynamodb = new DynamoDBClient(clientConfigForAccount(fleet.org.managementAccountId));
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
      }),
    );
    const now = Date.now();
    const at = (ms: number) => new Date(now + ms).toISOString();
    const id = (i: number) => `spiffe://example.org/prod/svc${i}`;
    const store = new IssuerStore(dynamodb, table);
    await store.write([
      { kind: "listing", listedAt: at(-HOUR) },
      ...fleet.org.accounts.map((a) => ({
        kind: "registry" as const,
        record: { accountId: a.id, status: "ACTIVE", tags: a.tags, readAt: at(-HOUR) },
      })),
      {
        kind: "plan",
        record: { accountId: ok, plannedAt: at(-HOUR), reason: "new", spiffeId: id(0) },
      },
      {
        kind: "state",
        record: {
          accountId: ok,
          spiffeId: id(0),
          outcome: "issued",
          plannedAt: at(-HOUR),
          notAfter: at(20 * HOUR),
          seenAt: at(-HOUR),
        },
      },
      {
        kind: "plan",
        record: { accountId: failed, plannedAt: at(-HOUR), reason: "renew", spiffeId: id(1) },
      },
      {
        kind: "state",
        record: {
          accountId: failed,
          spiffeId: id(1),
          outcome: "failed",
          plannedAt: at(-HOUR),
          notAfter: at(3 * HOUR),
          failure: {
            stage: "sign",
            reason: "ThrottlingException: Rate exceeded",
            at: at(-HOUR / 2),
          },
        },
      },
      {
        kind: "plan",
        record: { accountId: pending, plannedAt: at(-60_000), reason: "new", spiffeId: id(2) },
      },
    ]);
    // Reading the table needs neither the CA nor the tenants' ExternalId.
    const operator = {
      ...fleet.env,
      LAMBDA_SVID_CA: undefined,
      LAMBDA_SVID_EXTERNAL_ID: undefined,
      LAMBDA_SVID_STATE_TABLE: table,
    };
    const run = await runCli(["status", "--json"], operator);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    const parsed = JSON.parse(run.stdout) as StatusJson;
    expect(parsed.source).toBe(`state table ${table}`);
    const byAccount = Object.fromEntries(parsed.identities.map((r) => [r.accountId, r]));
    expect(byAccount[ok]).toMatchObject({
      outcome: "issued",
      health: "ok",
      notAfter: at(20 * HOUR),
    });
    expect(byAccount[failed]).toMatchObject({
      outcome: "failed",
      health: "alarm",
      failure: { stage: "sign", reason: "ThrottlingException: Rate exceeded" },
    });
    expect(byAccount[pending]).toMatchObject({
      outcome: "pending",
      health: "missing",
      secondsLeft: null,
    });
    expect(byAccount[never]).toMatchObject({ outcome: "missing", health: "missing" });
    expect(parsed.identities.map((r) => r.accountId).slice(2)).toEqual([failed, ok]);

    const text = await runCli(["status"], operator);
    expect(text.stdout).toMatch(
      new RegExp(
        `${failed}\\s+\\S+Z\\s+2h59m\\s+failed \\(sign: ThrottlingException: Rate exceeded\\)`,
      ),
    );
    expectNothingSecret(text, fleet.env);

    const file = join(await mkdtemp(join(tmpdir(), "lambda-svid-cli-report-")), "fleet.html");
    const page = await runCli(["report", "--html", file], operator);
    expect(page.stderr).toBe("");
    expect(page.code).toBe(0);
    expect(page.stdout).toMatch(
      new RegExp(`^wrote ${file}: 4 identities from state table ${table},`),
    );
  });
});
