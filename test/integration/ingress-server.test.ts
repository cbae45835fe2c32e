import { writeFile } from "node:fs/promises";
import * as https from "node:https";
import { afterEach, describe, expect, it } from "vitest";
import {
  CALLER_ID_HEADER,
  DENIED_HEADER,
  DenialReason,
  jsonLogger,
  RoutesReason,
} from "../../ingress/index.ts";
import { X509Bundle } from "../../layers/spiffe/index.ts";
import { TestCa } from "../support/ca.ts";
import {
  call,
  callerOptions,
  health,
  type IngressWorld,
  ingressWorld,
  ROUTES,
} from "./ingress-harness.ts";

const HOUR = 3_600_000;
const worlds: IngressWorld[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) {
    await w.close();
    await w.backend.close().catch(() => {});
  }
});

async function world(...args: Parameters<typeof ingressWorld>): Promise<IngressWorld> {
  const w = await ingressWorld(...args);
  worlds.push(w);
  return w;
}

describe("ingress front: a caller in the route's ACL", () => {
  it("is forwarded with the verified caller header set and every spoofed caller header stripped", async () => {
    const w = await world();
    const web = callerOptions(await w.ca.svid("/prod/web"), w.ca.bundle());
    const answer = await call(w.ingress.port, web, {
      path: "/orders/items?b=2&a=1",
      method: "POST",
      headers: {
        [CALLER_ID_HEADER]: "spiffe://example.org/ops/admin",
        "X-Lambda-Svid-Caller-Trust-Domain": "other.org",
        "content-type": "application/json",
      },
      body: '{"qty":1}',
    });
    expect(answer.status).toBe(200);
    const upstream = JSON.parse(answer.body) as {
      url: string;
      headers: Record<string, string>;
      body: string;
    };
    expect(upstream.url).toBe("/items?b=2&a=1");
    expect(upstream.body).toBe('{"qty":1}');
    expect(upstream.headers[CALLER_ID_HEADER]).toBe("spiffe://example.org/prod/web");
    expect(upstream.headers["x-lambda-svid-caller-trust-domain"]).toBeUndefined();
    expect(w.backend.handed).toEqual([
      expect.objectContaining({
        callerId: "spiffe://example.org/prod/web",
        route: "orders",
        path: "/items?b=2&a=1",
        method: "POST",
      }),
    ]);
    expect(
      Object.keys(w.backend.handed[0]?.headers ?? {}).filter((h) =>
        h.startsWith("x-lambda-svid-caller-"),
      ),
    ).toEqual([CALLER_ID_HEADER]);
    expect(w.log.requests).toEqual([
      expect.objectContaining({
        callerId: "spiffe://example.org/prod/web",
        route: "orders",
        method: "POST",
        path: "/orders/items",
        status: 200,
        bytesIn: 9,
      }),
    ]);
  });

  it("passes the back's status through, and an ID-prefix rule allows only its methods", async () => {
    const w = await world();
    const batch = callerOptions(await w.ca.svid("/prod/batch/nightly"), w.ca.bundle());
    expect((await call(w.ingress.port, batch, { path: "/orders/status/404" })).status).toBe(404);
    const put = await call(w.ingress.port, batch, { path: "/orders/x", method: "PUT", body: "x" });
    expect(put.status).toBe(403);
    expect(put.headers[DENIED_HEADER]).toBe(DenialReason.METHOD_NOT_ALLOWED);
    expect(w.backend.handed.map((h) => h.method)).toEqual(["GET"]);
  });
});

describe("ingress front: authorisation before anything else", () => {
  it("answers 403 with the reason header to a caller not in the ACL, and the back gets no byte", async () => {
    const w = await world();
    const web = callerOptions(await w.ca.svid("/prod/web"), w.ca.bundle());
    const answer = await call(w.ingress.port, web, {
      path: "/admin/users",
      method: "POST",
      body: Buffer.alloc(256 * 1024, 1),
    });
    expect(answer.status).toBe(403);
    expect(answer.headers[DENIED_HEADER]).toBe(DenialReason.CALLER_NOT_ALLOWED);
    expect(w.backend.handed).toEqual([]);
    expect(w.backend.bodyBytes).toBe(0);
    expect(w.log.requests).toEqual([
      expect.objectContaining({
        callerId: "spiffe://example.org/prod/web",
        route: "admin",
        status: 403,
        denied: DenialReason.CALLER_NOT_ALLOWED,
        bytesIn: 0,
      }),
    ]);
  });

  it.each([
    ["no route", "/nothing/here", 404],
    ["a dot-dot segment", "/orders/../admin/users", 400],
    ["an encoded dot-dot segment", "/orders/%2E%2e/admin", 400],
    ["a prefix that is not on a segment boundary", "/ordersx", 404],
  ])("answers %s without calling the back", async (_, path, status) => {
    const w = await world();
    const web = callerOptions(await w.ca.svid("/prod/web"), w.ca.bundle());
    expect((await call(w.ingress.port, web, { path })).status).toBe(status);
    expect(w.backend.handed).toEqual([]);
  });
});

describe("ingress front: its own answers and keep-alive", () => {
  it("keeps the connection after a refused request without a body, and closes it after one with a body", async () => {
    const w = await world();
    const tls = callerOptions(await w.ca.svid("/prod/web"), w.ca.bundle());
    const agent = new https.Agent({
      ...(tls as https.AgentOptions),
      keepAlive: true,
      maxSockets: 1,
    });
    try {
      const denied = await call(w.ingress.port, tls, { path: "/admin/1", agent });
      const next = await call(w.ingress.port, tls, { path: "/orders/1", agent });
      expect([denied.status, next.status]).toEqual([403, 200]);
      expect(next.localPort).toBe(denied.localPort);
      const withBody = await call(w.ingress.port, tls, {
        path: "/admin/1",
        method: "POST",
        body: "x",
        agent,
      });
      expect(withBody.headers.connection).toBe("close");
      const after = await call(w.ingress.port, tls, { path: "/orders/2", agent });
      expect(after.localPort).not.toBe(withBody.localPort);
    } finally {
      agent.destroy();
    }
  });
});

describe("ingress front: Expect: 100-continue", () => {
  /** Sends the head with `Expect: 100-continue` and the body only if told to continue. */
  function upload(port: number, tls: https.RequestOptions, path: string) {
    return new Promise<{ status: number; continued: boolean }>((done, fail) => {
      let continued = false;
      const req = https.request(
        {
          ...tls,
          host: "127.0.0.1",
          port,
          path,
          method: "PUT",
          agent: false,
          headers: { expect: "100-continue", "content-length": 5 },
        },
        (res) => {
          res.resume();
          res.on("end", () => done({ status: res.statusCode ?? 0, continued }));
        },
      );
      req.on("continue", () => {
        continued = true;
        req.end("hello");
      });
      req.on("error", fail);
      req.flushHeaders();
    });
  }

  it("tells an allowed caller to continue, and refuses any other before its body is sent", async () => {
    const w = await world();
    const web = callerOptions(await w.ca.svid("/prod/web"), w.ca.bundle());
    expect(await upload(w.ingress.port, web, "/orders/put")).toEqual({
      status: 200,
      continued: true,
    });
    expect(await upload(w.ingress.port, web, "/admin/put")).toEqual({
      status: 403,
      continued: false,
    });
    expect(w.backend.bodyBytes).toBe(5);
  });
});

describe("ingress front: the handshake refuses", () => {
  it.each([
    [
      "an expired SVID",
      async (ca: TestCa) =>
        ca.svid("/prod/web", {
          notBefore: new Date(Date.now() - 3 * HOUR),
          notAfter: new Date(Date.now() - HOUR),
        }),
    ],
    [
      "an SVID from another trust domain",
      async () => (await TestCa.root("other.org")).svid("/prod/web"),
    ],
  ])("%s", async (_, make) => {
    const w = await world();
    const caller = callerOptions(await make(w.ca), w.ca.bundle());
    await expect(call(w.ingress.port, caller, { path: "/orders/x" })).rejects.toThrow();
    expect(w.backend.handed).toEqual([]);
    const metrics = (await health(w.ingress.healthPort, "/metrics")).body;
    expect(metrics).toMatch(/^lambda_svid_ingress_tls_handshake_failures_total\{reason=".+"\} 1$/m);
    expect(metrics).toContain("lambda_svid_ingress_tls_handshakes_total 0");
  });

  it("a client without a certificate", async () => {
    const w = await world();
    const anonymous = { ca: w.ca.root.certPem, checkServerIdentity: () => undefined };
    await expect(call(w.ingress.port, anonymous, { path: "/orders/x" })).rejects.toThrow();
    expect(w.backend.handed).toEqual([]);
  });
});

describe("ingress front: SVID rotation", () => {
  it("keeps a live keep-alive connection and presents the new certificate on new handshakes", async () => {
    const w = await world();
    const tls = callerOptions(await w.ca.svid("/prod/web"), w.ca.bundle());
    // The TLS options go to the agent itself: an agent given them only per request frees its sockets without keeping them.
    const agent = new https.Agent({
      ...(tls as https.AgentOptions),
      keepAlive: true,
      maxSockets: 1,
    });
    try {
      const first = await call(w.ingress.port, tls, { path: "/orders/1", agent });
      const next = await w.ca.svid("/ingress");
      await w.writeSvid(next);
      while (!w.log.events.some((e) => e.message === "svid rotated")) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const again = await call(w.ingress.port, tls, { path: "/orders/2", agent });
      expect(again.status).toBe(200);
      expect(again.localPort).toBe(first.localPort);
      expect(again.serverSerial).toBe(first.serverSerial);

      const fresh = await call(w.ingress.port, tls, { path: "/orders/3" });
      expect(fresh.status).toBe(200);
      expect(fresh.serverSerial).toBe(next.leaf.serialNumber.toUpperCase());
      expect(fresh.serverSerial).not.toBe(first.serverSerial);
      const metrics = (await health(w.ingress.healthPort, "/metrics")).body;
      expect(metrics).toContain("lambda_svid_ingress_svid_rotations_total 1");
      expect(metrics).toContain("lambda_svid_ingress_tls_handshakes_total 2");
    } finally {
      agent.destroy();
    }
  });

  it("verifies callers under a root the rotated bundle adds", async () => {
    const w = await world();
    const newRoot = await TestCa.root("example.org");
    const both = X509Bundle.fromPem("example.org", w.ca.root.certPem + newRoot.root.certPem);
    const caller = callerOptions(await newRoot.svid("/prod/web"), both);
    await expect(call(w.ingress.port, caller, { path: "/orders/1" })).rejects.toThrow();
    await w.writeSvid(await newRoot.svid("/ingress"), w.ca.root.certPem + newRoot.root.certPem);
    while (!w.log.events.some((e) => e.message === "svid rotated")) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await call(w.ingress.port, caller, { path: "/orders/1" })).status).toBe(200);
  });

  it("keeps the current SVID when the files do not verify, and says why", async () => {
    const w = await world();
    const expired = await w.ca.svid("/ingress", {
      notBefore: new Date(Date.now() - 3 * HOUR),
      notAfter: new Date(Date.now() - HOUR),
    });
    await w.writeSvid(expired);
    while (!w.log.events.some((e) => e.message.startsWith("svid re-read failed"))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(w.log.events.filter((e) => e.message.startsWith("svid re-read failed"))).toEqual([
      {
        message: "svid re-read failed; keeping the current one",
        fields: {
          error: `ingress: svid: the SVID does not verify against its bundle: spiffe://example.org/ingress: x509svid: certificate has expired: leaf expired at ${expired.leaf.notAfter.toISOString()}`,
        },
      },
    ]);
    const web = callerOptions(await w.ca.svid("/prod/web"), w.ca.bundle());
    expect((await call(w.ingress.port, web, { path: "/orders/1" })).status).toBe(200);
  });
});

describe("ingress front: health, metrics and logs", () => {
  it("reports ready with the SVID's ID, and counts requests, denials and latency by route", async () => {
    const w = await world();
    const ready = await health(w.ingress.healthPort, "/healthz");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({
      status: "ready",
      spiffeId: "spiffe://example.org/ingress",
      routes: 2,
    });
    const web = callerOptions(await w.ca.svid("/prod/web"), w.ca.bundle());
    await call(w.ingress.port, web, { path: "/orders/1" });
    await call(w.ingress.port, web, { path: "/admin/1" });
    const metrics = await health(w.ingress.healthPort, "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain(
      'lambda_svid_ingress_requests_total{route="orders",status="200"} 1',
    );
    expect(metrics.body).toContain(
      'lambda_svid_ingress_requests_total{route="admin",status="403"} 1',
    );
    expect(metrics.body).toContain(
      'lambda_svid_ingress_denials_total{route="admin",reason="caller-not-allowed"} 1',
    );
    expect(metrics.body).toContain(
      'lambda_svid_ingress_request_duration_seconds_count{route="orders"} 1',
    );
    expect(metrics.body).toContain("lambda_svid_ingress_connections_total 2");
    expect((await health(w.ingress.healthPort, "/other")).status).toBe(404);
  });

  it("on close, answers 503 on /healthz and lets a request in flight finish", async () => {
    const w = await world();
    const web = callerOptions(await w.ca.svid("/prod/web"), w.ca.bundle());
    const inFlight = call(w.ingress.port, web, { path: "/orders/slow" });
    while (w.backend.handed.length === 0) await new Promise((r) => setTimeout(r, 10));
    const closing = w.ingress.close(5_000);
    expect((await health(w.ingress.healthPort, "/healthz")).status).toBe(503);
    await expect(call(w.ingress.port, web, { path: "/orders/1" })).rejects.toThrow();
    expect((await inFlight).status).toBe(200);
    await closing;
  });

  it("writes JSON lines that never hold credentials, signatures, Authorization headers or key material", async () => {
    const lines: string[] = [];
    const w = await world(jsonLogger((line) => lines.push(line)));
    const svid = await w.ca.svid("/prod/web");
    const web = callerOptions(svid, w.ca.bundle());
    const secrets = {
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/eu-west-1/execute-api/aws4_request, SignedHeaders=host, Signature=0123456789abcdef0123456789abcdef",
      "x-amz-security-token": "FwoGZXIvYXdzEXAMPLETOKEN",
      cookie: "session=hunter2",
    };
    await call(w.ingress.port, web, {
      path: "/orders/1?X-Amz-Signature=feedfacecafebeef&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE",
      headers: secrets,
    });
    await call(w.ingress.port, web, { path: "/admin/1", headers: secrets });
    const output = lines.join("");
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.filter((l) => l.message === "request")).toHaveLength(2);
    for (const needle of [
      "AKIAIOSFODNN7EXAMPLE",
      "Signature",
      "feedfacecafebeef",
      "EXAMPLETOKEN",
      "hunter2",
      "authorization",
      "PRIVATE KEY",
      svid.keyPem.split("\n")[1] as string,
    ]) {
      expect(output).not.toContain(needle);
    }
  });
});

describe("ingress front: route reload", () => {
  it("swaps in a valid route file, and keeps the current routes when the new file is invalid", async () => {
    const w = await world();
    const web = callerOptions(await w.ca.svid("/prod/web"), w.ca.bundle());
    await writeFile(w.routesFile, ROUTES.replace("pathPrefix: /orders", "pathPrefix: /v2/orders"));
    await w.ingress.reload();
    expect((await call(w.ingress.port, web, { path: "/orders/1" })).status).toBe(404);
    expect((await call(w.ingress.port, web, { path: "/v2/orders/1" })).status).toBe(200);

    await writeFile(w.routesFile, ROUTES.replace("region: eu-west-1", "region: eu"));
    await expect(w.ingress.reload()).rejects.toMatchObject({ reason: RoutesReason.INVALID });
    expect((await call(w.ingress.port, web, { path: "/v2/orders/1" })).status).toBe(200);
  });
});
