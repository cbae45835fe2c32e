import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-secrets-manager";
import { STSClient } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import { LocalCertificateAuthority } from "../../functions/issuer/ca/local.ts";
import type { SignRequest } from "../../functions/issuer/ca/port.ts";
import { IssueCheckReason } from "../../functions/issuer/errors.ts";
import {
  parseSpiffeId,
  parseSvidSecret,
  parseTrustDomain,
  verifyX509Svid,
  X509Bundle,
} from "../../layers/spiffe/index.ts";
import { notAfterFromDescription, SvidSecretTag } from "../../layers/svid-secret/index.ts";
import { countCalls, injectFaults } from "../emulator/faults.ts";
import { issuerHarness } from "./issuer-harness.ts";

const DAY = 24 * 3_600_000;

describe("issuer against the emulator", () => {
  it("issues a verified 24-hour SVID into every enabled account, then skips them while fresh", async () => {
    const h = await issuerHarness({ accounts: 4 });
    const first = await h.run();
    expect(first.report.counts).toMatchObject({ issued: 4, "skipped-fresh": 0, failed: 0 });
    const bundle = X509Bundle.fromPem(
      "example.org",
      await readFile(join(h.caDir, "bundle.pem"), "utf8"),
    );

    for (const account of h.tenantAccounts) {
      const value = await h.readSecret(account.id);
      const { svid, bundle: stored } = parseSvidSecret(value);
      expect(svid.id.toString()).toBe(`spiffe://example.org/prod/${account.name}`);
      expect(stored.toPem()).toBe(bundle.toPem());
      expect(verifyX509Svid(svid.chainPem(), bundle).id.equals(svid.id)).toBe(true);
      expect(svid.leaf.x509.checkPrivateKey(svid.privateKey)).toBe(true);
      expect(svid.notAfter.getTime() - svid.notBefore.getTime()).toBe(DAY);
      const described = await h
        .tenantClient(account.id)
        .send(new DescribeSecretCommand({ SecretId: h.config.secretName }));
      const tags = Object.fromEntries((described.Tags ?? []).map((t) => [t.Key, t.Value]));
      expect(tags[SvidSecretTag.OWNER]).toBe("lambda-svid-issuer");
      expect(tags[SvidSecretTag.SPIFFE_ID]).toBe(svid.id.toString());
      expect(tags[SvidSecretTag.NOT_AFTER]).toBeUndefined();
      expect(notAfterFromDescription(described.Description)).toEqual(svid.notAfter);
    }

    const second = await h.run();
    expect(second.report.counts).toMatchObject({ issued: 0, "skipped-fresh": 4, failed: 0 });
    expect(second.report.minSecondsToExpiry).toBeGreaterThan(23 * 3600);

    const forced = await h.run({ force: true });
    expect(forced.report.counts).toMatchObject({ issued: 4, "skipped-fresh": 0 });

    const narrowed = await h.run({ force: true, accounts: [h.tenantAccounts[1]?.id as string] });
    expect(narrowed.report.identities.map((r) => r.accountId)).toEqual([h.tenantAccounts[1]?.id]);
    expect(narrowed.report.counts.issued).toBe(1);
  });

  it("renews once less than the renewal threshold remains, using the injected clock", async () => {
    let now = Date.now();
    const h = await issuerHarness({ accounts: 2, now: () => new Date(now) });
    expect((await h.run()).report.counts.issued).toBe(2);
    now += 15 * 3_600_000;
    expect((await h.run()).report.counts["skipped-fresh"]).toBe(2);
    now += 2 * 3_600_000;
    const renewed = await h.run();
    expect(renewed.report.counts.issued).toBe(2);
  });

  it("never writes into an existing secret without the owner tag", async () => {
    const h = await issuerHarness({ accounts: 2 });
    const victim = h.tenantAccounts[0]?.id as string;
    await h
      .tenantClient(victim)
      .send(new CreateSecretCommand({ Name: h.config.secretName, SecretString: "not ours" }));
    const { report } = await h.run();
    const result = report.identities.find((r) => r.accountId === victim);
    expect(result?.outcome).toBe("failed");
    expect(result?.reason).toBe(
      `SvidWriteError: issuer: secret exists without the issuer's owner tag; not overwriting it: "${h.config.secretName}" in account ${victim} lacks lambda-svid:owner=lambda-svid-issuer`,
    );
    expect((await h.readSecret(victim)).SecretString).toBe("not ours");
    expect(report.counts.issued).toBe(1);
  });

  it("restores a secret scheduled for deletion and writes it", async () => {
    const h = await issuerHarness({ accounts: 1 });
    await h.run();
    const account = h.tenantAccounts[0]?.id as string;
    await h
      .tenantClient(account)
      .send(new DeleteSecretCommand({ SecretId: h.config.secretName, RecoveryWindowInDays: 7 }));
    const { report } = await h.run();
    expect(report.counts.issued).toBe(1);
    const described = await h
      .tenantClient(account)
      .send(new DescribeSecretCommand({ SecretId: h.config.secretName }));
    expect(described.DeletedDate).toBeUndefined();
    expect(parseSvidSecret(await h.readSecret(account)).svid.id.path).toBe("/prod/svc0");
  });

  it("retries throttling and 5xx on PutSecretValue and converges", async () => {
    const h = await issuerHarness({
      accounts: 3,
      onTenantClient: (client) => {
        injectFaults(client, {
          commands: ["PutSecretValue", "DescribeSecret"],
          kind: "throttle",
          times: 2,
        });
        injectFaults(client, { commands: ["TagResource"], kind: "server-error", times: 1 });
      },
    });
    await h.run();
    const { report } = await h.run({ force: true });
    expect(report.counts).toMatchObject({ issued: 3, failed: 0 });
  });

  it("AssumeRole denied for one account fails only that identity", async () => {
    const sts = new STSClient({});
    const h = await issuerHarness({ accounts: 3, clients: { sts } });
    const denied = h.tenantAccounts[2]?.id as string;
    injectFaults(sts, {
      commands: ["AssumeRole"],
      kind: "access-denied",
      times: Number.POSITIVE_INFINITY,
      when: (input) => String((input as { RoleArn?: string }).RoleArn).includes(denied),
    });
    const { report } = await h.run();
    expect(report.counts).toMatchObject({ issued: 2, failed: 1 });
    const failed = report.identities.find((r) => r.outcome === "failed");
    expect(failed?.accountId).toBe(denied);
    expect(failed?.stage).toBe("access");
  });

  it.each([
    [
      "the wrong SAN",
      IssueCheckReason.WRONG_ID,
      (r: SignRequest) => ({ ...r, spiffeId: parseSpiffeId("spiffe://example.org/prod/other") }),
    ],
    [
      "too long a validity",
      IssueCheckReason.WRONG_VALIDITY,
      (r: SignRequest) => ({ ...r, notAfter: new Date(r.notBefore.getTime() + 365 * DAY) }),
    ],
  ])("a CA that signs %s causes no push", async (_name, reason, distort) => {
    let local: LocalCertificateAuthority | undefined;
    const h = await issuerHarness({
      accounts: 2,
      clients: {
        openCa: async () => {
          local ??= await LocalCertificateAuthority.open(
            await mkdtemp(join(tmpdir(), "ca-")),
            parseTrustDomain("example.org"),
          );
          const real = local;
          return {
            description: "distorting",
            bundle: () => real.bundle(),
            sign: (r) => real.sign(distort(r)),
          };
        },
      },
    });
    const { report } = await h.run();
    expect(report.counts).toMatchObject({ issued: 0, failed: 2 });
    for (const result of report.identities) {
      expect(result.stage).toBe("verify");
      expect(result.reason).toContain(reason);
      await expect(h.readSecret(result.accountId)).rejects.toThrow(ResourceNotFoundException);
    }
  });

  it("stops starting new identities before the deadline and reports the rest", async () => {
    const h = await issuerHarness({
      accounts: 4,
      env: { LAMBDA_SVID_CONCURRENCY: "1", LAMBDA_SVID_DEADLINE_MARGIN: "10s" },
    });
    // Read once to set the run's deadline, then once before each identity starts.
    let calls = 0;
    const { report } = await h.run({ force: false }, () => (calls++ < 3 ? 60_000 : 5_000));
    expect(report.counts.issued).toBe(2);
    expect(report.counts["not-reached"]).toBe(2);
  });

  it("cuts in-flight work short at the deadline: a slow Secrets Manager leaves identities not reached, and the run returns in time", async () => {
    const h = await issuerHarness({
      accounts: 2,
      env: { LAMBDA_SVID_DEADLINE_MARGIN: "1s" },
      onTenantClient: (client) => {
        injectFaults(client, { commands: ["DescribeSecret"], kind: "delay", delayMs: 60_000 });
      },
    });
    const deadline = Date.now() + 6_000;
    const { report, output } = await h.run({ force: false }, () => deadline - Date.now());
    expect(Date.now()).toBeLessThan(deadline);
    expect(report.counts).toMatchObject({ issued: 0, failed: 0, "not-reached": 2 });
    expect(report.deadlineReached).toBe(true);
    for (const result of report.identities) {
      expect(result).toMatchObject({
        outcome: "not-reached",
        stage: "describe",
        reason: "issuer: the run's deadline was reached",
      });
    }
    expect(output).toContain("not reached before the deadline");
  });

  it("an account whose tags cannot be read is that account's registry problem; the others are issued", async () => {
    let ids: string[] = [];
    const h = await issuerHarness({
      accounts: 4,
      beforeIssuer: async (org) => {
        ids = org.accounts.map((a) => a.id);
      },
      withOrganizations: (client) => {
        const forAccount = (i: number) => (input: Record<string, unknown>) =>
          input.ResourceId === ids[i];
        injectFaults(client, {
          commands: ["ListTagsForResource"],
          kind: "access-denied",
          when: forAccount(1),
        });
        injectFaults(client, {
          commands: ["ListTagsForResource"],
          kind: "target-not-found",
          when: forAccount(2),
        });
        // Throttled past the client's retries.
        injectFaults(client, {
          commands: ["ListTagsForResource"],
          kind: "too-many-requests",
          when: forAccount(3),
        });
      },
    });
    const { report } = await h.run();
    expect(report.identities.map((r) => [r.accountId, r.outcome])).toEqual([[ids[0], "issued"]]);
    expect(report.counts).toMatchObject({ issued: 1, invalid: 3 });
    const reasons = Object.fromEntries(report.invalid.map((p) => [p.origin, p.reason]));
    expect(reasons[`account ${ids[1]}`]).toMatch(
      /^tags could not be read: AccessDeniedException: /,
    );
    expect(reasons[`account ${ids[2]}`]).toMatch(
      /^tags could not be read: TargetNotFoundException: /,
    );
    expect(reasons[`account ${ids[3]}`]).toMatch(
      /^tags could not be read: TooManyRequestsException: /,
    );
  });

  it("one SPIFFE ID claimed by two accounts is issued to neither, unless every claim says it spans accounts", async () => {
    const tags = (service: string, spans?: string) => ({
      "lambda-svid:enabled": "true",
      "lambda-svid:service": service,
      "lambda-svid:environment": "prod",
      ...(spans === undefined ? {} : { "lambda-svid:spans-accounts": spans }),
    });
    const h = await issuerHarness({
      accounts: 1,
      extraAccounts: [
        { name: "dup-a", tags: tags("dup") },
        { name: "dup-b", tags: tags("dup", "true") },
        { name: "shared-a", tags: tags("shared", "true") },
        { name: "shared-b", tags: tags("shared", "true") },
      ],
    });
    const { report } = await h.run();
    const [, dupA, dupB, sharedA, sharedB] = h.org.accounts.map((a) => a.id);
    expect(report.identities.map((r) => [r.spiffeId, r.accountId, r.outcome]).sort()).toEqual(
      [
        ["spiffe://example.org/prod/svc0", h.tenantAccounts[0]?.id, "issued"],
        ["spiffe://example.org/prod/shared", sharedA, "issued"],
        ["spiffe://example.org/prod/shared", sharedB, "issued"],
      ].sort(),
    );
    const refused = (origin: string | undefined, other: string | undefined) => ({
      origin: `account ${origin}`,
      reason: `spiffe://example.org/prod/dup is also claimed by account ${other}; neither is issued unless every claim says the identity spans accounts`,
    });
    // In the order ListAccounts returns the accounts.
    expect(report.invalid).toHaveLength(2);
    expect(report.invalid).toEqual(
      expect.arrayContaining([refused(dupA, dupB), refused(dupB, dupA)]),
    );
  });

  it("gives up, with a typed error, when CreateSecret keeps finding a secret that DescribeSecret keeps not finding", async () => {
    let hide = false;
    const creates: Array<ReturnType<typeof countCalls>> = [];
    const h = await issuerHarness({
      accounts: 1,
      onTenantClient: (client) => {
        creates.push(countCalls(client));
        injectFaults(client, {
          commands: ["DescribeSecret"],
          kind: "not-found",
          when: () => hide,
        });
      },
    });
    expect((await h.run()).report.counts.issued).toBe(1);
    hide = true;
    const { report } = await h.run({ force: true });
    const [result] = report.identities;
    expect(result).toMatchObject({ outcome: "failed", stage: "push" });
    expect(result?.reason).toBe(
      `SvidWriteError: issuer: CreateSecret keeps finding a secret that DescribeSecret does not: "lambda-svid/svid" in account ${h.tenantAccounts[0]?.id}, 3 attempts`,
    );
    expect(creates.at(-1)?.count("CreateSecret")).toBe(3);
  });

  it("pages through a large Organization and rides out TooManyRequestsException on ListTagsForResource", async () => {
    let calls: ReturnType<typeof countCalls> | undefined;
    const h = await issuerHarness({
      accounts: 45,
      env: { LAMBDA_SVID_ORGANIZATIONS_RATE: "100" },
      withOrganizations: (client) => {
        calls = countCalls(client);
        injectFaults(client, {
          commands: ["ListTagsForResource"],
          kind: "too-many-requests",
          times: 3,
        });
      },
    });
    const { report } = await h.run();
    expect(report.counts).toMatchObject({ issued: 45, failed: 0, invalid: 0 });
    expect(calls?.count("ListAccounts")).toBeGreaterThan(1);
    // One per member account plus the management account, plus the three throttled attempts.
    expect(calls?.count("ListTagsForResource")).toBe(46 + 3);
  });

  it("reports registry problems one by one and skips suspended and non-member accounts", async () => {
    const h = await issuerHarness({
      accounts: 1,
      extraAccounts: [
        { name: "half", tags: { "lambda-svid:enabled": "true", "lambda-svid:service": "half" } },
        {
          name: "gone",
          status: "SUSPENDED",
          tags: {
            "lambda-svid:enabled": "true",
            "lambda-svid:service": "gone",
            "lambda-svid:environment": "prod",
          },
        },
        {
          name: "bad",
          tags: {
            "lambda-svid:enabled": "true",
            "lambda-svid:service": "bad name",
            "lambda-svid:environment": "prod",
          },
        },
      ],
    });
    const { report } = await h.run();
    expect(report.counts.issued).toBe(1);
    expect(report.invalid.map((p) => p.reason).sort()).toEqual([
      "enabled but missing tag lambda-svid:environment",
      'issuer: identity field cannot form a SPIFFE ID path segment (letters, digits, ".", "-", "_"): service "bad name"',
    ]);
    expect(report.identities.map((r) => r.service)).toEqual(["svc0"]);
  });

  it("a file registry only issues to valid entries for members of the Organization", async () => {
    const dir = await mkdtemp(join(tmpdir(), "registry-"));
    const path = join(dir, "registry.yaml");
    let member = "";
    const h = await issuerHarness({
      accounts: 1,
      env: { LAMBDA_SVID_REGISTRY: `file:${path}` },
      beforeIssuer: async (org) => {
        member = org.accounts[0]?.id as string;
        await writeFile(
          path,
          [
            "identities:",
            `  - {service: web, environment: dev, accountId: "${member}"}`,
            '  - {service: x, environment: dev, accountId: "999999999999"}',
            '  - {service: y, environment: dev, accountId: "12"}',
            "",
          ].join("\n"),
        );
      },
    });
    const { report } = await h.run();
    expect(report.identities.map((r) => [r.spiffeId, r.outcome])).toEqual([
      ["spiffe://example.org/dev/web", "issued"],
    ]);
    expect(report.invalid).toEqual([
      {
        origin: "file entry 1",
        reason: "account 999999999999 is not an active member of the Organization",
      },
      { origin: "file entry 2", reason: 'accountId "12" is not a 12-digit AWS account id' },
    ]);
    expect(parseSvidSecret(await h.readSecret(member)).svid.id.toString()).toBe(
      "spiffe://example.org/dev/web",
    );
  });

  it("logs of a whole run name every identity and contain no key material", async () => {
    const h = await issuerHarness({ accounts: 2 });
    const { report, output } = await h.run();
    expect(report.counts.issued).toBe(2);
    expect(output).not.toContain("PRIVATE KEY");
    for (const account of h.tenantAccounts) {
      const value = (await h.readSecret(account.id)).SecretString as string;
      const key = JSON.parse(value).x509SvidKey as string;
      const keyBody = key.split("\n")[1] as string;
      expect(output).not.toContain(keyBody.slice(0, 20));
    }
    const lines = output
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    const issued = lines.filter((l) => l.message === "issued");
    expect(issued).toHaveLength(2);
    for (const line of issued) expect(line.identity).toMatch(/^svc\d\/prod@\d{12}$/);
  });
});
