/**
 * The whole modelled AWS in one place: a central account with the CA, the
 * queues and the state table, an organization of tenant accounts, STS into
 * them, their Secrets Manager, and the one HTTP handler every SDK client of
 * the simulation is given.
 */
import type { Message } from "@aws-sdk/client-sqs";
import type { QueuePort } from "../support/event-source.ts";
import { DynamoDbModel } from "./dynamodb.ts";
import { ModelHttpHandler } from "./handler.ts";
import { OrganizationsModel } from "./organizations.ts";
import { PcaModel, type UsageMode } from "./pca.ts";
import { Principals } from "./principals.ts";
import { SecretsManagerModel, type WriteHook } from "./secrets.ts";
import type { ServiceBehaviour } from "./service.ts";
import { SqsModel } from "./sqs.ts";
import { StsModel } from "./sts.ts";

/** The issuer's account: the CA, the queues, the state table, the organization's management. */
export const CENTRAL_ACCOUNT = "999999999999";
/** Every modelled service answers in this Region. */
export const REGION = "us-east-1";

export interface ModelAwsOptions {
  /** The ExternalId the tenants' writer roles require. */
  externalId?: string;
  /** Certificates are ready this long after IssueCertificate; default 500 ms. */
  caReadyAfterMs?: number;
  caUsageMode?: UsageMode;
  /** Called whenever a secret gets a new current version. */
  onSecretWrite?: WriteHook;
  /** Per-service latency and quota overrides. */
  behaviour?: Partial<
    Record<"sts" | "organizations" | "secrets" | "pca" | "sqs" | "dynamodb", ServiceBehaviour>
  >;
}

export interface ModelAws {
  readonly handler: ModelHttpHandler;
  readonly principals: Principals;
  readonly organizations: OrganizationsModel;
  readonly sts: StsModel;
  readonly secrets: SecretsManagerModel;
  readonly pca: PcaModel;
  readonly sqs: SqsModel;
  readonly dynamodb: DynamoDbModel;
  /**
   * The queue API Lambda's SQS pollers use, in the central account: straight to the model, as
   * the pollers are AWS's (their CPU is not the function owner's); calls counted as requests.
   */
  pollerQueue(): QueuePort;
  /** SDK client configuration acting in `account` (default: the central account) against the model. */
  clientConfig(account?: string): {
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    requestHandler: ModelHttpHandler;
  };
}

/**
 * @example
 * const aws = createModelAws({ externalId: "sim" });
 * const sm = new SecretsManagerClient(aws.clientConfig("111111111111"));
 */
export function createModelAws(options: ModelAwsOptions = {}): ModelAws {
  const b = options.behaviour ?? {};
  const principals = new Principals();
  const organizations = new OrganizationsModel(CENTRAL_ACCOUNT, b.organizations);
  const sts = new StsModel({
    principals,
    accountExists: (id) => organizations.has(id),
    ...(options.externalId === undefined ? {} : { externalId: options.externalId }),
    ...(b.sts ? { behaviour: b.sts } : {}),
  });
  const secrets = new SecretsManagerModel({
    ...(options.onSecretWrite ? { onWrite: options.onSecretWrite } : {}),
    ...(b.secrets ? { behaviour: b.secrets } : {}),
  });
  const pca = new PcaModel({
    account: CENTRAL_ACCOUNT,
    ...(options.caReadyAfterMs === undefined ? {} : { readyAfterMs: options.caReadyAfterMs }),
    ...(options.caUsageMode ? { usageMode: options.caUsageMode } : {}),
    ...(b.pca ? { behaviour: b.pca } : {}),
  });
  const sqs = new SqsModel(CENTRAL_ACCOUNT, b.sqs);
  const dynamodb = new DynamoDbModel(b.dynamodb);
  const handler = new ModelHttpHandler(
    [organizations, sts, secrets, pca, sqs, dynamodb],
    principals,
  );
  return {
    handler,
    principals,
    organizations,
    sts,
    secrets,
    pca,
    sqs,
    dynamodb,
    pollerQueue: () => ({
      async receive(input) {
        const out = (await handler.invoke(
          "SQS",
          "ReceiveMessage",
          { ...input },
          CENTRAL_ACCOUNT,
        )) as {
          Messages?: Message[];
        };
        return out.Messages ?? [];
      },
      async deleteBatch(input) {
        await handler.invoke("SQS", "DeleteMessageBatch", { ...input }, CENTRAL_ACCOUNT);
      },
    }),
    clientConfig: (account = CENTRAL_ACCOUNT) => ({
      region: REGION,
      credentials: principals.longTerm(account),
      requestHandler: handler,
    }),
  };
}
