/**
 * The ingress's back against verifiers other than its signer: botocore's
 * SigV4Auth (test/support/sigv4-verifier.py) standing in for API Gateway and a
 * function URL, and moto's S3 with IAM enforced, which checks SigV4 against the
 * IAM user's or the assumed role's keys and their policies. The forwarder is
 * driven by a plain local HTTP server that calls `forward`, as the mTLS front
 * does after its ACL check.
 */
import { createHash, randomBytes } from "node:crypto";
import { unlinkSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PolicyDocument, renderPolicy } from "../../infra/policies/render.ts";
import {
  AssumedRoles,
  type BackendLogger,
  BackendReason,
  type BackendTarget,
  CALLER_ID_HEADER,
  createForwarder,
  DEFAULT_MAX_BODY_BYTES,
  ERROR_HEADER,
  type Forwarder,
  type ForwardOutcome,
  sessionNameFor,
} from "../../ingress/backend/index.ts";
import { type Moto, startMoto } from "../../tools/emulator/index.ts";
import { clientConfigForAccount, randomAccountId } from "../emulator/accounts.ts";
import { countCalls } from "../emulator/faults.ts";
import { createRoleInAccount, createUserInAccount, type IamUser } from "../emulator/iam.ts";
import { pointSdkAtEmulator } from "../emulator/sdk-env.ts";
import { type Reply, send } from "../support/http.ts";
import { startVerifier, type VerifiedEcho, type Verifier } from "../support/sigv4-verifier.ts";

const CALLER = "spiffe://example.org/ns/prod/sa/web";
const REGION = "eu-west-1";
const BUCKET = "ingress-signing";

/** Every line the back logged in this file; scanned for secrets at the end. */
const logged: string[] = [];
/** Every secret access key this file handed to a forwarder. */
const secrets: string[] = [];

const logger: BackendLogger = {
  warn(message, fields) {
    logged.push(JSON.stringify({ message, ...fields }));
  },
};

function staticKey(): AwsCredentialIdentity {
  const secretAccessKey = randomBytes(20).toString("base64");
  secrets.push(secretAccessKey);
  return { accessKeyId: `AKIA${randomBytes(8).toString("hex").toUpperCase()}`, secretAccessKey };
}

interface Front {
  port: number;
  /** What `forward` resolved with, in order of completion. */
  outcomes: ForwardOutcome[];
  close(): Promise<void>;
}

/**
 * A plain HTTP server in front of a forwarder: the first path segment names
 * the target, the rest is the path the back sends, as the front hands it over.
 */
async function front(forwarder: Forwarder, targets: Record<string, BackendTarget>): Promise<Front> {
  const outcomes: ForwardOutcome[] = [];
  const server = http.createServer((req, res) => {
    const match = /^\/([^/?]+)(.*)$/.exec(req.url ?? "/");
    const target = match === null ? undefined : targets[match[1] as string];
    if (target === undefined) {
      res.writeHead(404).end();
      return;
    }
    const rest = match?.[2] ?? "";
    void forwarder
      .forward({
        target,
        callerId: CALLER,
        route: match?.[1] as string,
        path: rest.startsWith("/") ? rest : `/${rest}`,
        req,
        res,
      })
      .then((outcome) => outcomes.push(outcome));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  return {
    port,
    outcomes,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

function echo(reply: Reply): VerifiedEcho {
  expect(reply.body.toString(), `status ${reply.status}`).toContain('"verified": true');
  expect(reply.status).toBe(200);
  return JSON.parse(reply.body.toString()) as VerifiedEcho;
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("execute-api and lambda requests, verified by botocore", () => {
  const verifiers = new Map<string, Verifier>();
  const key = staticKey();
  let forwarder: Forwarder;
  let server: Front;

  beforeAll(async () => {
    for (const service of ["execute-api", "lambda"]) {
      const verifier = await startVerifier({ region: REGION, service });
      await verifier.allow(key);
      verifiers.set(service, verifier);
    }
    forwarder = createForwarder({ credentials: async () => key, logger });
    const target = (kind: "execute-api" | "lambda"): BackendTarget => {
      const verifier = verifiers.get(kind) as Verifier;
      return { kind, region: REGION, host: verifier.host, endpoint: verifier.endpoint };
    };
    server = await front(forwarder, { api: target("execute-api"), fn: target("lambda") });
  });

  afterAll(async () => {
    await server?.close();
    await forwarder?.close();
    for (const verifier of verifiers.values()) await verifier.stop();
  });

  describe.each([
    ["api", "execute-api"],
    ["fn", "lambda"],
  ])("/%s (%s)", (route, service) => {
    // Each kind is held to its own service's payload limit: 6 MiB for a function URL, 10 MiB for API Gateway.
    const limit = DEFAULT_MAX_BODY_BYTES[service as "execute-api" | "lambda"];
    it("verifies a query in either order, and sends it in the caller's order", async () => {
      const one = echo(await send(server.port, { path: `/${route}/prod/items?b=value&a=test` }));
      const two = echo(await send(server.port, { path: `/${route}/prod/items?a=test&b=value` }));
      expect(one.query).toBe("b=value&a=test");
      expect(two.query).toBe("a=test&b=value");
      expect(one.path).toBe("/prod/items");
      expect(one.signedHeaders).toContain("host");
    });

    it("verifies repeated keys, keeping their order", async () => {
      const seen = echo(await send(server.port, { path: `/${route}/q?a=2&a=1&b=&c` }));
      expect(seen.params).toEqual([
        ["a", "2"],
        ["a", "1"],
        ["b", ""],
        ["c", ""],
      ]);
    });

    it("verifies encoded keys and values: %2F, +, a space, unicode, reserved characters", async () => {
      const path =
        `/${route}/q?k%2Fey=v%2Fal&plus=a+b&lit=%2B&sp=a%20b&uni=%C3%A9%E2%9C%93` +
        "&low=%c3%a9&tilde=%7E~&star=*!'()&eq=a%3Db";
      const seen = echo(await send(server.port, { path }));
      expect(seen.params).toEqual([
        ["k/ey", "v/al"],
        ["plus", "a b"],
        ["lit", "+"],
        ["sp", "a b"],
        ["uni", "é✓"],
        ["low", "é"],
        ["tilde", "~~"],
        ["star", "*!'()"],
        ["eq", "a=b"],
      ]);
    });

    it("verifies paths with spaces, unicode, an encoded slash and a trailing slash", async () => {
      for (const [sent, received] of [
        ["/stage/a%20b/%C3%A9t%C3%A9", "/stage/a%20b/%C3%A9t%C3%A9"],
        ["/stage/%e2%9c%93/x+y/a%2Fb/", "/stage/%E2%9C%93/x%2By/a%2Fb/"],
        ["/stage//double", "/stage/double"],
        ["/", "/"],
      ] as const) {
        const seen = echo(await send(server.port, { path: `/${route}${sent}` }));
        expect(seen.path).toBe(received);
      }
    });

    it("refuses a dot segment, also encoded, without contacting the backend", async () => {
      const verifier = verifiers.get(service) as Verifier;
      const before = await verifier.requests();
      for (const path of ["/a/../b", "/a/%2e%2e/b", "/a/%2E%2E%2Fb", "/./a"]) {
        const reply = await send(server.port, { path: `/${route}${path}` });
        expect(reply.status).toBe(400);
        expect(reply.headers[ERROR_HEADER]).toBe(BackendReason.DOT_SEGMENT);
      }
      expect(await verifier.requests()).toBe(before);
    });

    it("verifies an empty body and a body of exactly the limit", async () => {
      const empty = echo(
        await send(server.port, { path: `/${route}/in`, method: "POST", body: "" }),
      );
      expect(empty.bodyLength).toBe(0);
      const body = randomBytes(limit);
      const full = echo(
        await send(server.port, {
          path: `/${route}/in`,
          method: "PUT",
          body,
          headers: { "content-type": "application/octet-stream" },
        }),
      );
      expect(full.bodyLength).toBe(limit);
      expect(full.bodySha256).toBe(sha256(body));
      expect(full.signedHeaders).toContain("content-type");
    });

    it("answers 413 beyond the limit, declared or chunked, and never contacts the backend", async () => {
      const verifier = verifiers.get(service) as Verifier;
      const before = await verifier.requests();
      const declared = await sendTolerant(server.port, `/${route}/in`, limit + 1, {
        chunked: false,
      });
      const chunked = await sendTolerant(server.port, `/${route}/in`, limit + 1, {
        chunked: true,
      });
      for (const reply of [declared, chunked]) {
        expect(reply.status).toBe(413);
        expect(reply.headers[ERROR_HEADER]).toBe(BackendReason.BODY_TOO_LARGE);
      }
      expect(await verifier.requests()).toBe(before);
    });

    it("sets and signs the caller's SPIFFE ID; drops spoofed copies, hop-by-hop fields and the caller's own signature", async () => {
      const seen = echo(
        await send(server.port, {
          path: `/${route}/who`,
          headers: {
            [CALLER_ID_HEADER]: "spiffe://evil.example/admin",
            "x-lambda-svid-caller-trust-domain": "evil.example",
            authorization: "AWS4-HMAC-SHA256 Credential=AKIAEVIL/20200101/x/y/aws4_request",
            "x-amz-date": "20200101T000000Z",
            connection: "keep-alive, x-hop",
            "x-hop": "dropped",
            te: "trailers",
            "x-amz-meta-note": "signed",
            accept: "application/json",
            "user-agent": "mesh-caller/1.0",
          },
        }),
      );
      expect(seen.headers[CALLER_ID_HEADER]).toBe(CALLER);
      expect(seen.headers["x-lambda-svid-caller-trust-domain"]).toBeUndefined();
      expect(seen.headers["x-hop"]).toBeUndefined();
      expect(seen.headers.te).toBeUndefined();
      expect(seen.headers.accept).toBe("application/json");
      expect(seen.headers["x-amz-date"]).not.toBe("20200101T000000Z");
      expect(seen.accessKeyId).toBe(key.accessKeyId);
      expect(seen.signedHeaders).toEqual([
        "host",
        "x-amz-content-sha256",
        "x-amz-date",
        "x-amz-meta-note",
        CALLER_ID_HEADER,
      ]);
    });
  });

  it("answers 502 with no detail when the backend cannot be reached, 502 when credentials fail", async () => {
    const closed = await front(forwarder, {
      gone: {
        kind: "execute-api",
        region: REGION,
        host: "gone.example",
        endpoint: "http://127.0.0.1:1",
      },
    });
    const unreachable = await send(closed.port, { path: "/gone/x" });
    await closed.close();
    expect(unreachable.status).toBe(502);
    expect(unreachable.headers[ERROR_HEADER]).toBe(BackendReason.UPSTREAM_FAILED);
    expect(unreachable.body.toString()).toBe(`${BackendReason.UPSTREAM_FAILED}\n`);

    const leaky = `secret-${randomBytes(8).toString("hex")}`;
    secrets.push(leaky);
    const broken = createForwarder({
      credentials: async () => {
        throw new Error(`provider failed holding ${leaky}`);
      },
      logger,
    });
    const verifier = verifiers.get("execute-api") as Verifier;
    const noCredentials = await front(broken, {
      api: {
        kind: "execute-api",
        region: REGION,
        host: verifier.host,
        endpoint: verifier.endpoint,
      },
    });
    const reply = await send(noCredentials.port, { path: "/api/x" });
    await noCredentials.close();
    await broken.close();
    expect(reply.status).toBe(502);
    expect(reply.headers[ERROR_HEADER]).toBe(BackendReason.CREDENTIALS);
    expect(reply.body.toString()).not.toContain(leaky);
  });

  it("answers 504 when the backend does not answer in time", async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    const { port } = silent.address() as { port: number };
    const impatient = createForwarder({
      credentials: async () => key,
      upstreamTimeoutMs: 300,
      logger,
    });
    const through = await front(impatient, {
      slow: {
        kind: "lambda",
        region: REGION,
        host: "slow.example",
        endpoint: `http://127.0.0.1:${port}`,
      },
    });
    const reply = await send(through.port, { path: "/slow/x" });
    await through.close();
    await impatient.close();
    silent.closeAllConnections();
    silent.close();
    expect(reply.status).toBe(504);
    expect(reply.headers[ERROR_HEADER]).toBe(BackendReason.UPSTREAM_TIMEOUT);
  });

  it("refreshes credentials that expire mid-run before they lapse: no request fails", async () => {
    const verifier = verifiers.get("execute-api") as Verifier;
    const LIFETIME_MS = 2_000;
    // A request signed just before the refresh window has this long to reach the verifier.
    const REFRESH_BEFORE_MS = 800;
    let fetched = 0;
    const shortLived: AwsCredentialIdentityProvider = async () => {
      fetched += 1;
      const credentials = { ...staticKey(), expiration: new Date(Date.now() + LIFETIME_MS) };
      await verifier.allow(credentials);
      return credentials;
    };
    const refreshing = createForwarder({
      credentials: shortLived,
      refreshBeforeMs: REFRESH_BEFORE_MS,
      logger,
    });
    const through = await front(refreshing, {
      api: {
        kind: "execute-api",
        region: REGION,
        host: verifier.host,
        endpoint: verifier.endpoint,
      },
    });
    const statuses: number[] = [];
    const failures: string[] = [];
    const keys = new Set<string>();
    const until = Date.now() + 3.5 * LIFETIME_MS;
    const caller = async () => {
      while (Date.now() < until) {
        const reply = await send(through.port, { path: "/api/tick" });
        statuses.push(reply.status);
        if (reply.status === 200) keys.add(echo(reply).accessKeyId);
        else failures.push(`${reply.status} ${reply.body.toString()}`);
      }
    };
    await Promise.all([caller(), caller(), caller()]);
    await through.close();
    await refreshing.close();
    expect(failures).toEqual([]);
    // One fetch per 1.2 s of use (lifetime less margin) over 7 s, not one per request.
    expect(fetched).toBeGreaterThanOrEqual(4);
    expect(fetched).toBeLessThanOrEqual(8);
    expect(statuses.length).toBeGreaterThan(10 * fetched);
    expect(keys.size).toBe(fetched);
  });
});

/**
 * Sends `size` bytes (zeros unless `body` is given) to a path and reads the
 * answer, tolerating the connection closing mid-upload.
 */
function sendTolerant(
  port: number,
  path: string,
  size: number,
  options: { chunked: boolean; method?: string; body?: Buffer },
): Promise<Reply> {
  return new Promise((done, fail) => {
    let answered = false;
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "POST",
        headers: options.chunked ? { "transfer-encoding": "chunked" } : { "content-length": size },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", () => undefined);
        res.on("close", () =>
          done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    // The ingress answers before the upload ends and closes the connection: the write may then fail.
    req.on("error", (error) => {
      if (!answered) fail(error);
    });
    const source = options.body ?? Buffer.alloc(size);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(size - sent, 64 * 1024);
        const ok = req.write(source.subarray(sent, sent + n));
        sent += n;
        if (!ok) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

describe("S3 through the back, against moto with IAM enforced", () => {
  let moto: Moto;
  let account: string;
  let user: IamUser;
  let readerRoleArn: string;
  let webRoleArn: string;
  let admin: S3Client;
  let forwarder: Forwarder;
  let server: Front;
  let s3Target: BackendTarget;

  beforeAll(async () => {
    moto = await startMoto({ enforceIam: true });
    pointSdkAtEmulator(moto.endpoint);
    account = randomAccountId();
    await moto.withoutIam(async () => {
      user = await createUserInAccount(account, "ingress", {
        ingress: {
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" },
            {
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:PutObject"],
              Resource: `arn:aws:s3:::${BUCKET}/*`,
            },
          ],
        } as PolicyDocument,
      });
      secrets.push(user.credentials.secretAccessKey);
      readerRoleArn = await createRoleInAccount(account, {
        name: "ingress-route-site-reader",
        trust: renderPolicy("ingress-backend-trust", { ingress_role_arn: user.arn }),
        inline: {
          read: renderPolicy("ingress-backend-s3", {
            partition: "aws",
            object_prefix: `${BUCKET}/site/`,
          }),
        },
      });
      webRoleArn = await createRoleInAccount(account, {
        name: "ingress-web-identity",
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
            object_prefix: `${BUCKET}/`,
          }),
        },
      });
      admin = new S3Client({ ...clientConfigForAccount(account), forcePathStyle: true });
      await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
      await admin.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: "site/index.html", Body: "<h1>site</h1>" }),
      );
    });
    s3Target = {
      kind: "s3",
      region: "us-east-1",
      host: new URL(moto.endpoint).host,
      endpoint: moto.endpoint,
      bucket: BUCKET,
    };
    forwarder = createForwarder({ credentials: async () => user.credentials, logger });
    server = await front(forwarder, {
      s3: s3Target,
      site: { ...s3Target, roleArn: readerRoleArn },
    });
  });

  afterAll(async () => {
    await server?.close();
    await forwarder?.close();
    await moto?.stop();
  });

  /** An object as the IAM user reads it with the SDK's own S3 client. */
  async function objectBody(key: string): Promise<Buffer> {
    const s3 = new S3Client({ credentials: user.credentials, forcePathStyle: true });
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from((await Body?.transformToByteArray()) ?? []);
  }

  it("PUTs and GETs objects, keys with spaces and unicode included", async () => {
    for (const [path, key] of [
      ["/notes/hello.txt", "notes/hello.txt"],
      ["/notes/na%20me%20%C3%A9%E2%9C%93.txt", "notes/na me é✓.txt"],
    ] as const) {
      const body = Buffer.from(`body of ${key}`);
      const put = await send(server.port, { path: `/s3${path}`, method: "PUT", body });
      expect(put.status, put.body.toString()).toBe(200);
      const got = await send(server.port, { path: `/s3${path}` });
      expect(got.status).toBe(200);
      expect(got.body).toEqual(body);
      expect(await objectBody(key)).toEqual(body);
    }
  });

  it("signs the caller's x-amz-meta-* headers, and relays S3's own errors as they are", async () => {
    const put = await send(server.port, {
      path: "/s3/notes/meta.txt",
      method: "PUT",
      body: "m",
      headers: { "x-amz-meta-owner": "web", "content-type": "text/plain" },
    });
    expect(put.status, put.body.toString()).toBe(200);
    const s3 = new S3Client({ credentials: user.credentials, forcePathStyle: true });
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "notes/meta.txt" }));
    expect(head.Metadata).toEqual({ owner: "web" });
    expect(head.ContentType).toBe("text/plain");

    const missing = await send(server.port, { path: "/s3/notes/missing.txt" });
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toContain("NoSuchKey");
    expect(missing.headers[ERROR_HEADER]).toBeUndefined();
  });

  it("streams a PUT larger than the buffered limit as UNSIGNED-PAYLOAD", async () => {
    const body = randomBytes(3 * DEFAULT_MAX_BODY_BYTES.s3);
    const put = await send(server.port, { path: "/s3/big.bin", method: "PUT", body });
    expect(put.status, put.body.toString()).toBe(200);
    expect(sha256(await objectBody("big.bin"))).toBe(sha256(body));
    const got = await send(server.port, { path: "/s3/big.bin" });
    expect(got.status).toBe(200);
    expect(sha256(got.body)).toBe(sha256(body));
    await waitFor(() => server.outcomes.length >= 2);
    expect(server.outcomes.slice(-2)).toEqual([
      { status: 200, bytesIn: body.length, bytesOut: expect.any(Number) },
      { status: 200, bytesIn: 0, bytesOut: body.length },
    ]);
  });

  it("buffers a chunked PUT (no Content-Length) and signs its hash", async () => {
    const body = randomBytes(200_000);
    const put = await sendTolerant(server.port, "/s3/chunked.bin", body.length, {
      chunked: true,
      method: "PUT",
      body,
    });
    expect(put.status, put.body.toString()).toBe(200);
    expect(sha256(await objectBody("chunked.bin"))).toBe(sha256(body));
  });

  it("is refused by moto when signed with a wrong secret: moto checks signatures", async () => {
    const wrong = createForwarder({
      credentials: async () => ({ ...user.credentials, secretAccessKey: "wrong-secret" }),
      logger,
    });
    const through = await front(wrong, { s3: s3Target });
    const reply = await send(through.port, { path: "/s3/notes/hello.txt" });
    await through.close();
    await wrong.close();
    expect(reply.status).toBe(403);
    expect(reply.body.toString()).toContain("SignatureDoesNotMatch");
  });

  it("signs with the route's role: what the role may read passes, a write it may not do is denied", async () => {
    const read = await send(server.port, { path: "/site/site/index.html" });
    expect(read.status, read.body.toString()).toBe(200);
    expect(read.body.toString()).toBe("<h1>site</h1>");
    // The ingress's own user may write; the route's role may not: the role's keys signed it.
    const write = await send(server.port, { path: "/site/site/x.html", method: "PUT", body: "x" });
    expect(write.status).toBe(403);
    expect(write.body.toString()).toContain("AccessDenied");
  });

  it("names the caller in the assumed role's session and keeps a bounded cache", async () => {
    const sts = new STSClient({ credentials: async () => user.credentials });
    const calls = countCalls(sts);
    const roles = new AssumedRoles({
      sts: () => sts,
      maxSessions: 2,
      refreshBeforeMs: 5 * 60_000,
      onRenewalFailure: (error) => logger.warn(error.reason, { error: error.message }),
    });
    const callers = ["a", "b", "c"].map((name) => `spiffe://example.org/ns/prod/sa/${name}`);
    const first = await roles.credentialsFor(readerRoleArn, "us-east-1", callers[0] as string);
    secrets.push(first.secretAccessKey);
    const identity = await new STSClient({ credentials: first }).send(
      new GetCallerIdentityCommand({}),
    );
    expect(identity.Arn).toBe(
      `arn:aws:sts::${account}:assumed-role/ingress-route-site-reader/example.org+ns+prod+sa+a`,
    );
    expect(sessionNameFor(callers[0] as string)).toBe("example.org+ns+prod+sa+a");

    expect(await roles.credentialsFor(readerRoleArn, "us-east-1", callers[0] as string)).toBe(
      first,
    );
    expect(calls.count("AssumeRole")).toBe(1);
    await roles.credentialsFor(readerRoleArn, "us-east-1", callers[1] as string);
    await roles.credentialsFor(readerRoleArn, "us-east-1", callers[2] as string);
    expect(roles.size).toBe(2);
    // a was the least recently used: evicted by c, so it is assumed again.
    await roles.credentialsFor(readerRoleArn, "us-east-1", callers[0] as string);
    expect(calls.count("AssumeRole")).toBe(4);
    expect(roles.size).toBe(2);
  });

  it("renews a session in the background before expiry, and waits only once it has lapsed", async () => {
    const sts = new STSClient({ credentials: async () => user.credentials });
    const calls = countCalls(sts);
    let clock = Date.now();
    const roles = new AssumedRoles({
      sts: () => sts,
      maxSessions: 10,
      refreshBeforeMs: 5 * 60_000,
      onRenewalFailure: () => undefined,
      now: () => clock,
    });
    const held = await roles.credentialsFor(readerRoleArn, "us-east-1", CALLER);
    const expiry = held.expiration?.getTime() as number;
    clock = expiry - 60_000;
    // Inside the refresh window: the held session answers at once while STS is asked again.
    expect(await roles.credentialsFor(readerRoleArn, "us-east-1", CALLER)).toBe(held);
    let renewed = held;
    for (let i = 0; i < 100 && renewed === held; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      renewed = await roles.credentialsFor(readerRoleArn, "us-east-1", CALLER);
    }
    expect(renewed.accessKeyId).not.toBe(held.accessKeyId);
    expect(calls.count("AssumeRole")).toBe(2);
    clock = (renewed.expiration?.getTime() as number) + 1;
    const afterLapse = await roles.credentialsFor(readerRoleArn, "us-east-1", CALLER);
    expect(afterLapse.accessKeyId).not.toBe(renewed.accessKeyId);
    expect(calls.count("AssumeRole")).toBe(3);
  });

  it("finds web identity credentials (IRSA) through the SDK's default chain", async () => {
    const saved = { ...process.env };
    const tokenFile = join(tmpdir(), `ingress-web-identity-${process.pid}.jwt`);
    writeFileSync(
      tokenFile,
      "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6aW5ncmVzcyJ9.sig",
    );
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    Object.assign(process.env, {
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: webRoleArn,
      AWS_ROLE_SESSION_NAME: "ingress",
      AWS_ENDPOINT_URL_STS: moto.endpoint,
    });
    try {
      const chained = createForwarder({ logger });
      const through = await front(chained, { s3: s3Target });
      const first = await send(through.port, { path: "/s3/site/index.html" });
      expect(first.status, logged.at(-1)).toBe(200);
      expect(first.body.toString()).toBe("<h1>site</h1>");
      // Cached: with the token gone, the chain could not fetch credentials again.
      unlinkSync(tokenFile);
      for (let i = 0; i < 3; i++) {
        expect((await send(through.port, { path: "/s3/site/index.html" })).status).toBe(200);
      }
      // The web identity role may read, not write: its keys, not the IAM user's, signed.
      const write = await send(through.port, { path: "/s3/site/w.html", method: "PUT", body: "w" });
      expect(write.status).toBe(403);
      await through.close();
      await chained.close();
    } finally {
      for (const name of Object.keys(process.env)) {
        if (!(name in saved)) delete process.env[name];
      }
      Object.assign(process.env, saved);
    }
  });
});

describe("session names", () => {
  const VALID = /^[\w+=,.@-]{2,64}$/;

  it("keep a SPIFFE ID readable and distinct where it fits", () => {
    expect(sessionNameFor("spiffe://example.org/ns/prod/sa/web")).toBe(
      "example.org+ns+prod+sa+web",
    );
    expect(sessionNameFor("spiffe://example.org/a/b")).not.toBe(
      sessionNameFor("spiffe://example.org/a-b"),
    );
    expect(sessionNameFor("spiffe://example.org")).toBe("example.org");
  });

  it("cut a long ID and keep it distinct with a digest of the whole ID", () => {
    const base = `spiffe://example.org/${"segment/".repeat(10)}`;
    const one = sessionNameFor(`${base}one`);
    const two = sessionNameFor(`${base}two`);
    for (const name of [one, two]) {
      expect(name).toMatch(VALID);
      expect(name).toHaveLength(64);
      expect(name).toMatch(/^example\.org\+segment\+.*-[0-9a-f]{12}$/);
    }
    expect(one).not.toBe(two);
    expect(sessionNameFor(`${base}one`)).toBe(one);
  });

  it("replace characters AssumeRole refuses, with a digest", () => {
    const name = sessionNameFor("spiffe://example.org/odd:name with space");
    expect(name).toMatch(VALID);
    expect(name).toMatch(/^example\.org\+odd-name-with-space-[0-9a-f]{12}$/);
    expect(sessionNameFor("a")).toMatch(VALID);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("what the back logged", () => {
  it("holds no secret access key", () => {
    expect(logged.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      for (const line of logged) expect(line).not.toContain(secret);
    }
  });
});
