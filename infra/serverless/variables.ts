// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are CloudFormation Fn::Sub references, not JavaScript templates
/**
 * What `serverless.yml` computes rather than states: the IAM policy documents
 * rendered from `infra/policies/` with the stack's parameters, the syncer
 * artifact's key, the alarm period that follows from the schedule, and the
 * work queue's settings that follow from the worker parameters. The
 * parameters are validated here, so a bad one stops `sls package` with its
 * name. `variables.cjs` beside this file hands the result to the Serverless
 * Framework's `${file(...)}` variable source.
 */

import { parseTrustDomain, SpiffeIdError } from "../../layers/spiffe/index.ts";
import { ConfigError } from "../../lib/config/index.ts";
import {
  type CfnValue,
  cloudFormationPolicy,
  PSEUDO_PARAMETERS,
} from "../policies/cloudformation.ts";
import { PolicyTemplate } from "../policies/render.ts";
import { syncerArtifact } from "./artifacts.ts";

/** Resolves a Serverless Framework variable such as `param:orgId`. */
export type ResolveVariable = (variable: string) => Promise<unknown>;

/** The end-entity template the issuer names in IssueCertificate (functions/issuer/ca/acm-pca.ts). */
const END_ENTITY_TEMPLATE_ARN = "arn:${AWS::Partition}:acm-pca:::template/EndEntityCertificate/V1";

const ACM_PCA_ARN =
  /^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority\/[0-9a-f-]{36}$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const ACCOUNT_ID = /^\d{12}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** CloudWatch evaluates at most one day of data per alarm; the no-run alarm spans two periods. */
const MAX_SCHEDULE_MINUTES = 720;
/**
 * An SQS event source's maximum concurrency is 2 to 1,000 (AWS); the issuer's
 * configuration takes up to 100, and one worker is for local runs only.
 */
const WORKERS = { min: 2, max: 100 } as const;
/** What LAMBDA_SVID_MAX_RECEIVES accepts (functions/issuer/config.ts). */
const MAX_RECEIVES = { min: 1, max: 20 } as const;

type Document = { [key: string]: CfnValue };

export interface ServerlessVariables {
  policies: Record<"issuer" | "issuerWorker" | "lambdaTrust" | "artifactBucket", Document>;
  /** The statement the management account forwards Organizations events under (an event bus policy). */
  organizationsEvents: { statementId: string; statement: Document };
  syncerArtifactKey: string;
  /** Two schedule periods: with no completed run in this long, the no-run alarm fires. */
  noRunAlarmPeriodSeconds: number;
  /** Concurrent workers: the event source's maximum concurrency and the worker's reserved concurrency. */
  workers: number;
  /** How many receives a worker gives a message before it dead-letters it (LAMBDA_SVID_MAX_RECEIVES). */
  maxReceives: number;
  /**
   * The work queue's redrive maxReceiveCount: one more than the workers'
   * limit, so the queue moves a message only when no worker could (one
   * crashed or timed out on its last receive), never ahead of the worker's
   * own dead-lettering, which records why.
   */
  redriveMaxReceiveCount: number;
}

/**
 * Reads and checks the parameters, and computes the variables.
 *
 * @throws {ConfigError} naming the first bad `param:` and what was expected.
 *
 * @example
 * // serverless.yml
 * // PolicyDocument: ${file(infra/serverless/variables.cjs):policies.issuer}
 */
export async function serverlessVariables(resolve: ResolveVariable): Promise<ServerlessVariables> {
  const param = async (name: string, pattern: RegExp, expected: string) => {
    const value = String((await resolve(`param:${name}`)) ?? "");
    if (!pattern.test(value)) throw new ConfigError(`param:${name}`, expected, value);
    return value;
  };
  const trustDomain = await param("trustDomain", /./, "a SPIFFE trust domain name");
  try {
    parseTrustDomain(trustDomain);
  } catch (err) {
    if (!(err instanceof SpiffeIdError)) throw err;
    throw new ConfigError("param:trustDomain", `a trust domain name (${err.reason})`, trustDomain);
  }
  const orgId = await param("orgId", ORG_ID, "an Organization ID such as o-a1b2c3d4e5");
  const scheduleMinutes = Number(
    await param("scheduleMinutes", /^[1-9]\d*$/, "a whole number of minutes"),
  );
  if (scheduleMinutes > MAX_SCHEDULE_MINUTES)
    throw new ConfigError(
      "param:scheduleMinutes",
      `at most ${MAX_SCHEDULE_MINUTES} minutes`,
      String(scheduleMinutes),
    );

  const integer = async (name: string, range: { min: number; max: number }) => {
    const expected = `a whole number from ${range.min} to ${range.max}`;
    const value = Number(await param(name, /^[1-9]\d*$/, expected));
    if (value < range.min || value > range.max)
      throw new ConfigError(`param:${name}`, expected, String(value));
    return value;
  };
  const workers = await integer("workers", WORKERS);
  const maxReceives = await integer("maxReceives", MAX_RECEIVES);
  const managementAccountId = await param(
    "managementAccountId",
    ACCOUNT_ID,
    "a 12-digit account ID",
  );

  const issuer = cloudFormationPolicy(PolicyTemplate.ISSUER, {
    ...PSEUDO_PARAMETERS,
    management_account_id: managementAccountId,
    org_id: orgId,
    state_table_arn: "${IssuerStateTable.Arn}",
    work_queue_arn: "${IssuerWorkQueue.Arn}",
    failure_queue_arn: "${IssuerFailureQueue.Arn}",
    function_name: String(await resolve("self:functions.issuer.name")),
  });
  const issuerWorker = cloudFormationPolicy(PolicyTemplate.ISSUER_WORKER, {
    ...PSEUDO_PARAMETERS,
    org_id: orgId,
    ca_arn: await param("caArn", ACM_PCA_ARN, "the ARN of an AWS Private CA"),
    template_arn: END_ENTITY_TEMPLATE_ARN,
    writer_role_name: await param("writerRoleName", ROLE_NAME, "an IAM role name"),
    state_table_arn: "${IssuerStateTable.Arn}",
    work_queue_arn: "${IssuerWorkQueue.Arn}",
    dead_letter_queue_arn: "${IssuerDeadLetterQueue.Arn}",
    function_name: String(await resolve("self:functions.issuerWorker.name")),
  });
  // An event bus policy takes one statement, its Sid as a property of its own.
  const [{ Sid, ...forwarding }] = cloudFormationPolicy(PolicyTemplate.ORGANIZATIONS_EVENTS, {
    ...PSEUDO_PARAMETERS,
    management_account_id: managementAccountId,
  }).Statement as [Document & { Sid: string }];
  return {
    policies: {
      issuer,
      issuerWorker,
      lambdaTrust: cloudFormationPolicy(PolicyTemplate.LAMBDA_TRUST, {}),
      artifactBucket: cloudFormationPolicy(PolicyTemplate.ARTIFACT_BUCKET, {
        partition: PSEUDO_PARAMETERS.partition,
        bucket_name: "${ArtifactBucket}",
        org_id: orgId,
      }),
    },
    organizationsEvents: { statementId: Sid, statement: forwarding },
    syncerArtifactKey: (await syncerArtifact()).key,
    noRunAlarmPeriodSeconds: 2 * scheduleMinutes * 60,
    workers,
    maxReceives,
    redriveMaxReceiveCount: maxReceives + 1,
  };
}
