/**
 * The planner as serverless.yml deploys it: the handler module built with
 * exactly the environment the packaged template gives the planner function
 * (its CloudFormation references resolved to a state table and a work queue
 * in the emulator), one scheduled invocation against the emulator's
 * Organization; and the worker, given that same environment, refusing to
 * start with the variable it lacks.
 */
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ISSUER_CATALOGUE } from "../../functions/issuer/config.ts";
import type { PlanReport } from "../../functions/issuer/planner.ts";
import { EXAMPLE_PARAMS, packageOffline, paramArgs } from "../../scripts/package.ts";
import { credentialsForAccount } from "../emulator/accounts.ts";
import { createOrganization } from "../emulator/organizations.ts";
import { createQueuedResources } from "../integration/issuer-queued-harness.ts";
import { captureOutput } from "../support/capture.ts";

interface Handlers {
  handler: (event: unknown, context: Context) => Promise<PlanReport>;
  worker: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
}

/** The planner function's variables in the packaged template, as CloudFormation gives them. */
let packaged: Record<string, unknown>;
/** The same, each reference resolved to the emulator's resource. */
let plannerEnv: Record<string, string>;

const context = (): Context =>
  ({
    functionName: "lambda-svid-issuer-test",
    awsRequestId: "0f5b6f2a-7b61-11e6-9a41-93e812345678",
    getRemainingTimeInMillis: () => 600_000,
  }) as unknown as Context;

beforeAll(async () => {
  const distDir = await mkdtemp(join(tmpdir(), "lambda-svid-dist-"));
  const out = await mkdtemp(join(tmpdir(), "lambda-svid-package-"));
  const { code, output } = await packageOffline(
    ["--stage", "test", ...paramArgs({ ...EXAMPLE_PARAMS })],
    { distDir, packageDir: out, output: "pipe" },
  );
  expect(output).toContain("Service packaged");
  expect(code).toBe(0);
  const template = JSON.parse(
    readFileSync(join(out, "cloudformation-template-update-stack.json"), "utf8"),
  ) as {
    Resources: Record<
      string,
      { Properties: { Environment?: { Variables: Record<string, unknown> } } }
    >;
  };
  const planner = template.Resources.IssuerLambdaFunction?.Properties.Environment;
  if (planner === undefined) throw new Error("the template has no planner environment");
  packaged = planner.Variables;

  const org = await createOrganization({
    accounts: [
      {
        name: "orders-prod",
        tags: {
          "lambda-svid:enabled": "true",
          "lambda-svid:service": "orders",
          "lambda-svid:environment": "prod",
        },
      },
    ],
  });
  // The planner runs in the central account; here the management account stands in for it.
  const creds = await credentialsForAccount(org.managementAccountId);
  vi.stubEnv("AWS_ACCESS_KEY_ID", creds.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", creds.secretAccessKey);
  vi.stubEnv("AWS_SESSION_TOKEN", creds.sessionToken);
  const resources = await createQueuedResources(3, 60);
  const refs: Record<string, string> = {
    IssuerStateTable: resources.table,
    IssuerWorkQueue: resources.workQueueUrl,
  };
  plannerEnv = Object.fromEntries(
    Object.entries(packaged).map(([name, value]) => {
      if (typeof value === "string") return [name, value];
      const ref = (value as { Ref?: string }).Ref;
      const resolved = ref === undefined ? undefined : refs[ref];
      if (resolved === undefined)
        throw new Error(`${name}: no emulator stand-in for ${JSON.stringify(value)}`);
      return [name, resolved];
    }),
  );
}, 300_000);

/** The handler module, loaded afresh (it reads its configuration at load) with exactly `env` among the issuer's variables. */
async function loadHandlers(env: Record<string, string>): Promise<Handlers> {
  for (const spec of ISSUER_CATALOGUE.variables) vi.stubEnv(spec.name, undefined);
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  return (await import("../../functions/issuer/handler.ts")) as unknown as Handlers;
}

afterEach(() => {
  vi.resetModules();
});

describe("the planner function's packaged environment", () => {
  it("has no CA, writer role or ExternalId", () => {
    expect(Object.keys(packaged)).not.toContain("LAMBDA_SVID_CA");
    expect(Object.keys(packaged)).not.toContain("LAMBDA_SVID_WRITER_ROLE");
    expect(Object.keys(packaged)).not.toContain("LAMBDA_SVID_EXTERNAL_ID");
  });

  it("is all the planner needs: a scheduled run plans the Organization's identity onto the queue", async () => {
    const { handler } = await loadHandlers(plannerEnv);
    const planned = await captureOutput(() =>
      handler({ source: "aws.events", "detail-type": "Scheduled Event", detail: {} }, context()),
    );
    expect(planned.result.identities).toBe(1);
    expect(planned.result.queued.new).toBe(1);
    expect(planned.result.invalid).toEqual([]);
  });

  it("stops the worker before any work, naming the variable it lacks and that the worker needs it", async () => {
    const { worker } = await loadHandlers(plannerEnv);
    const err = await worker({ Records: [] }, context()).then(
      () => undefined,
      (e: unknown) => e,
    );
    // The module was loaded afresh, with its own copy of the error class: compared by name.
    expect((err as Error).name).toBe("ConfigError");
    expect((err as Error).message).toBe(
      'config: LAMBDA_SVID_EXTERNAL_ID is ""; expected the ExternalId the tenant writer roles require (required by the worker)',
    );
  });
});
