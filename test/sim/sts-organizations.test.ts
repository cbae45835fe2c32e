import {
  AccountNotFoundException,
  DescribeAccountCommand,
  InvalidInputException,
  ListAccountsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  TargetNotFoundException,
} from "@aws-sdk/client-organizations";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import { CENTRAL_ACCOUNT } from "./aws.ts";
import { TENANT, withModel } from "./harness.ts";

const ROLE = `arn:aws:iam::${TENANT}:role/lambda-svid-writer`;

describe("modelled STS", () => {
  it("assumes a role in a member account: its keys sign as that account, for their lifetime", async () => {
    await withModel({ externalId: "sim" }, async (aws) => {
      const sts = new STSClient(aws.clientConfig());
      const out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: ROLE,
          RoleSessionName: "s",
          ExternalId: "sim",
          DurationSeconds: 900,
        }),
      );
      const c = out.Credentials;
      expect(c?.Expiration?.getTime()).toBe(Date.now() - 25 + 900_000);
      expect(out.AssumedRoleUser?.Arn).toBe(
        `arn:aws:sts::${TENANT}:assumed-role/lambda-svid-writer/s`,
      );
      const tenant = new STSClient({
        ...aws.clientConfig(),
        credentials: {
          accessKeyId: c?.AccessKeyId ?? "",
          secretAccessKey: c?.SecretAccessKey ?? "",
          sessionToken: c?.SessionToken ?? "",
        },
      });
      expect((await tenant.send(new GetCallerIdentityCommand({}))).Account).toBe(TENANT);
      expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe(CENTRAL_ACCOUNT);
    });
  });

  it("denies a wrong ExternalId and an account outside the organization with STS's XML AccessDenied", async () => {
    await withModel({ externalId: "sim" }, async (aws) => {
      const sts = new STSClient(aws.clientConfig());
      for (const [RoleArn, ExternalId] of [
        [ROLE, "other"],
        ["arn:aws:iam::222222222222:role/lambda-svid-writer", "sim"],
      ]) {
        const err = await sts
          .send(new AssumeRoleCommand({ RoleArn, RoleSessionName: "s", ExternalId }))
          .catch((e: unknown) => e as { name: string; $metadata: { httpStatusCode: number } });
        expect(err).toMatchObject({ name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
      }
    });
  });

  it("takes 50 virtual ms per call by default and no real time", async () => {
    await withModel({}, async (aws) => {
      const sts = new STSClient(aws.clientConfig());
      const [t0, real0] = [Date.now(), process.hrtime.bigint()];
      for (let i = 0; i < 20; i++) await sts.send(new GetCallerIdentityCommand({}));
      expect(Date.now() - t0).toBe(1_000);
      expect(Number(process.hrtime.bigint() - real0) / 1e6).toBeLessThan(1_000);
    });
  });
});

describe("modelled Organizations", () => {
  it("lists accounts in pages of at most 20 and refuses a larger page", async () => {
    await withModel({}, async (aws) => {
      for (let i = 0; i < 40; i++) aws.organizations.add(String(200_000_000_000 + i), {});
      const org = new OrganizationsClient(aws.clientConfig());
      const pages: number[] = [];
      let NextToken: string | undefined;
      do {
        const page = await org.send(new ListAccountsCommand({ NextToken, MaxResults: 20 }));
        pages.push(page.Accounts?.length ?? 0);
        NextToken = page.NextToken;
      } while (NextToken);
      expect(pages).toEqual([20, 20, 2]);
      await expect(org.send(new ListAccountsCommand({ MaxResults: 21 }))).rejects.toBeInstanceOf(
        InvalidInputException,
      );
    });
  });

  it("answers tags as they are changed outside the API, and the not-found errors", async () => {
    await withModel({}, async (aws) => {
      const org = new OrganizationsClient({ ...aws.clientConfig(), maxAttempts: 1 });
      aws.organizations.setTags(TENANT, { team: undefined, "lambda-svid:service": "web" });
      const tags = await org.send(new ListTagsForResourceCommand({ ResourceId: TENANT }));
      expect(tags.Tags).toEqual([{ Key: "lambda-svid:service", Value: "web" }]);
      await expect(
        org.send(new ListTagsForResourceCommand({ ResourceId: "222222222222" })),
      ).rejects.toBeInstanceOf(TargetNotFoundException);
      await expect(
        org.send(new DescribeAccountCommand({ AccountId: "222222222222" })),
      ).rejects.toBeInstanceOf(AccountNotFoundException);
      const described = await org.send(new DescribeAccountCommand({ AccountId: TENANT }));
      expect(described.Account?.Status).toBe("ACTIVE");
    });
  });

  it("throttles past 10/s with TooManyRequestsException, which the SDK retries", async () => {
    await withModel({}, async (aws) => {
      const org = new OrganizationsClient({ ...aws.clientConfig(), maxAttempts: 10 });
      const t0 = Date.now();
      await Promise.all(
        Array.from({ length: 30 }, () =>
          org.send(new ListTagsForResourceCommand({ ResourceId: TENANT })),
        ),
      );
      expect(aws.handler.counts.throttled.get("Organizations ListTagsForResource")).toBeGreaterThan(
        0,
      );
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1_900);
    });
  });
});
