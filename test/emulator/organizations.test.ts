import {
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  paginateListAccounts,
} from "@aws-sdk/client-organizations";
import { describe, expect, it } from "vitest";
import { createOrganization } from "./organizations.ts";

describe("createOrganization", () => {
  it("lists tagged and suspended member accounts back through the Organizations API", async () => {
    const org = await createOrganization({
      accounts: [
        { name: "payments-prod", tags: { "lambda-svid:service": "payments", env: "prod" } },
        { name: "untagged" },
        { name: "retired", tags: { "lambda-svid:service": "old" }, status: "SUSPENDED" },
      ],
    });
    const client = new OrganizationsClient({ credentials: org.credentials });

    const { Organization } = await client.send(new DescribeOrganizationCommand({}));
    expect(Organization?.MasterAccountId).toBe(org.managementAccountId);

    const { Accounts = [] } = await client.send(new ListAccountsCommand({}));
    const listed = new Map(Accounts.map((a) => [a.Id, a]));
    expect(listed.size).toBe(4);
    expect(listed.get(org.managementAccountId)?.Status).toBe("ACTIVE");

    for (const account of org.accounts) {
      expect(listed.get(account.id)).toMatchObject({ Name: account.name, Status: account.status });
      const { Tags = [] } = await client.send(
        new ListTagsForResourceCommand({ ResourceId: account.id }),
      );
      expect(Object.fromEntries(Tags.map((t) => [t.Key, t.Value]))).toEqual(account.tags);
    }
    expect(org.accounts.map((a) => a.status)).toEqual(["ACTIVE", "ACTIVE", "SUSPENDED"]);
  });

  it("creates 60 accounts that ListAccounts pages through", async () => {
    const started = Date.now();
    const org = await createOrganization({
      accounts: Array.from({ length: 60 }, (_, i) => ({
        name: `svc-${i}`,
        tags: { index: `${i}` },
      })),
    });
    const elapsed = Date.now() - started;

    const client = new OrganizationsClient({ credentials: org.credentials });
    const pages = [];
    for await (const page of paginateListAccounts({ client, pageSize: 20 }, {})) {
      pages.push(page.Accounts ?? []);
    }
    expect(pages.length).toBeGreaterThan(3);
    const ids = pages.flat().map((a) => a.Id);
    expect(new Set(ids).size).toBe(61);
    expect(ids).toEqual(expect.arrayContaining(org.accounts.map((a) => a.id)));
    expect(elapsed).toBeLessThan(10_000);
  });

  it("gives each organization its own management account", async () => {
    const [a, b] = await Promise.all([
      createOrganization({ accounts: [{ name: "a" }] }),
      createOrganization({ accounts: [{ name: "b" }] }),
    ]);
    expect(a.managementAccountId).not.toBe(b.managementAccountId);
    const { Accounts = [] } = await new OrganizationsClient({ credentials: b.credentials }).send(
      new ListAccountsCommand({}),
    );
    expect(Accounts.map((x) => x.Name).sort()).toEqual(["b", "master"]);
  });
});
