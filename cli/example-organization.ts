/**
 * The example Organization `npm start` issues for: a few tagged tenant
 * accounts, one without Lambda identity, one closed. Created once in the local
 * emulator and found again on later runs.
 */
import {
  AWSOrganizationsNotInUseException,
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationCommand,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  type OrganizationsClient,
  TagResourceCommand,
} from "@aws-sdk/client-organizations";
import { CliError, CliReason } from "./errors.ts";

const EXAMPLE_ACCOUNTS: Array<{
  name: string;
  service?: string;
  environment?: string;
  closed?: boolean;
}> = [
  { name: "payments-prod", service: "payments", environment: "prod" },
  { name: "orders-prod", service: "orders", environment: "prod" },
  { name: "web-staging", service: "web", environment: "staging" },
  { name: "reporting-dev" },
  { name: "legacy-prod", service: "legacy", environment: "prod", closed: true },
];

/** Makes sure the example Organization exists; returns how many accounts it created. */
export async function ensureExampleOrganization(client: OrganizationsClient): Promise<number> {
  try {
    await client.send(new DescribeOrganizationCommand({}));
  } catch (err) {
    if (!(err instanceof AWSOrganizationsNotInUseException)) throw err;
    await client.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
  }
  const existing = new Set<string>();
  let token: string | undefined;
  do {
    const page = await client.send(new ListAccountsCommand({ NextToken: token }));
    for (const a of page.Accounts ?? []) if (a.Name) existing.add(a.Name);
    token = page.NextToken;
  } while (token);

  let created = 0;
  for (const account of EXAMPLE_ACCOUNTS.filter((a) => !existing.has(a.name))) {
    const out = await client.send(
      new CreateAccountCommand({ AccountName: account.name, Email: `${account.name}@example.org` }),
    );
    const id = out.CreateAccountStatus?.AccountId;
    if (!id) throw new CliError(CliReason.NO_ACCOUNT_ID, account.name);
    if (account.service && account.environment) {
      await client.send(
        new TagResourceCommand({
          ResourceId: id,
          Tags: [
            { Key: "lambda-svid:enabled", Value: "true" },
            { Key: "lambda-svid:service", Value: account.service },
            { Key: "lambda-svid:environment", Value: account.environment },
          ],
        }),
      );
    }
    if (account.closed) await client.send(new CloseAccountCommand({ AccountId: id }));
    created++;
  }
  return created;
}
