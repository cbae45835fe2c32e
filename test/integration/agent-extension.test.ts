import { createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ERROR_HEADER, ProxyReason } from "../../layers/agent/index.ts";
import { authorizeId, parseX509Svid, X509BundleSet } from "../../layers/spiffe/index.ts";
import { freePort } from "../../tools/emulator/index.ts";
import { TestCa } from "../support/ca.ts";
import { ExtensionsApiStandIn } from "../support/extensions-api.ts";
import { send } from "../support/http.ts";
import { MeshStandIn } from "../support/mesh.ts";
import {
  type AgentProcess,
  type AgentWorld,
  agentWorld,
  FUNCTION_ID,
  routesTo,
  startAgent,
} from "./agent-harness.ts";

const HOUR = 3_600_000;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function extension(world: AgentWorld, env: Record<string, string> = {}) {
  const api = await ExtensionsApiStandIn.start();
  const agent = await startAgent(world.account, {
    AWS_LAMBDA_RUNTIME_API: api.address,
    LAMBDA_SVID_ROUTES: routesTo(world.mesh),
    ...env,
  });
  cleanup.push(
    () => world.mesh.close(),
    () => api.close(),
    () => agent.stop(),
  );
  return { api, agent };
}

/** Neither the key, nor any PEM private key, nor the session token shows in what the agent wrote. */
function expectNoSecrets(agent: AgentProcess, keyPem: string, more = ""): void {
  const seen = agent.output() + more;
  expect(seen).not.toContain("PRIVATE KEY");
  const keyBody = keyPem.split("\n").filter((l) => l !== "" && !l.startsWith("-----"));
  for (const line of keyBody) expect(seen).not.toContain(line);
  expect(agent.token.length).toBeGreaterThan(0);
  expect(seen).not.toContain(agent.token);
}

describe("agent as a Lambda extension", () => {
  it("registers, reads the SVID and listens before the first event/next, forwards, and exits 0 on SHUTDOWN", async () => {
    const w = await agentWorld();
    const port = await freePort();
    const { api, agent } = await extension(w, { LAMBDA_SVID_PORT: String(port) });
    await api.nextCalled(1);
    expect(api.registrations).toEqual([{ name: "lambda-svid", events: ["INVOKE", "SHUTDOWN"] }]);
    // The agent is now parked in its first event/next, so whatever answers here was set up before it.
    const ready = await send(port, {
      path: "/db/ready",
      headers: { "x-lambda-svid-token": agent.token },
    });
    expect(ready.status).toBe(200);
    expect(await agent.port).toBe(port);
    expect(agent.output()).toContain(`as ${FUNCTION_ID} (serial ${w.serial}`);

    const reply = await send(port, {
      path: "/db/hello/there?x=1&y=2",
      headers: {
        "x-lambda-svid-token": agent.token,
        "x-app": "1",
        connection: "keep-alive, x-hop",
        "x-hop": "h",
      },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe("hello /hello/there?x=1&y=2");
    expect(reply.headers["x-mesh"]).toBe("yes");
    const seen = w.mesh.requests.at(-1);
    expect(seen?.clientSerial).toBe(w.serial);
    expect(seen?.headers["x-app"]).toBe("1");
    expect(seen?.headers["x-lambda-svid-token"]).toBeUndefined();
    expect(seen?.headers["x-hop"]).toBeUndefined();
    expect(seen?.headers.host).toBe(`127.0.0.1:${w.mesh.port}`);

    const byHost = await send(port, {
      path: "/by-host?q",
      headers: { host: "db", "x-lambda-svid-token": agent.token },
    });
    expect(byHost.body.toString()).toBe("hello /by-host?q");

    api.invoke();
    await api.nextCalled(2);
    api.shutdown();
    expect(await agent.exited).toBe(0);
    expect(api.errors).toEqual([]);
    expectNoSecrets(agent, (await w.secretFor()).svid.keyPem());
  });

  it("reads the SVID and listens while register is unanswered; calls event/next only after it", async () => {
    const w = await agentWorld();
    const api = await ExtensionsApiStandIn.start();
    const release = api.holdRegister();
    const agent = await startAgent(w.account, {
      AWS_LAMBDA_RUNTIME_API: api.address,
      LAMBDA_SVID_ROUTES: routesTo(w.mesh),
    });
    cleanup.push(
      () => w.mesh.close(),
      () => api.close(),
      () => agent.stop(),
    );
    const port = await agent.port;
    expect(agent.output()).toContain(`as ${FUNCTION_ID} (serial ${w.serial}`);
    expect(api.registrations).toHaveLength(1);
    expect(api.nextCalls).toEqual([]);
    release();
    await api.nextCalled(1);
    const reply = await send(port, {
      path: "/db/x",
      headers: { "x-lambda-svid-token": agent.token },
    });
    expect(reply.status).toBe(200);
  });

  it("streams a multi-MB body both ways: the response starts before the request has ended", async () => {
    const w = await agentWorld();
    const { agent } = await extension(w);
    const port = await agent.port;
    const half = randomBytes(4 * 1024 * 1024);
    const rest = randomBytes(4 * 1024 * 1024);
    const received: Buffer[] = [];
    let firstByte: () => void = () => {};
    const started = new Promise<void>((done) => {
      firstByte = done;
    });
    const finished = new Promise<{ status: number }>((done, fail) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          path: "/db/echo",
          method: "POST",
          headers: { "x-lambda-svid-token": agent.token },
        },
        (res) => {
          res.on("data", (c: Buffer) => {
            received.push(c);
            firstByte();
          });
          res.on("end", () => done({ status: res.statusCode ?? 0 }));
        },
      );
      req.on("error", fail);
      req.write(half);
      started.then(() => req.end(rest));
    });
    const { status } = await finished;
    expect(status).toBe(200);
    const sent = createHash("sha256").update(half).update(rest).digest("hex");
    expect(createHash("sha256").update(Buffer.concat(received)).digest("hex")).toBe(sent);
  });

  it("answers 502 and sends no request byte when the mesh shows a wrong SPIFFE ID or another trust domain", async () => {
    const w = await agentWorld();
    const other = await TestCa.root("other.org");
    const otherIssued = await other.svid("/prod/db");
    const foreign = await MeshStandIn.start(
      parseX509Svid(otherIssued.chainPem, otherIssued.keyPem),
      new X509BundleSet([other.bundle(), w.bundle]),
      authorizeId(FUNCTION_ID),
    );
    cleanup.push(() => foreign.close());
    const { agent } = await extension(w, {
      LAMBDA_SVID_ROUTES: JSON.stringify({
        wrongid: { url: w.mesh.url, peer: { id: "spiffe://example.org/prod/other" } },
        wrongtd: { url: foreign.url, peer: { ids: ["spiffe://example.org/prod/db"] } },
        othertd: { url: foreign.url, peer: { trustDomain: "other.org" } },
      }),
    });
    const port = await agent.port;
    for (const route of ["wrongid", "wrongtd", "othertd"]) {
      const reply = await send(port, {
        path: `/${route}/secret-request`,
        method: "POST",
        body: "request bytes",
        headers: { "x-lambda-svid-token": agent.token },
      });
      expect(reply.status, route).toBe(502);
      expect(reply.headers[ERROR_HEADER]).toBe(ProxyReason.PEER_REJECTED.reason);
    }
    expect(w.mesh.requests).toEqual([]);
    expect(foreign.requests).toEqual([]);
  });

  it("refuses a missing or wrong token with 403 and an unknown route with 404", async () => {
    const w = await agentWorld();
    const { agent } = await extension(w);
    const port = await agent.port;
    const none = await send(port, { path: "/db/x" });
    const wrong = await send(port, { path: "/db/x", headers: { "x-lambda-svid-token": "nope" } });
    const sameLength = await send(port, {
      path: "/db/x",
      headers: { "x-lambda-svid-token": "x".repeat(agent.token.length) },
    });
    for (const reply of [none, wrong, sameLength]) {
      expect(reply.status).toBe(403);
      expect(reply.headers[ERROR_HEADER]).toBe(ProxyReason.TOKEN.reason);
    }
    const unknown = await send(port, {
      path: "/nothing/x",
      headers: { "x-lambda-svid-token": agent.token },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.toString()).toBe(`${ProxyReason.UNKNOWN_ROUTE.reason}\n`);
    expect(w.mesh.requests).toEqual([]);
    expectNoSecrets(agent, (await w.secretFor()).svid.keyPem());
  });

  it("rotates: after a new SVID is pushed and INVOKE delivered, the next new connection shows the new certificate", async () => {
    const w = await agentWorld();
    const { api, agent } = await extension(w, { LAMBDA_SVID_REFRESH_THRESHOLD: "24h" });
    const port = await agent.port;
    const headers = { "x-lambda-svid-token": agent.token };
    expect((await send(port, { path: "/db/a", headers })).status).toBe(200);
    const inFlight = send(port, { path: "/db/hold", headers });
    await w.mesh.holding();

    const rotated = await w.rotate();
    api.invoke();
    let serial: string | undefined;
    for (let i = 0; i < 100 && serial !== rotated; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await send(port, { path: "/db/b", headers });
      serial = w.mesh.requests.at(-1)?.clientSerial;
    }
    expect(serial).toBe(rotated);
    expect(w.mesh.handshakes).toContain(rotated);
    expect(agent.output()).toContain(
      `lambda-svid: SVID rotated: ${FUNCTION_ID} (serial ${rotated},`,
    );
    w.mesh.release();
    const held = await inFlight;
    expect(held.status).toBe(200);
    expect(held.body.toString()).toBe("released");
    expect(w.mesh.requests.find((r) => r.url === "/hold")?.clientSerial).toBe(w.serial);
  });

  it("an SVID from an intermediate and a mesh that closes idle connections quickly: every request succeeds", async () => {
    const w = await agentWorld({ intermediate: true, meshKeepAliveMs: 30 });
    const { agent } = await extension(w);
    const port = await agent.port;
    const headers = { "x-lambda-svid-token": agent.token };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await send(port, { path: `/db/n${i}`, headers })).status);
      await new Promise((r) => setTimeout(r, 80));
    }
    expect(statuses).toEqual(Array(8).fill(200));
    expect(w.mesh.handshakes).toHaveLength(8);
  });

  it("SHUTDOWN with a request in flight: stops accepting, finishes the request, exits 0", async () => {
    const w = await agentWorld();
    const { api, agent } = await extension(w);
    const port = await agent.port;
    await api.nextCalled(1);
    const inFlight = send(port, {
      path: "/db/hold",
      headers: { "x-lambda-svid-token": agent.token },
    });
    await w.mesh.holding();
    api.shutdown(3_000);
    for (let refused = false; !refused; ) {
      refused = await new Promise<boolean>((done) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.on("connect", () => {
          socket.destroy();
          setTimeout(() => done(false), 10);
        });
        socket.on("error", () => done(true));
      });
    }
    w.mesh.release();
    const reply = await inFlight;
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe("released");
    expect(await agent.exited).toBe(0);
  });
});

describe("agent init failures go to init/error, naming the cause", () => {
  it.each([
    {
      name: "missing secret",
      options: { secret: false as const },
      errorType: "Extension.SvidSecretUnreadable",
      message:
        /^svid-secret: could not read the SVID secret: "lambda-svid\/svid": ResourceNotFoundException: /,
    },
    {
      name: "malformed secret",
      options: { secret: "not json" },
      errorType: "Extension.SvidSecretInvalid",
      message:
        /^svid-secret: SVID secret is unusable: "lambda-svid\/svid": svidsecret: secret value is not a JSON object$/,
    },
    {
      name: "expired SVID",
      options: {
        svid: {
          notBefore: new Date(Date.now() - 25 * HOUR),
          notAfter: new Date(Date.now() - HOUR),
        },
      },
      errorType: "Extension.SvidExpired",
      message:
        /^svid-secret: SVID has expired: "lambda-svid\/svid": x509svid: certificate has expired/,
    },
  ])("$name", async ({ options, errorType, message }) => {
    const w = await agentWorld(options);
    const { api, agent } = await extension(w);
    const report = await api.errorReported();
    expect(report.phase).toBe("init");
    expect(report.errorType).toBe(errorType);
    expect(report.body.errorType).toBe(errorType);
    expect(report.body.errorMessage).toMatch(message);
    expect(await agent.exited).toBe(1);
    expect(api.nextCalls).toEqual([]);
    expect(agent.output()).not.toContain("listening");
    expectNoSecrets(agent, (await w.secretFor()).svid.keyPem(), JSON.stringify(report));
  });

  it("a malformed route names the variable", async () => {
    const w = await agentWorld();
    const { api } = await extension(w, {
      LAMBDA_SVID_ROUTES: JSON.stringify({ db: { url: "http://x", peer: { id: FUNCTION_ID } } }),
    });
    const report = await api.errorReported();
    expect(report.errorType).toBe("Extension.ConfigError");
    expect(report.body.errorMessage).toBe(
      'config: LAMBDA_SVID_ROUTES is invalid; expected route "db": url of the form "https://host:port[/base]" without query or credentials',
    );
  });
});
