/**
 * Least privilege, proven on the emulator: the project's own policy documents
 * (`infra/policies/*.json`, rendered by `renderPolicy`) become IAM roles in a
 * moto server of this file's own that checks every request against IAM
 * (`startMoto({ enforceIam: true })`). A real issuer cycle and a real syncer
 * cycle run under those roles' credentials and succeed; the same credentials
 * are denied everything else asked of them below. The queued issuer runs the
 * same way: its planner and its workers each under their own role
 * (`issuer.json`, `issuer-worker.json`), against a state table and queues in
 * the central account.
 *
 * The account model: moto keeps one backend per account id and puts each
 * request in the account of its key. AssumeRole credentials belong to the
 * account of the role ARN, so the issuer's session in a tenant account really
 * acts in that account, with that account's writer role's policies. The
 * issuer role lives in the Organization's management account here, because
 * moto serves Organizations only to the management account.
 *
 * What moto 5.2.5 enforces with `INITIAL_NO_AUTH_ACTION_COUNT=0`, as used here:
 * - every request must be signed (SigV4, checked) with a key it issued: an IAM
 *   user's access key, or AssumeRole credentials with their session token;
 * - the caller's identity policies (a user's inline, attached and group
 *   policies; a role's inline and attached managed policies): an explicit Deny
 *   wins, otherwise some Allow must match the action and the resource;
 *   `Action`/`NotAction` and `Resource` with the `*` and `?` wildcards (actions
 *   case-sensitively, where AWS ignores case);
 * - resources: the role ARN for sts:AssumeRole, the queue ARN for SQS and the
 *   bucket or object ARN for S3 (moto's own), and through
 *   `tools/emulator/iam_authorization.py` the secret ARN for Secrets Manager, the CA ARN for ACM PCA, the account ARN
 *   for Organizations tag calls, the table ARN for DynamoDB and the function ARN
 *   for Lambda; SQS batch calls and Lambda's Invoke as the action AWS authorizes
 *   them as (SendMessageBatch as sqs:SendMessage, Invoke as
 *   lambda:InvokeFunction); every other action of these services, and every other
 *   service, is judged against the resource "*";
 * - trust policies only when the role is in the caller's own account: the
 *   principal must be the caller's exact ARN (an IAM user; a role session's ARN
 *   never equals the role ARN a trust policy names), and a `StringEquals` on
 *   `sts:ExternalId` when the request carries an ExternalId.
 *
 * What it does not evaluate, so what is not proven here (the cases under
 * "what moto does not evaluate" below are allowed here and denied by AWS):
 * - any condition in an identity policy: `aws:ResourceOrgID` (the issuer may
 *   assume a role of the writer's name outside the Organization),
 *   `acm-pca:TemplateArn` (any template), `secretsmanager:ResourceTag/lambda-svid:owner`
 *   (writer and syncer may update secrets they do not own), `kms:ViaService`;
 *   and any condition operator but `StringEquals`;
 * - trust policies across accounts, so the writer trust as the issuer meets
 *   it: neither its principal nor its ExternalId; in one account, an
 *   ExternalId the request leaves out;
 * - resource-based policies (secret policies, the artifact bucket policy, the
 *   Organizations delegation policy), SCPs, permission boundaries, session policies;
 * - KMS: Secrets Manager never calls KMS here, so no kms:* statement is exercised;
 * - the extra permission AWS wants for tags given in CreateSecret
 *   (secretsmanager:TagResource); logs, X-Ray and the failure queue (not
 *   called in-process); Lambda's own SQS event source, which a local stand-in
 *   (`test/support/event-source.ts`) plays here with the worker role;
 * - the issuer's ACM PCA signing in the cycle: the cycle signs with the local CA
 *   (moto's CA ignores Validity), so the issuer role's CA statements are probed
 *   directly instead.
 *
 * Modelled, not observed on AWS: a secret that does not exist is judged by its
 * name's ARN without the six-character suffix, the Secret resource ARN
 * `...:secret:${SecretId}` of the service authorization reference; AWS answers
 * AccessDeniedException, not ResourceNotFoundException, when no statement covers it.
 */

import { Logger } from "@aws-lambda-powertools/logger";
import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  GetCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
} from "@aws-sdk/client-acm-pca";
import { DeleteTableCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  LambdaClient,
  ListFunctionsCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import {
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  TagResourceCommand as TagAccountCommand,
} from "@aws-sdk/client-organizations";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from "@aws-sdk/client-secrets-manager";
import {
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invokeJson } from "../../cli/invoke.ts";
import { createPlanner, createWorker } from "../../functions/issuer/compose.ts";
import { loadIssuerConfig } from "../../functions/issuer/config.ts";
import { mintRequest } from "../../functions/issuer/mint.ts";
import type { PlanReport } from "../../functions/issuer/planner.ts";
import { IssuerStore } from "../../functions/issuer/store.ts";
import { type PolicyDocument, renderPolicy } from "../../infra/policies/render.ts";
import { parseSpiffeId, parseSvidSecret } from "../../layers/spiffe/index.ts";
import { type Moto, startMoto } from "../../tools/emulator/index.ts";
import { clientConfigForAccount, randomAccountId } from "../emulator/accounts.ts";
import { assumeRole, createRoleInAccount, createUserInAccount } from "../emulator/iam.ts";
import { createPrivateCa } from "../emulator/pca.ts";
import { pointSdkAtEmulator } from "../emulator/sdk-env.ts";
import { createSecretInAccount } from "../emulator/secrets.ts";
import { captureOutput } from "../support/capture.ts";
import { startEventSource } from "../support/event-source.ts";
import { issuerHarness } from "./issuer-harness.ts";
import { createQueuedResources } from "./issuer-queued-harness.ts";
import { CLIENT_ID, syncerHarness } from "./syncer-harness.ts";

const PARTITION = "aws";
const INGRESS_BUCKET = "orders-site";
const OTHER_BUCKET = "billing-site";
const REGION = "us-east-1";
const SECRET = "lambda-svid/svid";
const PREFIX = "keywhiz/";
const WRITER_ROLE = "lambda-svid-writer";
const EXTERNAL_ID = "lambda-svid-test-external-id";
const END_ENTITY_TEMPLATE = `arn:${PARTITION}:acm-pca:::template/EndEntityCertificate/V1`;
const ROOT_TEMPLATE = `arn:${PARTITION}:acm-pca:::template/RootCACertificate/V1`;

/** A well-formed key ARN: the policies need one, and nothing here calls KMS. */
const kmsKeyArn = (account: string) =>
  `arn:${PARTITION}:kms:${REGION}:${account}:key/0b7e3c2a-5d41-4f6e-9a8b-1c2d3e4f5a6b`;
const tenantValues = (account: string) => ({
  partition: PARTITION,
  region: REGION,
  account_id: account,
  secret_name: SECRET,
  kms_key_arn: kmsKeyArn(account),
});
/** The probe users' own permission; the trust policy under test is what may refuse them. */
const ALLOW_ASSUME: Record<string, PolicyDocument> = {
  assume: {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" }],
  },
};

/** The central account as the issuer's deployment leaves it. */
interface Central {
  account: string;
  /** The direct issuer's role (one process plans and issues): the planner's and the worker's policies. */
  roleArn: string;
  /** The issuer role's session, as the Lambda runtime hands it to the function. */
  session: AwsCredentialIdentity;
  /** The queued issuer's roles as serverless.yml deploys them, each with its own session. */
  planner: { roleArn: string; session: AwsCredentialIdentity };
  worker: { roleArn: string; session: AwsCredentialIdentity };
  /** The state table and queues of the queued issuer. */
  queued: Awaited<ReturnType<typeof createQueuedResources>>;
  caArn: string;
  /** Another CA in the same account, which the issuer is not configured for. */
  otherCaArn: string;
}

let moto: Moto;
let world: Awaited<ReturnType<typeof buildWorld>>;

beforeAll(async () => {
  moto = await startMoto({ enforceIam: true });
  // This file's clients, the harnesses' included, reach this server only.
  pointSdkAtEmulator(moto.endpoint);
  world = await moto.withoutIam(buildWorld);
});

afterAll(async () => {
  await world?.syncer.close();
  await moto?.stop();
});

/** Everything an administrator sets up before the functions run: accounts, roles, fixtures. */
async function buildWorld() {
  let central: Central | undefined;
  const asIssuer = {
    credentials: async () => {
      if (central === undefined) throw new Error("the issuer role is not assumed yet");
      return central.session;
    },
  };
  const issuer = await issuerHarness({
    accounts: 2,
    env: { LAMBDA_SVID_EXTERNAL_ID: EXTERNAL_ID, LAMBDA_SVID_WRITER_ROLE: WRITER_ROLE },
    clients: { organizations: new OrganizationsClient(asIssuer), sts: new STSClient(asIssuer) },
    beforeIssuer: async (org) => {
      central = await deployCentral(org.managementAccountId, org.credentials);
      for (const tenant of org.accounts) {
        await createRoleInAccount(tenant.id, {
          name: WRITER_ROLE,
          // As deployed: the worker role is the one the writer trusts. Moto does not judge trust
          // across accounts, so the direct issuer's role may assume it here too.
          trust: renderPolicy("writer-trust", {
            issuer_role_arn: central.worker.roleArn,
            external_id: EXTERNAL_ID,
          }),
          inline: { writer: renderPolicy("writer", tenantValues(tenant.id)) },
        });
      }
    },
  });
  if (central === undefined) throw new Error("the issuer harness did not call beforeIssuer");
  const [tenantA, tenantB] = issuer.tenantAccounts.map((a) => a.id) as [string, string];

  // A function role in tenant A with the managed reader policy, as a function owner attaches it.
  const readerRoleArn = await createRoleInAccount(tenantA, {
    name: "payments-function",
    trust: renderPolicy("lambda-trust", {}),
    managed: { "lambda-svid-reader": renderPolicy("svid-reader", tenantValues(tenantA)) },
  });
  const reader = await assumeRole(readerRoleArn, "payments-function");
  await createSecretInAccount(tenantA, { name: "app/db-password", secretString: "app-owned" });

  // The syncer in a tenant account of its own, with its role.
  const syncerAccount = randomAccountId();
  const syncerRoleArn = await createRoleInAccount(syncerAccount, {
    name: "lambda-svid-syncer",
    trust: renderPolicy("lambda-trust", {}),
    inline: {
      syncer: renderPolicy("syncer", {
        ...tenantValues(syncerAccount),
        sync_prefix: PREFIX,
        sync_kms_key_arn: kmsKeyArn(syncerAccount),
        function_name: "lambda-svid-syncer",
      }),
    },
  });
  const syncerSession = await assumeRole(syncerRoleArn, "lambda-svid-syncer");
  const syncer = await syncerHarness({
    account: syncerAccount,
    credentials: async () => syncerSession,
    optIn: "db-password,api-*",
  });
  await createSecretInAccount(syncerAccount, { name: "app/config", secretString: "app-owned" });
  await createSecretInAccount(syncerAccount, {
    name: `${PREFIX}hand-made`,
    secretString: "put here by a person",
  });

  // The writer trust where moto evaluates trust at all: a role in the caller's own account,
  // assumed by IAM users, since moto never matches a role session to the role's ARN.
  const named = await createUserInAccount(central.account, "trust-probe-named", ALLOW_ASSUME);
  const other = await createUserInAccount(central.account, "trust-probe-other", ALLOW_ASSUME);
  const trustProbe = {
    named,
    other,
    roleArn: await createRoleInAccount(central.account, {
      name: "trust-probe-writer",
      trust: renderPolicy("writer-trust", { issuer_role_arn: named.arn, external_id: EXTERNAL_ID }),
    }),
  };

  const queued = queuedIssuer(central, issuer.caDir);
  const ingress = await ingressBackend();
  const operator = await tenantOperator(syncerAccount, syncerRoleArn);

  return {
    central,
    trustProbe,
    issuer,
    queued,
    tenantA,
    tenantB,
    reader,
    syncer,
    syncerSession,
    ingress,
    operator,
  };
}

const SYNCER_FUNCTION = "lambda-svid-syncer";

/**
 * The tenant module's optional operator role in the syncer's account, from
 * `operator-trust.json` and `operator.json`, and two functions there: the
 * syncer and an application's. The trusted principal is an IAM user standing
 * in for the central operator role, since moto judges trust only for a user
 * of the role's own account. Moto runs no function without Docker, so this
 * server answers Invoke with its simple Lambda (the request's payload echoed
 * back) after the IAM check under test.
 */
async function tenantOperator(account: string, syncerRoleArn: string) {
  const config = await fetch(`${moto.endpoint}/moto-api/config`, {
    method: "POST",
    body: JSON.stringify({ lambda: { use_docker: false } }),
  });
  if (!config.ok) throw new Error(`moto refused its Lambda configuration: HTTP ${config.status}`);
  const central = await createUserInAccount(account, "central-operator", ALLOW_ASSUME);
  const other = await createUserInAccount(account, "not-the-operator", ALLOW_ASSUME);
  const roleArn = await createRoleInAccount(account, {
    name: "lambda-svid-operator",
    trust: renderPolicy("operator-trust", { operator_principal_arn: central.arn }),
    inline: {
      operator: renderPolicy("operator", {
        partition: PARTITION,
        region: REGION,
        account_id: account,
        function_name: SYNCER_FUNCTION,
      }),
    },
  });
  const lambda = new LambdaClient(clientConfigForAccount(account));
  // An empty zip: this Lambda never runs the code.
  const zip = Buffer.concat([Buffer.from("PK\u0005\u0006", "binary"), Buffer.alloc(18)]);
  for (const name of [SYNCER_FUNCTION, "payments"])
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Role: syncerRoleArn,
        Runtime: "nodejs22.x",
        Handler: "index.handler",
        Code: { ZipFile: zip },
      }),
    );
  return { account, roleArn, central, other };
}

/**
 * An ingress route's S3 backend as the ingress-backend Terraform module makes
 * it: a role in the backend's account from `ingress-backend-trust.json`,
 * `ingress-backend-s3.json` and `ingress-backend-s3-list.json`, and two
 * buckets. The trusted principal is an IAM user standing in for the ingress's
 * role, since moto judges trust only for a user of the role's own account.
 */
async function ingressBackend() {
  const account = randomAccountId();
  const allowAssume = { assume: ALLOW_ASSUME.assume as PolicyDocument };
  const ingressUser = await createUserInAccount(account, "ingress", allowAssume);
  const otherUser = await createUserInAccount(account, "not-the-ingress", allowAssume);
  const roleArn = await createRoleInAccount(account, {
    name: "lambda-svid-ingress-orders-site",
    trust: renderPolicy("ingress-backend-trust", { ingress_role_arn: ingressUser.arn }),
    inline: {
      read: renderPolicy("ingress-backend-s3", {
        partition: PARTITION,
        object_prefix: `${INGRESS_BUCKET}/site/`,
      }),
      list: renderPolicy("ingress-backend-s3-list", {
        partition: PARTITION,
        bucket: INGRESS_BUCKET,
        key_prefix: "site/",
      }),
    },
  });
  const s3 = new S3Client({ ...clientConfigForAccount(account), forcePathStyle: true });
  for (const bucket of [INGRESS_BUCKET, OTHER_BUCKET]) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const key of ["site/index.html", "private/notes.txt"])
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${bucket}/${key}` }));
  }
  return { roleArn, ingressUser, otherUser };
}

/**
 * The issuer's roles, the CAs, the state table and the queues, in the
 * Organization's management account: the planner's role from `issuer.json`,
 * the worker's from `issuer-worker.json`, and the direct issuer's with both.
 */
async function deployCentral(
  account: string,
  admin: AwsCredentialIdentityProvider,
): Promise<Central> {
  const { Organization } = await new OrganizationsClient({ credentials: admin }).send(
    new DescribeOrganizationCommand({}),
  );
  const ca = await createPrivateCa({ accountId: account });
  const otherCa = await createPrivateCa({ accountId: account });
  // Nothing here is meant to come back, so a message stays hidden well past any worker's turn.
  const queued = await createQueuedResources(3, 30, clientConfigForAccount(account));
  const arn = (service: string, resource: string) =>
    `arn:${PARTITION}:${service}:${REGION}:${account}:${resource}`;
  const queueArn = (url: string) => arn("sqs", url.split("/").pop() as string);
  const shared = { partition: PARTITION, region: REGION, account_id: account };
  const orgId = Organization?.Id ?? "";
  const planner = renderPolicy("issuer", {
    ...shared,
    management_account_id: account,
    org_id: orgId,
    state_table_arn: arn("dynamodb", `table/${queued.table}`),
    work_queue_arn: queueArn(queued.workQueueUrl),
    failure_queue_arn: arn("sqs", "lambda-svid-issuer-failures"),
    function_name: "lambda-svid-issuer",
  });
  const worker = renderPolicy("issuer-worker", {
    ...shared,
    org_id: orgId,
    ca_arn: ca.arn,
    template_arn: END_ENTITY_TEMPLATE,
    writer_role_name: WRITER_ROLE,
    state_table_arn: arn("dynamodb", `table/${queued.table}`),
    work_queue_arn: queueArn(queued.workQueueUrl),
    dead_letter_queue_arn: queueArn(queued.deadLetterQueueUrl),
    function_name: "lambda-svid-issuer-worker",
  });
  const role = async (name: string, inline: Record<string, PolicyDocument>) => {
    const roleArn = await createRoleInAccount(account, {
      name,
      trust: renderPolicy("lambda-trust", {}),
      inline,
    });
    return { roleArn, session: await assumeRole(roleArn, name) };
  };
  const direct = await role("lambda-svid-issuer-direct", { planner, worker });
  return {
    account,
    roleArn: direct.roleArn,
    session: direct.session,
    planner: await role("lambda-svid-issuer", { planner }),
    worker: await role("lambda-svid-issuer-worker", { worker }),
    queued,
    caArn: ca.arn,
    otherCaArn: otherCa.arn,
  };
}

/**
 * The queued issuer in the central account: its planner with the planner
 * role's clients, its workers with the worker role's, fed from the work queue
 * by the local event source over the worker role's SQS client.
 */
function queuedIssuer(central: Central, caDir: string) {
  const config = loadIssuerConfig({
    LAMBDA_SVID_TRUST_DOMAIN: "example.org",
    LAMBDA_SVID_CA: `local:${caDir}`,
    LAMBDA_SVID_EXTERNAL_ID: EXTERNAL_ID,
    LAMBDA_SVID_WRITER_ROLE: WRITER_ROLE,
    LAMBDA_SVID_STATE_TABLE: central.queued.table,
    LAMBDA_SVID_WORK_QUEUE_URL: central.queued.workQueueUrl,
    LAMBDA_SVID_DEAD_LETTER_QUEUE_URL: central.queued.deadLetterQueueUrl,
    AWS_REGION: REGION,
  });
  const as = (session: AwsCredentialIdentity) => ({ credentials: async () => session });
  const asPlanner = as(central.planner.session);
  const asWorker = as(central.worker.session);
  const planner = createPlanner(config, {
    organizations: new OrganizationsClient(asPlanner),
    dynamodb: new DynamoDBClient(asPlanner),
    sqs: new SQSClient(asPlanner),
  });
  const workerSqs = new SQSClient(asWorker);
  const worker = createWorker(config, {
    sts: new STSClient(asWorker),
    dynamodb: new DynamoDBClient(asWorker),
    sqs: workerSqs,
  });
  const logger = new Logger({ serviceName: "lambda-svid-issuer-test", logLevel: "ERROR" });
  return {
    async plan(): Promise<PlanReport> {
      const { result } = await captureOutput(() =>
        planner.run({ force: false }, () => Number.POSITIVE_INFINITY, logger),
      );
      return result as PlanReport;
    },
    async drain(): Promise<void> {
      await captureOutput(async () => {
        const source = startEventSource({
          sqs: workerSqs,
          queueUrl: central.queued.workQueueUrl,
          batchSize: 100,
          windowMs: 200,
          maxConcurrency: config.queue.workers,
          handler: (records) => worker.handle(records, () => Number.POSITIVE_INFINITY, logger),
        });
        await source.drained(2_500);
        await source.stop();
      });
    },
    /** The state table as an administrator reads it. */
    snapshot: () =>
      moto.withoutIam(() => new IssuerStore(central.queued.dynamodb, central.queued.table).load()),
    /** The dead-letter queue's messages, received and purged by an administrator. */
    deadLetters: () =>
      moto.withoutIam(async () => {
        const { sqs, deadLetterQueueUrl } = central.queued;
        const { Messages } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: deadLetterQueueUrl,
            MaxNumberOfMessages: 10,
            MessageAttributeNames: ["All"],
          }),
        );
        await sqs.send(new PurgeQueueCommand({ QueueUrl: deadLetterQueueUrl }));
        return Messages ?? ([] as Message[]);
      }),
  };
}

/** Rejects with AWS's denial for `action` (AccessDeniedException, or AccessDenied from STS). */
async function denied(call: Promise<unknown>, action: string): Promise<void> {
  await expect(call).rejects.toMatchObject({
    name: expect.stringMatching(/^AccessDenied(Exception)?$/),
    message: expect.stringContaining(`is not authorized to perform: ${action}`),
  });
}

/** Rejects with S3's denial, which names neither the action nor the resource. */
async function s3Denied(call: Promise<unknown>): Promise<void> {
  await expect(call).rejects.toMatchObject({ name: "AccessDenied", message: "Access Denied" });
}

const secrets = (credentials: AwsCredentialIdentity) => new SecretsManagerClient({ credentials });

/** The full ARN of a secret, looked up as the account's administrator. */
const arnOf = (account: string, name: string) =>
  moto.withoutIam(async () => {
    const sm = new SecretsManagerClient(clientConfigForAccount(account));
    const { ARN } = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    return ARN as string;
  });

/** The writer role's session in `account`, obtained as the issuer obtains it. */
const writerIn = (account: string) =>
  assumeRole(`arn:${PARTITION}:iam::${account}:role/${WRITER_ROLE}`, "probe", {
    credentials: async () => world.central.session,
    externalId: EXTERNAL_ID,
  });

describe("least privilege on the emulator, IAM enforced", () => {
  it("an issuer cycle under the issuer role and the writer roles creates, renews and restores each SVID", async () => {
    const { issuer, tenantA, tenantB } = world;
    const first = await issuer.run();
    expect(first.report.identities.map((r) => [r.accountId, r.outcome, r.reason])).toEqual(
      expect.arrayContaining([
        [tenantA, "issued", undefined],
        [tenantB, "issued", undefined],
      ]),
    );
    expect(first.report.counts.failed).toBe(0);

    // Renewal: DescribeSecret, PutSecretValue, TagResource on an existing secret.
    const renewed = await issuer.run({ force: true });
    expect(renewed.report.counts).toMatchObject({ issued: 2, failed: 0 });

    // RestoreSecret on a secret scheduled for deletion.
    await moto.withoutIam(() =>
      new SecretsManagerClient(clientConfigForAccount(tenantA)).send(
        new DeleteSecretCommand({ SecretId: SECRET, RecoveryWindowInDays: 7 }),
      ),
    );
    const restored = await issuer.run({ force: true });
    expect(restored.report.counts).toMatchObject({ issued: 2, failed: 0 });

    // What a function with the reader policy reads is the SVID the cycle wrote.
    const value = await secrets(world.reader).send(new GetSecretValueCommand({ SecretId: SECRET }));
    expect(parseSvidSecret(value).svid.id.toString()).toBe("spiffe://example.org/prod/svc0");
  });

  it("a syncer cycle under the syncer role creates, updates, deletes and restores under its prefix", async () => {
    const { syncer } = world;
    syncer.keywhiz.setSecret("db-password", "hunter2");
    syncer.keywhiz.setSecret("api-key", "k1");
    syncer.keywhiz.grant(CLIENT_ID, "db-password", "api-key");

    const first = await syncer.run();
    expect([first.report.error, first.report.failed]).toEqual([undefined, []]);
    expect(first.report.written.map((w) => w.secretName).sort()).toEqual([
      `${PREFIX}api-key`,
      `${PREFIX}db-password`,
    ]);

    syncer.keywhiz.setSecret("db-password", "rotated");
    syncer.reconfigure({ LAMBDA_SVID_SYNC_OPT_IN: "db-password" });
    const second = await syncer.run();
    expect([second.report.error, second.report.failed]).toEqual([undefined, []]);
    expect(second.report.written.map((w) => w.secretName)).toEqual([`${PREFIX}db-password`]);
    expect(second.report.deleted.map((d) => d.secretName)).toEqual([`${PREFIX}api-key`]);

    syncer.reconfigure({ LAMBDA_SVID_SYNC_OPT_IN: "db-password,api-*" });
    const third = await syncer.run();
    expect([third.report.error, third.report.failed]).toEqual([undefined, []]);
    expect(third.report.written.map((w) => w.secretName)).toEqual([`${PREFIX}api-key`]);
    expect(syncer.calls.count("RestoreSecret")).toBe(1);
  });

  it("the issuer role assumes only the writer role and reads only its own CA; it touches no secret", async () => {
    const { central, tenantA } = world;
    const issuerSession = central.session;
    await expect(writerIn(tenantA)).resolves.toMatchObject({ sessionToken: expect.any(String) });
    await denied(
      assumeRole(`arn:${PARTITION}:iam::${tenantA}:role/OrganizationAccountAccessRole`, "probe", {
        credentials: async () => issuerSession,
      }),
      "sts:AssumeRole",
    );
    await denied(
      secrets(issuerSession).send(
        new GetSecretValueCommand({ SecretId: await arnOf(tenantA, SECRET) }),
      ),
      "secretsmanager:GetSecretValue",
    );

    const pca = new ACMPCAClient({ credentials: issuerSession });
    await expect(
      pca.send(
        new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: central.caArn }),
      ),
    ).resolves.toMatchObject({ Certificate: expect.stringContaining("BEGIN CERTIFICATE") });
    await denied(
      pca.send(
        new GetCertificateAuthorityCertificateCommand({
          CertificateAuthorityArn: central.otherCaArn,
        }),
      ),
      "acm-pca:GetCertificateAuthorityCertificate",
    );
    await denied(
      pca.send(
        new IssueCertificateCommand({
          CertificateAuthorityArn: central.otherCaArn,
          Csr: new TextEncoder().encode("unused: denied before it is read"),
          SigningAlgorithm: "SHA256WITHECDSA",
          TemplateArn: END_ENTITY_TEMPLATE,
          Validity: { Type: "DAYS", Value: 1 },
        }),
      ),
      "acm-pca:IssueCertificate",
    );
    await denied(
      pca.send(
        new CreateCertificateAuthorityCommand({
          CertificateAuthorityType: "ROOT",
          CertificateAuthorityConfiguration: {
            KeyAlgorithm: "EC_prime256v1",
            SigningAlgorithm: "SHA256WITHECDSA",
            Subject: { CommonName: "rogue" },
          },
        }),
      ),
      "acm-pca:CreateCertificateAuthority",
    );

    const organizations = new OrganizationsClient({ credentials: issuerSession });
    await expect(
      organizations.send(new ListTagsForResourceCommand({ ResourceId: tenantA })),
    ).resolves.toMatchObject({ Tags: expect.any(Array) });
    await denied(
      organizations.send(
        new TagAccountCommand({
          ResourceId: tenantA,
          Tags: [{ Key: "lambda-svid:enabled", Value: "false" }],
        }),
      ),
      "organizations:TagResource",
    );
  });

  it("a queued cycle: the planner under its role plans, the workers under theirs issue and dead-letter", async () => {
    const { queued, central, tenantA, tenantB } = world;
    // Its state table is new, so both identities are new to the planner; their secrets, which
    // the direct cycle above wrote, get a new version from the workers.
    const plan = await queued.plan();
    expect(plan.queued).toMatchObject({ new: 2 });
    await queued.drain();
    const { states } = await queued.snapshot();
    expect([...states.values()].map((s) => [s.accountId, s.outcome]).sort()).toEqual(
      [
        [tenantA, "issued"],
        [tenantB, "issued"],
      ].sort(),
    );

    // A message that cannot succeed: the worker role sends it to the dead-letter queue itself.
    await moto.withoutIam(() =>
      central.queued.sqs.send(
        new SendMessageCommand({
          QueueUrl: central.queued.workQueueUrl,
          MessageBody: JSON.stringify({ v: 1, accountId: "12345" }),
        }),
      ),
    );
    await queued.drain();
    const letters = await queued.deadLetters();
    expect(letters.map((m) => m.MessageAttributes?.stage?.StringValue)).toEqual(["message"]);
  });

  it("the planner role may not sign, assume, receive work or dead-letter; the worker role may not read the Organization or plan", async () => {
    const { central, tenantA } = world;
    const { table, workQueueUrl, deadLetterQueueUrl } = central.queued;
    const planner = central.planner.session;
    await denied(
      new ACMPCAClient({ credentials: planner }).send(
        new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: central.caArn }),
      ),
      "acm-pca:GetCertificateAuthorityCertificate",
    );
    await denied(
      assumeRole(`arn:${PARTITION}:iam::${tenantA}:role/${WRITER_ROLE}`, "probe", {
        credentials: async () => planner,
        externalId: EXTERNAL_ID,
      }),
      "sts:AssumeRole",
    );
    const plannerSqs = new SQSClient({ credentials: planner });
    await denied(
      plannerSqs.send(new ReceiveMessageCommand({ QueueUrl: workQueueUrl })),
      "sqs:ReceiveMessage",
    );
    await denied(
      plannerSqs.send(new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, MessageBody: "x" })),
      "sqs:SendMessage",
    );
    await denied(
      new DynamoDBClient({ credentials: planner }).send(
        new DeleteTableCommand({ TableName: table }),
      ),
      "dynamodb:DeleteTable",
    );

    const worker = central.worker.session;
    await denied(
      new OrganizationsClient({ credentials: worker }).send(new ListAccountsCommand({})),
      "organizations:ListAccounts",
    );
    await denied(
      new DynamoDBClient({ credentials: worker }).send(new ScanCommand({ TableName: table })),
      "dynamodb:Scan",
    );
    await denied(
      new SQSClient({ credentials: worker }).send(
        new SendMessageCommand({ QueueUrl: workQueueUrl, MessageBody: "x" }),
      ),
      "sqs:SendMessage",
    );
  });

  it("the writer role writes only the SVID secret of its own account and reads no secret value", async () => {
    const { tenantA, tenantB } = world;
    const writer = secrets(await writerIn(tenantA));
    await expect(
      writer.send(new DescribeSecretCommand({ SecretId: SECRET })),
    ).resolves.toMatchObject({ Name: SECRET });
    await denied(
      writer.send(new GetSecretValueCommand({ SecretId: SECRET })),
      "secretsmanager:GetSecretValue",
    );
    const otherTenantSvid = await arnOf(tenantB, SECRET);
    await denied(
      writer.send(new DescribeSecretCommand({ SecretId: otherTenantSvid })),
      "secretsmanager:DescribeSecret",
    );
    await denied(
      writer.send(new PutSecretValueCommand({ SecretId: otherTenantSvid, SecretString: "x" })),
      "secretsmanager:PutSecretValue",
    );
    await denied(
      writer.send(new CreateSecretCommand({ Name: "app/planted", SecretString: "x" })),
      "secretsmanager:CreateSecret",
    );
    await denied(
      writer.send(new PutSecretValueCommand({ SecretId: "app/db-password", SecretString: "x" })),
      "secretsmanager:PutSecretValue",
    );
    await denied(
      writer.send(
        new TagResourceCommand({ SecretId: "app/db-password", Tags: [{ Key: "k", Value: "v" }] }),
      ),
      "secretsmanager:TagResource",
    );
    await denied(
      writer.send(new DeleteSecretCommand({ SecretId: SECRET })),
      "secretsmanager:DeleteSecret",
    );
  });

  it("the syncer role reads only the SVID and writes only under its prefix", async () => {
    const { syncerSession, tenantA } = world;
    const sm = secrets(syncerSession);
    await expectSvidReadOnly(sm);
    await denied(
      sm.send(new PutSecretValueCommand({ SecretId: "app/config", SecretString: "x" })),
      "secretsmanager:PutSecretValue",
    );
    await denied(
      sm.send(new DeleteSecretCommand({ SecretId: "app/config" })),
      "secretsmanager:DeleteSecret",
    );
    await denied(
      sm.send(new GetSecretValueCommand({ SecretId: "app/config" })),
      "secretsmanager:GetSecretValue",
    );
    // It writes mirrored secrets but never reads them back.
    await denied(
      sm.send(new GetSecretValueCommand({ SecretId: `${PREFIX}db-password` })),
      "secretsmanager:GetSecretValue",
    );
    await denied(
      sm.send(new GetSecretValueCommand({ SecretId: await arnOf(tenantA, SECRET) })),
      "secretsmanager:GetSecretValue",
    );
  });

  it("the reader policy reads the SVID of its own account and nothing else, and writes nothing", async () => {
    const { reader, tenantB } = world;
    const sm = secrets(reader);
    await expectSvidReadOnly(sm);
    await denied(
      sm.send(new GetSecretValueCommand({ SecretId: "app/db-password" })),
      "secretsmanager:GetSecretValue",
    );
    await denied(
      sm.send(new GetSecretValueCommand({ SecretId: await arnOf(tenantB, SECRET) })),
      "secretsmanager:GetSecretValue",
    );
  });

  it("the writer trust, evaluated by moto in one account: the named principal with the ExternalId only", async () => {
    const { named, other, roleArn } = world.trustProbe;
    const as = (credentials: AwsCredentialIdentity, externalId?: string) =>
      assumeRole(roleArn, "probe", { credentials: async () => credentials, externalId });
    await expect(as(named.credentials, EXTERNAL_ID)).resolves.toMatchObject({
      accessKeyId: expect.any(String),
    });
    await denied(as(named.credentials, "guessed-external-id"), "sts:AssumeRole");
    await denied(as(other.credentials, EXTERNAL_ID), "sts:AssumeRole");
  });
});

describe("an ingress route's S3 backend role, IAM enforced", () => {
  /** The route role's S3 client, as the ingress holds it after AssumeRole. */
  const routeS3 = async () => {
    const { roleArn, ingressUser } = world.ingress;
    const session = await assumeRole(roleArn, "spiffe.example.org.orders", {
      credentials: async () => ingressUser.credentials,
    });
    return new S3Client({ credentials: session, forcePathStyle: true });
  };
  const body = async (s3: S3Client, Bucket: string, Key: string) =>
    (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body?.transformToString();

  it("is assumed by the ingress's principal only", async () => {
    const { roleArn, otherUser } = world.ingress;
    await expect(routeS3()).resolves.toBeInstanceOf(S3Client);
    await denied(
      assumeRole(roleArn, "probe", { credentials: async () => otherUser.credentials }),
      "sts:AssumeRole",
    );
  });

  it("reads its bucket under its prefix and lists it; nothing else", async () => {
    const s3 = await routeS3();
    expect(await body(s3, INGRESS_BUCKET, "site/index.html")).toBe(
      `${INGRESS_BUCKET}/site/index.html`,
    );
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: INGRESS_BUCKET, Prefix: "site/" }),
    );
    expect(listed.Contents?.map((o) => o.Key)).toEqual(["site/index.html"]);
    for (const [Bucket, Key] of [
      [INGRESS_BUCKET, "private/notes.txt"],
      [OTHER_BUCKET, "site/index.html"],
    ] as const)
      await s3Denied(body(s3, Bucket, Key));
    await s3Denied(s3.send(new ListObjectsV2Command({ Bucket: OTHER_BUCKET, Prefix: "site/" })));
    await s3Denied(
      s3.send(
        new PutObjectCommand({ Bucket: INGRESS_BUCKET, Key: "site/planted.html", Body: "x" }),
      ),
    );
  });
});

describe("a tenant's operator role (lambda-svid sync), IAM enforced", () => {
  /** The operator role's session, as `lambda-svid sync` gets it with LAMBDA_SVID_OPERATOR_ROLE. */
  const operatorSession = () => {
    const { roleArn, central } = world.operator;
    return assumeRole(roleArn, "lambda-svid-cli-sync", {
      credentials: async () => central.credentials,
    });
  };
  const functionArn = (name: string) =>
    `arn:${PARTITION}:lambda:${REGION}:${world.operator.account}:function:${name}`;

  it("is assumed by the named central principal only", async () => {
    const { roleArn, other } = world.operator;
    await expect(operatorSession()).resolves.toMatchObject({ accessKeyId: expect.any(String) });
    await denied(
      assumeRole(roleArn, "probe", { credentials: async () => other.credentials }),
      "sts:AssumeRole",
    );
  });

  it("invokes the tenant's syncer as the command line does, and nothing else", async () => {
    const session = await operatorSession();
    const lambda = new LambdaClient({ credentials: session });
    // The CLI's own call (cli/invoke.ts); this Lambda answers with the request it got.
    const request = { action: "resync", secrets: ["orders-db"] };
    expect(await invokeJson(lambda, functionArn(SYNCER_FUNCTION), request)).toEqual(request);
    await denied(invokeJson(lambda, functionArn("payments"), request), "lambda:InvokeFunction");
    await denied(
      lambda.send(new GetFunctionCommand({ FunctionName: SYNCER_FUNCTION })),
      "lambda:GetFunction",
    );
    await denied(
      lambda.send(
        new UpdateFunctionConfigurationCommand({ FunctionName: SYNCER_FUNCTION, Timeout: 900 }),
      ),
      "lambda:UpdateFunctionConfiguration",
    );
    await denied(lambda.send(new ListFunctionsCommand({})), "lambda:ListFunctions");
    const sm = secrets(session);
    for (const SecretId of [SECRET, `${PREFIX}db-password`]) {
      await denied(
        sm.send(new DescribeSecretCommand({ SecretId })),
        "secretsmanager:DescribeSecret",
      );
      await denied(
        sm.send(new GetSecretValueCommand({ SecretId })),
        "secretsmanager:GetSecretValue",
      );
    }
    await denied(
      assumeRole(`arn:${PARTITION}:iam::${world.operator.account}:role/${SYNCER_FUNCTION}`, "x", {
        credentials: async () => session,
      }),
      "sts:AssumeRole",
    );
  });
});

describe("what moto does not evaluate (allowed here, denied by AWS)", () => {
  it("the ingress route role's s3:prefix condition: it lists its bucket outside its prefix", async () => {
    const { roleArn, ingressUser } = world.ingress;
    const session = await assumeRole(roleArn, "probe", {
      credentials: async () => ingressUser.credentials,
    });
    const s3 = new S3Client({ credentials: session, forcePathStyle: true });
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: INGRESS_BUCKET, Prefix: "private/" }),
    );
    expect(listed.Contents?.map((o) => o.Key)).toEqual(["private/notes.txt"]);
  });

  it("conditions in identity policies: owner tag, template ARN, ResourceOrgID", async () => {
    const { syncerSession, central } = world;
    const issuerSession = central.session;
    // secretsmanager:ResourceTag/lambda-svid:owner: the syncer updates a secret it does not own.
    await expect(
      secrets(syncerSession).send(
        new PutSecretValueCommand({ SecretId: `${PREFIX}hand-made`, SecretString: "overwritten" }),
      ),
    ).resolves.toMatchObject({ Name: `${PREFIX}hand-made` });
    // acm-pca:TemplateArn: the issuer signs with the CA template on its own CA.
    const pca = new ACMPCAClient({ credentials: issuerSession });
    await expect(
      pca.send(
        new IssueCertificateCommand({
          CertificateAuthorityArn: central.caArn,
          Csr: Buffer.from(
            mintRequest(parseSpiffeId("spiffe://example.org/rogue"), "EC_P256").csrPem,
          ),
          SigningAlgorithm: "SHA256WITHECDSA",
          TemplateArn: ROOT_TEMPLATE,
          Validity: { Type: "DAYS", Value: 1 },
        }),
      ),
    ).resolves.toMatchObject({ CertificateArn: expect.any(String) });
    // aws:ResourceOrgID: the issuer assumes a role of the writer's name outside its Organization.
    const outsider = randomAccountId();
    await moto.withoutIam(() =>
      createRoleInAccount(outsider, {
        name: WRITER_ROLE,
        trust: renderPolicy("writer-trust", {
          issuer_role_arn: central.roleArn,
          external_id: EXTERNAL_ID,
        }),
      }),
    );
    await expect(
      assumeRole(`arn:${PARTITION}:iam::${outsider}:role/${WRITER_ROLE}`, "probe", {
        credentials: async () => issuerSession,
        externalId: EXTERNAL_ID,
      }),
    ).resolves.toMatchObject({ accessKeyId: expect.any(String) });
  });

  it("the writer trust across accounts, and an ExternalId left out in one account", async () => {
    const { tenantA, central, trustProbe } = world;
    const issuerSession = central.session;
    const writerA = `arn:${PARTITION}:iam::${tenantA}:role/${WRITER_ROLE}`;
    const issuer = { credentials: async () => issuerSession };
    await expect(
      assumeRole(writerA, "probe", { ...issuer, externalId: "guessed-external-id" }),
    ).resolves.toMatchObject({ accessKeyId: expect.any(String) });
    await expect(assumeRole(writerA, "probe", issuer)).resolves.toMatchObject({
      accessKeyId: expect.any(String),
    });
    await expect(
      assumeRole(trustProbe.roleArn, "probe", {
        credentials: async () => trustProbe.named.credentials,
      }),
    ).resolves.toMatchObject({ accessKeyId: expect.any(String) });
  });
});

/** `sm` reads the account's SVID, and may neither change it nor plant a secret outside its own. */
async function expectSvidReadOnly(sm: SecretsManagerClient): Promise<void> {
  await expect(sm.send(new GetSecretValueCommand({ SecretId: SECRET }))).resolves.toMatchObject({
    Name: SECRET,
  });
  await denied(
    sm.send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: "x" })),
    "secretsmanager:PutSecretValue",
  );
  await denied(
    sm.send(new TagResourceCommand({ SecretId: SECRET, Tags: [{ Key: "k", Value: "v" }] })),
    "secretsmanager:TagResource",
  );
  await denied(
    sm.send(new DeleteSecretCommand({ SecretId: SECRET })),
    "secretsmanager:DeleteSecret",
  );
  await denied(
    sm.send(new CreateSecretCommand({ Name: "app/planted", SecretString: "x" })),
    "secretsmanager:CreateSecret",
  );
}
