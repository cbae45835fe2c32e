import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { SvidWriteReason } from "../../functions/issuer/errors.ts";
import { parseSvidSecret } from "../../layers/spiffe/index.ts";
import { notAfterFromDescription } from "../../layers/svid-secret/index.ts";
import { clientConfigForAccount } from "../emulator/accounts.ts";
import { type CallCount, countCalls, injectFaults } from "../emulator/faults.ts";
import { tagAccount } from "../emulator/organizations.ts";
import { queuedHarness } from "./issuer-queued-harness.ts";

const HOUR = 3_600_000;

/** A clock the test moves by hand. */
function clock(start = Date.now()) {
  let at = start;
  return {
    now: () => new Date(at),
    advance(ms: number) {
      at += ms;
    },
  };
}

/** Counts each tenant client's calls, by operation, over every client the workers build. */
function tenantCalls() {
  const counts: CallCount[] = [];
  return {
    onTenantClient: (client: SecretsManagerClient) => {
      counts.push(countCalls(client, { keepInputs: false }));
    },
    count: (operation: string) => counts.reduce((n, c) => n + c.count(operation), 0),
    reset: () => {
      counts.length = 0;
    },
  };
}

describe("queued issuer: planner, work queue, workers, state table", () => {
  it("plans every new identity once, workers issue them, and a run with nothing due sends nothing", async () => {
    const t = clock();
    const calls = tenantCalls();
    const h = await queuedHarness({
      accounts: 4,
      now: t.now,
      onTenantClient: calls.onTenantClient,
    });

    const first = await h.plan();
    expect(first.report.queued).toMatchObject({ new: 4, renew: 0, check: 0 });
    expect(first.report.registry.listed).toBe(true);
    // Planned but not yet answered: a second plan does not queue them again.
    const again = await h.plan();
    expect(again.report.pending).toBe(4);
    expect(Object.values(again.report.queued).reduce((a, b) => a + b, 0)).toBe(0);

    await h.drain();
    // A new identity's secret is created without asking first.
    expect(calls.count("CreateSecret")).toBe(4);
    expect(calls.count("DescribeSecret")).toBe(0);
    for (const account of h.tenantAccounts) {
      const { svid } = parseSvidSecret(await h.readSecret(account.id));
      expect(svid.id.toString()).toBe(`spiffe://example.org/prod/${account.name}`);
      const described = await h
        .tenantClient(account.id)
        .send(new DescribeSecretCommand({ SecretId: h.config.secretName }));
      expect(notAfterFromDescription(described.Description)).toEqual(svid.notAfter);
    }
    const snapshot = await h.snapshot();
    expect([...snapshot.states.values()].map((s) => s.outcome)).toEqual([
      "issued",
      "issued",
      "issued",
      "issued",
    ]);

    calls.reset();
    t.advance(HOUR);
    const idle = await h.plan();
    expect(idle.report.queued).toEqual({ new: 0, renew: 0, changed: 0, check: 0, reissue: 0 });
    expect(idle.report.pending).toBe(0);
    expect(idle.report.registry.tagReads).toBe(0);
    expect(idle.report.minSecondsToExpiry).toBeGreaterThan(22 * 3600);
    await h.drain(500);
    expect(calls.count("DescribeSecret") + calls.count("UpdateSecret")).toBe(0);
  });

  it("renews by the recorded ARN with one write and no DescribeSecret", async () => {
    const t = clock();
    const calls = tenantCalls();
    const h = await queuedHarness({
      accounts: 3,
      now: t.now,
      onTenantClient: calls.onTenantClient,
    });
    await h.plan();
    await h.drain();
    const before = await h.snapshot();

    calls.reset();
    t.advance(17 * HOUR);
    const renew = await h.plan();
    expect(renew.report.queued.renew).toBe(3);
    await h.drain();
    expect(calls.count("DescribeSecret")).toBe(0);
    expect(calls.count("UpdateSecret")).toBe(3);
    expect(calls.count("TagResource")).toBe(0);
    expect(calls.count("PutSecretValue") + calls.count("CreateSecret")).toBe(0);
    const after = await h.snapshot();
    for (const [account, state] of after.states) {
      const old = before.states.get(account);
      expect(state.secretArn).toBe(old?.secretArn);
      expect(state.versionId).not.toBe(old?.versionId);
      expect(Date.parse(state.notAfter as string)).toBeGreaterThan(
        Date.parse(old?.notAfter as string),
      );
    }
  });

  it("a state-table item without its kind's shape is reported by key and planned as if absent", async () => {
    const t = clock();
    const h = await queuedHarness({ accounts: 2, now: t.now });
    await h.plan();
    await h.drain();
    const [edited, other] = h.tenantAccounts as unknown as [{ id: string }, { id: string }];
    const table = { TableName: h.resources.table };
    const { Item: state } = await h.resources.dynamodb.send(
      new GetItemCommand({ ...table, Key: { pk: { S: edited.id }, sk: { S: "state" } } }),
    );
    await h.resources.dynamodb.send(
      new PutItemCommand({ ...table, Item: { ...state, notAfter: { S: "next-tuesday" } } }),
    );
    await h.resources.dynamodb.send(
      new PutItemCommand({
        ...table,
        Item: { pk: { S: other.id }, sk: { S: "plan" }, plannedAt: { N: "7" } },
      }),
    );

    t.advance(HOUR);
    const next = await h.plan();
    expect(next.report.queued).toMatchObject({ new: 1, renew: 0, check: 0 });
    const warnings = next.output
      .split("\n")
      .filter((line) => line.includes("state table item malformed"))
      .map((line) => JSON.parse(line));
    // In the Scan's order, which follows the (random) account ids.
    expect(warnings).toHaveLength(2);
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pk: edited.id, sk: "state", field: "notAfter" }),
        expect.objectContaining({ pk: other.id, sk: "plan", field: "plannedAt" }),
      ]),
    );
    expect(next.output).not.toContain("next-tuesday");
    await h.drain();
    expect((await h.snapshot()).states.get(edited.id)?.outcome).toBe("issued");
    expect((await h.snapshot()).malformed).toEqual([
      { pk: other.id, sk: "plan", field: "plannedAt" },
    ]);
  });

  it("finds a secret deleted by someone else at the next renewal and writes it again", async () => {
    const t = clock();
    const h = await queuedHarness({ accounts: 2, now: t.now });
    await h.plan();
    await h.drain();
    const [victim, untouched] = h.tenantAccounts as unknown as unknown as [
      { id: string },
      { id: string },
    ];
    await h.tenantClient(victim.id).send(
      new DeleteSecretCommand({
        SecretId: h.config.secretName,
        ForceDeleteWithoutRecovery: true,
      }),
    );

    t.advance(17 * HOUR);
    await h.plan();
    const output = await h.drain();
    expect(output).toContain("recorded secret not writable, describing it");
    for (const account of [victim, untouched]) {
      const { svid } = parseSvidSecret(await h.readSecret(account.id));
      expect(svid.notAfter.getTime()).toBeGreaterThan(t.now().getTime() + 20 * HOUR);
    }
    const state = (await h.snapshot()).states.get(victim.id);
    expect(state?.outcome).toBe("issued");
  });

  it("checks a secret untouched for the check interval and repairs one changed by someone else", async () => {
    const t = clock();
    const h = await queuedHarness({
      accounts: 2,
      now: t.now,
      // Renewal would come after 5 days; the daily check must find the change first.
      env: { LAMBDA_SVID_VALIDITY: "7d", LAMBDA_SVID_RENEW_BEFORE: "2d" },
    });
    await h.plan();
    await h.drain();
    const [changed, kept] = h.tenantAccounts as unknown as unknown as [
      { id: string },
      { id: string },
    ];
    await h
      .tenantClient(changed.id)
      .send(new PutSecretValueCommand({ SecretId: h.config.secretName, SecretString: "{}" }));
    const keptBefore = (await h.snapshot()).states.get(kept.id);

    t.advance(25 * HOUR);
    const check = await h.plan();
    expect(check.report.queued.check).toBe(2);
    await h.drain();
    const { svid } = parseSvidSecret(await h.readSecret(changed.id));
    expect(svid.id.toString()).toContain("/prod/");
    const states = (await h.snapshot()).states;
    expect(states.get(changed.id)?.outcome).toBe("issued");
    expect(states.get(kept.id)?.outcome).toBe("checked");
    expect(states.get(kept.id)?.versionId).toBe(keptBefore?.versionId);
  });

  it("an Organizations tag change reaches issuance at once through its event, and within the refresh interval without one", async () => {
    const t = clock();
    const h = await queuedHarness({ accounts: 2, now: t.now });
    await h.plan();
    await h.drain();
    const [evented, silent] = h.tenantAccounts as unknown as unknown as [
      { id: string },
      { id: string },
    ];

    await tagAccount(h.org, evented.id, { "lambda-svid:service": "renamed" });
    const planned = await h.plan({ force: false, changedAccounts: [evented.id] });
    expect(planned.report.registry.tagReads).toBe(1);
    expect(planned.report.queued.changed).toBe(1);
    await h.drain();
    expect(parseSvidSecret(await h.readSecret(evented.id)).svid.id.toString()).toBe(
      "spiffe://example.org/prod/renamed",
    );

    await tagAccount(h.org, silent.id, { "lambda-svid:service": "quiet" });
    t.advance(HOUR);
    expect((await h.plan()).report.queued.changed).toBe(0);
    let hours = 1;
    while (
      hours < 24 &&
      (await h.snapshot()).registry.get(silent.id)?.tags["lambda-svid:service"] !== "quiet"
    ) {
      t.advance(HOUR);
      hours++;
      // Workers drain the queue as the hours pass (renewals fall due meanwhile).
      const { report } = await h.plan();
      if (Object.values(report.queued).some((n) => n > 0)) await h.drain();
    }
    expect(hours).toBeLessThanOrEqual(24);
    await h.drain();
    expect(parseSvidSecret(await h.readSecret(silent.id)).svid.id.toString()).toBe(
      "spiffe://example.org/prod/quiet",
    );
  });

  it("a secret that is not the issuer's goes to the dead-letter queue at once, with its reason, and is planned again", async () => {
    const t = clock();
    const h = await queuedHarness({ accounts: 2, now: t.now });
    const [foreign] = h.tenantAccounts as unknown as [{ id: string }];
    await new (await import("@aws-sdk/client-secrets-manager")).SecretsManagerClient(
      clientConfigForAccount(foreign.id),
    ).send(new CreateSecretCommand({ Name: h.config.secretName, SecretString: "theirs" }));
    await h.plan();
    await h.drain();
    const letters = await h.deadLetters();
    expect(letters).toHaveLength(1);
    const attributes = letters[0]?.MessageAttributes ?? {};
    expect(attributes.reason?.StringValue).toContain(SvidWriteReason.FOREIGN_SECRET);
    expect(attributes.stage?.StringValue).toBe("push");
    expect(attributes.attempts?.StringValue).toBe("1");
    expect(JSON.parse(letters[0]?.Body ?? "{}").accountId).toBe(foreign.id);
    expect((await h.snapshot()).states.get(foreign.id)?.outcome).toBe("failed");

    t.advance(HOUR);
    const next = await h.plan();
    expect(next.report.failedBefore).toBe(1);
    expect(next.report.queued.new).toBe(1);
  });

  it("a dead-letter send that fails returns only its own message to the queue; the batch's other outcomes are kept", async () => {
    const t = clock();
    const h = await queuedHarness({ accounts: 2, now: t.now, visibilitySeconds: 60 });
    const [foreign, other] = h.tenantAccounts as unknown as [{ id: string }, { id: string }];
    await new (await import("@aws-sdk/client-secrets-manager")).SecretsManagerClient(
      clientConfigForAccount(foreign.id),
    ).send(new CreateSecretCommand({ Name: h.config.secretName, SecretString: "theirs" }));
    const refused = injectFaults(h.resources.sqs as never, {
      commands: ["SendMessage"],
      kind: "access-denied",
      times: 1,
    });
    await h.plan();
    await h.drain(4_000);
    expect(refused.injected).toBe(1);
    const results = h.workReports.flatMap((r) => r.results);
    expect(results.filter((r) => r.accountId === other.id).map((r) => r.outcome)).toEqual([
      "issued",
    ]);
    expect(results.filter((r) => r.accountId === foreign.id).map((r) => r.outcome)).toEqual([
      "failed",
      "failed",
    ]);
    expect((await h.snapshot()).states.get(other.id)?.outcome).toBe("issued");
    const letters = await h.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]?.MessageAttributes?.attempts?.StringValue).toBe("2");
    expect(JSON.parse(letters[0]?.Body ?? "{}").accountId).toBe(foreign.id);
  });

  it("a failure that may pass is delivered again after the retry delay, not the visibility timeout, up to LAMBDA_SVID_MAX_RECEIVES, then dead-lettered with its reason", async () => {
    const t = clock();
    const h = await queuedHarness({
      accounts: 1,
      now: t.now,
      env: { LAMBDA_SVID_MAX_RECEIVES: "2" },
      // Longer than the test waits: only the worker's retry delay (1 s here) brings it back in time.
      visibilitySeconds: 60,
    });
    injectFaults(h.clients.sts as never, { commands: ["AssumeRole"], kind: "access-denied" });
    await h.plan();
    await h.drain(4_000);
    const letters = await h.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]?.MessageAttributes?.stage?.StringValue).toBe("access");
    expect(letters[0]?.MessageAttributes?.attempts?.StringValue).toBe("2");
    expect(letters[0]?.MessageAttributes?.reason?.StringValue).toContain("AccessDenied");
    const attempts = h.workReports.flatMap((r) => r.results).filter((r) => r.outcome === "failed");
    expect(attempts).toHaveLength(2);
  });

  it("a malformed message goes to the dead-letter queue naming the field, and the rest of its batch is issued", async () => {
    const h = await queuedHarness({ accounts: 1 });
    await h.resources.sqs.send(
      new SendMessageCommand({
        QueueUrl: h.resources.workQueueUrl,
        MessageBody: JSON.stringify({ v: 1, accountId: "12345" }),
      }),
    );
    await h.plan();
    await h.drain();
    const letters = await h.deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]?.MessageAttributes?.stage?.StringValue).toBe("message");
    expect(letters[0]?.MessageAttributes?.reason?.StringValue).toContain("field accountId");
    expect(
      parseSvidSecret(await h.readSecret(h.tenantAccounts[0]?.id as string)).svid,
    ).toBeDefined();
  });

  it("work the worker's deadline does not reach goes back to the queue at once and is issued by a later invocation", async () => {
    let budget = 0;
    const h = await queuedHarness({
      accounts: 3,
      env: { LAMBDA_SVID_DEADLINE_MARGIN: "1s" },
      // Work the deadline left comes back at once, not after the visibility timeout.
      visibilitySeconds: 60,
      workerRemainingMs: () => (budget++ === 0 ? 500 : Number.POSITIVE_INFINITY),
    });
    await h.plan();
    await h.drain(4_000);
    const first = h.workReports[0];
    expect(first?.deadlineReached).toBe(true);
    expect(first?.retried).toBeGreaterThan(0);
    for (const account of h.tenantAccounts) {
      expect(parseSvidSecret(await h.readSecret(account.id)).svid).toBeDefined();
    }
    expect(await h.deadLetters()).toHaveLength(0);
  });

  it("plans from a registry file, checked against the Organization, and issues through the workers", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "registry-")), "registry.yaml");
    let member = "";
    const h = await queuedHarness({
      accounts: 1,
      env: { LAMBDA_SVID_REGISTRY: `file:${path}` },
      beforeIssuer: async (org) => {
        member = org.accounts[0]?.id as string;
        await writeFile(
          path,
          `identities:\n  - {service: web, environment: dev, accountId: "${member}"}\n  - {service: x, environment: dev, accountId: "999999999999"}\n`,
        );
      },
    });
    const { report } = await h.plan();
    expect(report.queued.new).toBe(1);
    expect(report.registry).toEqual({ tagReads: 0, listed: false, staleLeft: 0 });
    expect(report.invalid).toEqual([
      {
        origin: "file entry 1",
        reason: "account 999999999999 is not an active member of the Organization",
      },
    ]);
    await h.drain();
    expect(parseSvidSecret(await h.readSecret(member)).svid.id.toString()).toBe(
      "spiffe://example.org/dev/web",
    );
  });
});
