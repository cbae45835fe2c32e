/**
 * The ingress's bundle, `dist/ingress/main.mjs`, run as its container image
 * runs it: the one file alone in a directory outside the project (no
 * node_modules, no tsx, no source), on plain node, configured only by
 * environment variables as the Kubernetes manifest configures it. AWS
 * credentials come from web identity (IRSA) through the emulator's STS, and
 * moto's S3 with IAM enforced checks every signature against that session's
 * keys, so the bundled credential chain and signer are both exercised.
 */
import { copyFile, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PolicyDocument } from "../../infra/policies/render.ts";
import { renderPolicy } from "../../infra/policies/render.ts";
import { DENIED_HEADER, DenialReason } from "../../ingress/index.ts";
import { buildAll } from "../../scripts/build.ts";
import { type Moto, startMoto } from "../../tools/emulator/index.ts";
import { clientConfigForAccount, randomAccountId } from "../emulator/accounts.ts";
import { createRoleInAccount } from "../emulator/iam.ts";
import { pointSdkAtEmulator } from "../emulator/sdk-env.ts";
import {
  call,
  callerOptions,
  health,
  type IngressProcess,
  startIngressProcess,
} from "../integration/ingress-harness.ts";
import { TestCa } from "../support/ca.ts";

const BUCKET = "ingress-bundle";
const PAGE = "<h1>from the bundle</h1>";

describe("dist/ingress/main.mjs: the bundle alone, on plain node, against moto with IAM enforced", () => {
  let moto: Moto;
  let ca: TestCa;
  let ingress: IngressProcess;
  let ports: { port: number; healthPort: number };

  beforeAll(async () => {
    const dist = await mkdtemp(join(tmpdir(), "lambda-svid-dist-"));
    await buildAll(dist);
    // What the image holds: /app/main.mjs and nothing else.
    const app = join(await mkdtemp(join(tmpdir(), "ingress-image-")), "app");
    await mkdir(app);
    await copyFile(join(dist, "ingress/main.mjs"), join(app, "main.mjs"));

    moto = await startMoto({ enforceIam: true });
    pointSdkAtEmulator(moto.endpoint);
    const account = randomAccountId();
    const roleArn = await moto.withoutIam(async () => {
      const arn = await createRoleInAccount(account, {
        name: "lambda-svid-ingress",
        trust: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/oidc.example` },
              Action: "sts:AssumeRoleWithWebIdentity",
            },
          ],
        } as PolicyDocument,
        inline: {
          read: renderPolicy("ingress-backend-s3", {
            partition: "aws",
            object_prefix: `${BUCKET}/site/`,
          }),
        },
      });
      const admin = new S3Client({ ...clientConfigForAccount(account), forcePathStyle: true });
      await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
      await admin.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: "site/index.html", Body: PAGE }),
      );
      return arn;
    });

    ca = await TestCa.root("example.org");
    const dir = await mkdtemp(join(tmpdir(), "ingress-bundle-"));
    const svid = await ca.svid("/ingress");
    await writeFile(join(dir, "svid.pem"), svid.chainPem);
    await writeFile(join(dir, "svid_key.pem"), svid.keyPem);
    await writeFile(join(dir, "svid_bundle.pem"), ca.root.certPem);
    // A service account token as EKS projects it; moto does not check its signature.
    await writeFile(
      join(dir, "token"),
      "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6b3JkZXJzOmluZ3Jlc3MifQ.sig",
    );
    await writeFile(
      join(dir, "routes.yaml"),
      `routes:
  - name: site
    match: { pathPrefix: /site }
    backend: { kind: s3, region: us-east-1, host: s3.us-east-1.amazonaws.com, endpoint: "${moto.endpoint}", bucket: ${BUCKET} }
    acl:
      - ids: [spiffe://example.org/prod/web]
`,
    );
    ingress = startIngressProcess(
      {
        AWS_CONFIG_FILE: "/dev/null",
        AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_REGION: "us-east-1",
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_ROLE_ARN: roleArn,
        AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "token"),
        LAMBDA_SVID_INGRESS_ROUTES_FILE: join(dir, "routes.yaml"),
        LAMBDA_SVID_INGRESS_HOST: "127.0.0.1",
        LAMBDA_SVID_INGRESS_PORT: "0",
        LAMBDA_SVID_INGRESS_HEALTH_PORT: "0",
        LAMBDA_SVID_INGRESS_SVID_SOURCE: "files",
        LAMBDA_SVID_INGRESS_SVID_CERT_FILE: join(dir, "svid.pem"),
        LAMBDA_SVID_INGRESS_SVID_KEY_FILE: join(dir, "svid_key.pem"),
        LAMBDA_SVID_INGRESS_SVID_BUNDLE_FILE: join(dir, "svid_bundle.pem"),
        LAMBDA_SVID_INGRESS_DRAIN: "2s",
      },
      { args: ["main.mjs"], cwd: app },
    );
    ports = await ingress.listening;
  }, 180_000);

  afterAll(async () => {
    if (ingress?.child.exitCode === null && ingress.child.signalCode === null) {
      ingress.child.kill("SIGKILL");
      await ingress.exited;
    }
    await moto?.stop();
  });

  it("answers /healthz with 200 once the routes and the SVID are loaded", async () => {
    expect(await health(ports.healthPort, "/healthz")).toMatchObject({ status: 200 });
  });

  it("forwards an allowed caller to S3, signed with the web identity session's keys", async () => {
    const web = callerOptions(await ca.svid("/prod/web"), ca.bundle());
    const page = await call(ports.port, web, { path: "/site/index.html" });
    expect(page.status, page.body).toBe(200);
    expect(page.body).toBe(PAGE);
    // The role may read, not write: S3's own refusal shows that its session's keys signed.
    const write = await call(ports.port, web, {
      path: "/site/new.html",
      method: "PUT",
      headers: { "content-length": 1 },
      body: "x",
    });
    expect(write.status).toBe(403);
    expect(write.headers[DENIED_HEADER]).toBeUndefined();
    expect(write.body).toContain("AccessDenied");
  });

  it("refuses a caller outside the route's ACL with 403 and the reason", async () => {
    const other = callerOptions(await ca.svid("/prod/other"), ca.bundle());
    const refused = await call(ports.port, other, { path: "/site/index.html" });
    expect(refused.status).toBe(403);
    expect(refused.headers[DENIED_HEADER]).toBe(DenialReason.CALLER_NOT_ALLOWED);
    expect(refused.body).not.toContain(PAGE);
  });

  it("exits 0 on SIGTERM after logging each request", async () => {
    ingress.child.kill("SIGTERM");
    expect(await ingress.exited).toBe(0);
    const output = ingress.output();
    expect(output).toContain('"message":"stopping","signal":"SIGTERM"');
    const requests = output
      .split("\n")
      .filter((l) => l.includes('"message":"request"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(requests.map((r) => [r.route, r.status, r.callerId])).toContainEqual([
      "site",
      403,
      "spiffe://example.org/prod/other",
    ]);
  });
});
