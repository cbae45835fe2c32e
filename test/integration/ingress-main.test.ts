/**
 * The ingress process end to end: `ingress/main.ts` as a child process with
 * the real back, its SVID from files, mesh callers over mTLS on loopback,
 * and moto's S3 with IAM enforced behind it, which checks every SigV4
 * signature against the IAM user's or the assumed role's keys.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PolicyDocument, renderPolicy } from "../../infra/policies/render.ts";
import { CALLER_ID_HEADER, DENIED_HEADER, DenialReason } from "../../ingress/index.ts";
import { type Moto, startMoto } from "../../tools/emulator/index.ts";
import { clientConfigForAccount, randomAccountId } from "../emulator/accounts.ts";
import { createRoleInAccount, createUserInAccount, type IamUser } from "../emulator/iam.ts";
import { pointSdkAtEmulator } from "../emulator/sdk-env.ts";
import { TestCa } from "../support/ca.ts";
import {
  call,
  callerOptions,
  health,
  type IngressProcess,
  startIngressProcess,
} from "./ingress-harness.ts";

const BUCKET = "ingress-main";
describe("npm run ingress: the process with the real back against moto's S3 with IAM enforced", () => {
  let moto: Moto;
  let user: IamUser;
  let ca: TestCa;
  let dir: string;
  let ingress: IngressProcess;
  let ports: { port: number; healthPort: number };
  let ingressKeyPem: string;

  beforeAll(async () => {
    moto = await startMoto({ enforceIam: true });
    pointSdkAtEmulator(moto.endpoint);
    const account = randomAccountId();
    let readerRoleArn = "";
    await moto.withoutIam(async () => {
      user = await createUserInAccount(account, "ingress", {
        ingress: {
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" },
            {
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:PutObject"],
              Resource: `arn:aws:s3:::${BUCKET}/files/*`,
            },
          ],
        } as PolicyDocument,
      });
      readerRoleArn = await createRoleInAccount(account, {
        name: "ingress-route-site",
        trust: renderPolicy("ingress-backend-trust", { ingress_role_arn: user.arn }),
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
        new PutObjectCommand({ Bucket: BUCKET, Key: "site/index.html", Body: "<h1>site</h1>" }),
      );
    });

    ca = await TestCa.root("example.org");
    dir = await mkdtemp(join(tmpdir(), "ingress-main-"));
    const svid = await ca.svid("/ingress");
    ingressKeyPem = svid.keyPem;
    await writeFile(join(dir, "svid.pem"), svid.chainPem);
    await writeFile(join(dir, "svid_key.pem"), svid.keyPem);
    await writeFile(join(dir, "svid_bundle.pem"), ca.root.certPem);
    const backend = `{ kind: s3, region: us-east-1, host: s3.us-east-1.amazonaws.com, endpoint: "${moto.endpoint}", bucket: ${BUCKET} }`;
    await writeFile(
      join(dir, "routes.yaml"),
      `routes:
  - name: files
    match: { pathPrefix: /files }
    backend: ${backend}
    acl:
      - ids: [spiffe://example.org/prod/web]
      - idPrefixes: [spiffe://example.org/prod/batch]
        methods: [GET]
  - name: site
    match: { pathPrefix: /site }
    backend: { kind: s3, region: us-east-1, host: s3.us-east-1.amazonaws.com, endpoint: "${moto.endpoint}", bucket: ${BUCKET}, roleArn: "${readerRoleArn}" }
    acl:
      - trustDomains: [example.org]
        methods: [GET, HEAD]
`,
    );
    ingress = startIngressProcess({
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: user.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: user.credentials.secretAccessKey,
      LAMBDA_SVID_INGRESS_ROUTES_FILE: join(dir, "routes.yaml"),
      LAMBDA_SVID_INGRESS_HOST: "127.0.0.1",
      LAMBDA_SVID_INGRESS_PORT: "0",
      LAMBDA_SVID_INGRESS_HEALTH_PORT: "0",
      LAMBDA_SVID_INGRESS_SVID_CERT_FILE: join(dir, "svid.pem"),
      LAMBDA_SVID_INGRESS_SVID_KEY_FILE: join(dir, "svid_key.pem"),
      LAMBDA_SVID_INGRESS_SVID_BUNDLE_FILE: join(dir, "svid_bundle.pem"),
      LAMBDA_SVID_INGRESS_DRAIN: "2s",
    });
    ports = await ingress.listening;
  }, 120_000);

  afterAll(async () => {
    if (ingress?.child.exitCode === null && ingress.child.signalCode === null) {
      ingress.child.kill("SIGKILL");
      await ingress.exited;
    }
    await moto?.stop();
  });

  const objectBody = async (key: string) => {
    const s3 = new S3Client({ credentials: user.credentials, forcePathStyle: true });
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from((await Body?.transformToByteArray()) ?? []).toString();
  };

  it("an allowed caller writes and reads an object; moto checks the signature against the ingress's IAM user", async () => {
    const web = callerOptions(await ca.svid("/prod/web"), ca.bundle());
    const put = await call(ports.port, web, {
      path: "/files/notes/a%20b.txt",
      method: "PUT",
      headers: { "content-type": "text/plain", "content-length": 5 },
      body: "hello",
    });
    expect(put.status, put.body).toBe(200);
    expect(await objectBody("files/notes/a b.txt")).toBe("hello");
    const get = await call(ports.port, web, { path: "/files/notes/a%20b.txt?b=2&a=1" });
    expect(get.status, get.body).toBe(200);
    expect(get.body).toBe("hello");
  });

  it("a route role reads what the ingress's own keys may not, as an AssumeRole session", async () => {
    const batch = callerOptions(await ca.svid("/prod/batch/nightly"), ca.bundle());
    const page = await call(ports.port, batch, { path: "/site/index.html" });
    expect(page.status, page.body).toBe(200);
    expect(page.body).toBe("<h1>site</h1>");
  });

  it("a caller outside the ACL gets 403 with the reason, and nothing reaches S3", async () => {
    const batch = callerOptions(await ca.svid("/prod/batch/nightly"), ca.bundle());
    const put = await call(ports.port, batch, {
      path: "/files/notes/batch.txt",
      method: "PUT",
      headers: { "content-length": 4, [CALLER_ID_HEADER]: "spiffe://example.org/prod/web" },
      body: "nope",
    });
    expect(put.status).toBe(403);
    expect(put.headers[DENIED_HEADER]).toBe(DenialReason.METHOD_NOT_ALLOWED);
    await expect(objectBody("files/notes/batch.txt")).rejects.toMatchObject({ name: "NoSuchKey" });
  });

  it("serves /healthz and /metrics on the health port", async () => {
    expect((await health(ports.healthPort, "/healthz")).status).toBe(200);
    const metrics = (await health(ports.healthPort, "/metrics")).body;
    expect(metrics).toContain('lambda_svid_ingress_requests_total{route="files",status="200"} 2');
    expect(metrics).toContain(
      'lambda_svid_ingress_denials_total{route="files",reason="method-not-allowed"} 1',
    );
  });

  it("drains on SIGTERM and exits 0; its output never holds a key or a signature", async () => {
    ingress.child.kill("SIGTERM");
    expect(await ingress.exited).toBe(0);
    const output = ingress.output();
    expect(output).toContain('"message":"stopping","signal":"SIGTERM"');
    const requests = output
      .split("\n")
      .filter((l) => l.includes('"message":"request"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(requests.map((r) => [r.route, r.method, r.status, r.callerId])).toEqual([
      ["files", "PUT", 200, "spiffe://example.org/prod/web"],
      ["files", "GET", 200, "spiffe://example.org/prod/web"],
      ["site", "GET", 200, "spiffe://example.org/prod/batch/nightly"],
      ["files", "PUT", 403, "spiffe://example.org/prod/batch/nightly"],
    ]);
    for (const secret of [
      user.credentials.secretAccessKey,
      "Signature=",
      "X-Amz-Signature",
      "PRIVATE KEY",
      ingressKeyPem.split("\n")[1] as string,
    ]) {
      expect(output).not.toContain(secret);
    }
  });
});

describe("npm run ingress: refusing to start", () => {
  it("exits 1 naming the bad field of the route file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ingress-main-bad-"));
    await writeFile(
      join(dir, "routes.yaml"),
      "routes:\n  - name: x\n    match: { pathPrefix: /x }\n    backend: { kind: s3, region: eu, host: s3.amazonaws.com, bucket: b-1 }\n    acl: [{ trustDomains: [example.org] }]\n",
    );
    const ca = await TestCa.root("example.org");
    const svid = await ca.svid("/ingress");
    await writeFile(join(dir, "svid.pem"), svid.chainPem);
    await writeFile(join(dir, "svid_key.pem"), svid.keyPem);
    await writeFile(join(dir, "svid_bundle.pem"), ca.root.certPem);
    const bad = startIngressProcess({
      LAMBDA_SVID_INGRESS_ROUTES_FILE: join(dir, "routes.yaml"),
      LAMBDA_SVID_INGRESS_PORT: "0",
      LAMBDA_SVID_INGRESS_HEALTH_PORT: "0",
      LAMBDA_SVID_INGRESS_SVID_CERT_FILE: join(dir, "svid.pem"),
      LAMBDA_SVID_INGRESS_SVID_KEY_FILE: join(dir, "svid_key.pem"),
      LAMBDA_SVID_INGRESS_SVID_BUNDLE_FILE: join(dir, "svid_bundle.pem"),
    });
    expect(await bad.exited).toBe(1);
    expect(bad.output().trim()).toBe(
      `lambda-svid-ingress: start failed: ingress: routes: invalid: ${join(dir, "routes.yaml")}: routes[0].backend.region is "eu"; expected an AWS Region such as eu-west-1`,
    );
  });
});
