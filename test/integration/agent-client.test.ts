import { randomUUID } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { fetch } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import {
  createDispatchers,
  createHttpsAgents,
  defaultSvidSource,
  ERROR_HEADER,
  getSvid,
  ProxyReason,
  parseRoutes,
  SvidSource,
  SvidSourceError,
  SvidSourceReason,
  startProxy,
} from "../../layers/agent/index.ts";
import { authorizeId } from "../../layers/spiffe/index.ts";
import { clientConfigForAccount } from "../emulator/accounts.ts";
import { countCalls } from "../emulator/faults.ts";
import { send } from "../support/http.ts";
import { type AgentWorld, agentWorld, MESH_ID, routesTo, SECRET_NAME } from "./agent-harness.ts";

const HOUR = 3_600_000;
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function world(options?: Parameters<typeof agentWorld>[0]): Promise<AgentWorld> {
  const w = await agentWorld(options);
  cleanup.push(() => w.mesh.close());
  return w;
}

/** A source reading `w`'s account, with a clock the test moves. */
function sourceFor(w: AgentWorld, clock: { now: number }) {
  const client = new SecretsManagerClient(clientConfigForAccount(w.account));
  const calls = countCalls(client);
  const errors: SvidSourceError[] = [];
  const source = new SvidSource({
    secretName: SECRET_NAME,
    client,
    now: () => new Date(clock.now),
    refreshIntervalMs: HOUR,
    refreshThresholdMs: 6 * HOUR,
    onRefreshError: (err) => errors.push(err),
  });
  return { source, calls, errors };
}

describe("getSvid: a cached read with the extension's freshness rules", () => {
  it("reads once, serves the held SVID while fresh, re-reads in the background when stale", async () => {
    const w = await world();
    const clock = { now: Date.now() };
    const { source, calls } = sourceFor(w, clock);
    const first = await getSvid(source);
    expect(first.svid.leaf.serialNumber).toBe(w.serial);
    expect(first.svid.id.toString()).toBe("spiffe://example.org/prod/fn");
    await getSvid(source);
    expect(calls.count("GetSecretValue")).toBe(1);

    const rotated = await w.rotate();
    clock.now += HOUR;
    expect(source.freshness()).toBe("stale");
    const stale = await getSvid(source);
    expect(stale.svid.leaf.serialNumber).toBe(w.serial);
    await source.read();
    expect((await getSvid(source)).svid.leaf.serialNumber).toBe(rotated);
    expect((await getSvid(source)).generation).toBe(2);
    expect(calls.count("GetSecretValue")).toBe(2);
  });

  it("never returns an expired SVID: waits for a read, and fails when the stored one has expired too", async () => {
    const w = await world();
    const clock = { now: Date.now() };
    const { source, calls } = sourceFor(w, clock);
    await getSvid(source);
    clock.now += 25 * HOUR;
    expect(source.freshness()).toBe("expired");
    const err = await getSvid(source).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SvidSourceError);
    expect((err as SvidSourceError).reason).toBe(SvidSourceReason.SVID_EXPIRED);
    expect(calls.count("GetSecretValue")).toBe(2);
  });

  it("keeps the held SVID when a background re-read finds an expired or malformed secret", async () => {
    const w = await world();
    const clock = { now: Date.now() };
    const { source, errors } = sourceFor(w, clock);
    await source.read();
    await w.rotate({
      notBefore: new Date(clock.now - 25 * HOUR),
      notAfter: new Date(clock.now - 1),
    });
    clock.now += HOUR;
    await source.maintain();
    await expect(source.read()).rejects.toThrow(SvidSourceReason.SVID_EXPIRED);
    expect((await source.get()).svid.leaf.serialNumber).toBe(w.serial);
    expect(errors.map((e) => e.reason)).toContain(SvidSourceReason.SVID_EXPIRED);
  });
});

describe("the process's default source", () => {
  it("reads the secret named by LAMBDA_SVID_SECRET_NAME with the SDK's standard chain, once", async () => {
    const w = await world({ secret: false });
    const name = `agent-test/${randomUUID()}`;
    const value = (await w.secretFor()).value;
    await new SecretsManagerClient({}).send(
      new CreateSecretCommand({ Name: name, SecretString: value }),
    );
    process.env.LAMBDA_SVID_SECRET_NAME = name;
    cleanup.push(() => {
      delete process.env.LAMBDA_SVID_SECRET_NAME;
    });
    const source = defaultSvidSource();
    expect(source.secretName).toBe(name);
    expect(defaultSvidSource()).toBe(source);
    const first = await getSvid();
    expect(first.svid.chainPem()).toBe(JSON.parse(value).x509Svid);
    expect(await getSvid()).toBe(first);
  });
});

describe("mTLS agent factories", () => {
  it("a fetch dispatcher and an https.Agent reach the mesh with the current SVID and rebuild on rotation", async () => {
    const w = await world();
    const clock = { now: Date.now() };
    const { source } = sourceFor(w, clock);
    const dispatchers = createDispatchers({ source, authorizer: authorizeId(MESH_ID) });
    const agents = createHttpsAgents({ source, authorizer: authorizeId(MESH_ID) });
    cleanup.push(
      () => dispatchers.close(),
      () => agents.close(),
    );

    const res = await fetch(`${w.mesh.url}/via-fetch`, { dispatcher: await dispatchers.get() });
    expect(await res.text()).toBe("hello /via-fetch");
    // Node's own fetch takes the same dispatcher, as a function's code on nodejs22.x would use it.
    const global = await globalThis.fetch(`${w.mesh.url}/via-global-fetch`, {
      dispatcher: await dispatchers.get(),
    } as RequestInit);
    expect(await global.text()).toBe("hello /via-global-fetch");
    const viaAgent = await httpsGet(`${w.mesh.url}/via-agent`, await agents.get());
    expect(viaAgent).toBe("hello /via-agent");
    expect(w.mesh.requests.map((r) => r.clientSerial)).toEqual([w.serial, w.serial, w.serial]);

    const firstDispatcher = await dispatchers.get();
    const rotated = await w.rotate();
    clock.now += HOUR;
    await source.read();
    expect(await dispatchers.get()).not.toBe(firstDispatcher);
    await (await fetch(`${w.mesh.url}/after`, { dispatcher: await dispatchers.get() })).text();
    await httpsGet(`${w.mesh.url}/after`, await agents.get());
    expect(w.mesh.requests.slice(3).map((r) => r.clientSerial)).toEqual([rotated, rotated]);
  });

  it("an https.Agent keys its pool without the key or certificates: one TLS context serves its connections", async () => {
    const w = await world();
    const { source } = sourceFor(w, { now: Date.now() });
    const agents = createHttpsAgents({ source, authorizer: authorizeId(MESH_ID) });
    cleanup.push(() => agents.close());
    const agent = await agents.get();
    // What Node's agent computes on every request, from the request's options and its own.
    const name = agent.getName({
      ...agent.options,
      host: "127.0.0.1",
      port: w.mesh.port,
      servername: "db.internal",
    });
    expect(name).not.toContain("PRIVATE KEY");
    expect(name).not.toContain("CERTIFICATE");
    expect(name.length).toBeLessThan(200);
    expect(await httpsGet(`${w.mesh.url}/shared`, agent)).toBe("hello /shared");
    expect(w.mesh.requests.at(-1)?.clientSerial).toBe(w.serial);
  });

  it("refuses a server whose SPIFFE ID the authorizer does not accept", async () => {
    const w = await world();
    const { source } = sourceFor(w, { now: Date.now() });
    const dispatchers = createDispatchers({
      source,
      authorizer: authorizeId("spiffe://example.org/prod/other"),
    });
    cleanup.push(() => dispatchers.close());
    await expect(
      fetch(`${w.mesh.url}/x`, { dispatcher: await dispatchers.get() }),
    ).rejects.toThrow();
    expect(w.mesh.requests).toEqual([]);
  });
});

describe("a chain with an intermediate, an upstream that closes idle connections quickly", () => {
  const ROUNDS = 12;
  const pause = () => new Promise((r) => setTimeout(r, 80));

  it("every request of the fetch dispatcher and the https.Agent succeeds, each on a full handshake", async () => {
    const w = await world({ intermediate: true, meshKeepAliveMs: 30 });
    const { source } = sourceFor(w, { now: Date.now() });
    const dispatchers = createDispatchers({ source, authorizer: authorizeId(MESH_ID) });
    const agents = createHttpsAgents({ source, authorizer: authorizeId(MESH_ID) });
    cleanup.push(
      () => dispatchers.close(),
      () => agents.close(),
    );
    const bodies: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const res = await fetch(`${w.mesh.url}/f${i}`, { dispatcher: await dispatchers.get() });
      bodies.push(await res.text());
      bodies.push(await httpsGet(`${w.mesh.url}/a${i}`, await agents.get()));
      await pause();
    }
    expect(bodies).toEqual(
      Array.from({ length: ROUNDS }, (_, i) => [`hello /f${i}`, `hello /a${i}`]).flat(),
    );
    // The mesh closed each idle connection, so each request had a handshake of its own.
    expect(w.mesh.handshakes).toHaveLength(2 * ROUNDS);
  });

  it("every request through the proxy succeeds", async () => {
    const w = await world({ intermediate: true, meshKeepAliveMs: 30 });
    const { source } = sourceFor(w, { now: Date.now() });
    await source.read();
    const p = await startProxy(0, {
      routes: parseRoutes(routesTo(w.mesh), "LAMBDA_SVID_ROUTES"),
      source,
      token: undefined,
      upstreamTimeoutMs: 30_000,
      maxSocketsPerRoute: 4,
    });
    cleanup.push(() => p.close(0));
    const statuses: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const reply = await send(p.port, { path: `/db/r${i}` });
      statuses.push(reply.status);
      await pause();
    }
    expect(statuses).toEqual(Array(ROUNDS).fill(200));
    expect(w.mesh.requests.map((r) => r.url)).toEqual(
      Array.from({ length: ROUNDS }, (_, i) => `/r${i}`),
    );
    expect(w.mesh.handshakes).toHaveLength(ROUNDS);
  });
});

describe("the proxy in-process", () => {
  async function proxy(w: AgentWorld, clock: { now: number }, upstreamTimeoutMs = 30_000) {
    const { source } = sourceFor(w, clock);
    await source.read();
    const p = await startProxy(0, {
      routes: parseRoutes(routesTo(w.mesh), "LAMBDA_SVID_ROUTES"),
      source,
      token: undefined,
      upstreamTimeoutMs,
      maxSocketsPerRoute: 4,
    });
    cleanup.push(() => p.close(0));
    return p;
  }

  it("forwards a request body that came whole with the head, an empty one, and one that came after the head", async () => {
    const w = await world();
    const p = await proxy(w, { now: Date.now() });
    const whole = await send(p.port, { path: "/db/echo", body: "a".repeat(1024) });
    expect(whole.status).toBe(200);
    expect(whole.body.toString()).toBe("a".repeat(1024));
    const empty = await send(p.port, { path: "/db/echo", body: "" });
    expect(empty.status).toBe(200);
    expect(empty.body.toString()).toBe("");
    const late = await new Promise<string>((done, fail) => {
      const req = http.request(
        { host: "127.0.0.1", port: p.port, path: "/db/echo", method: "POST" },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => {
            body += c.toString();
          });
          res.on("end", () => done(body));
        },
      );
      req.on("error", fail);
      req.flushHeaders();
      setTimeout(() => req.end("after the head"), 50);
    });
    expect(late).toBe("after the head");
    expect(w.mesh.requests.map((r) => r.headers["content-length"])).toEqual([
      "1024",
      "0",
      undefined,
    ]);
    expect(w.mesh.requests[2]?.headers["transfer-encoding"]).toBe("chunked");
  });

  it("forwards a repeated header as its separate fields", async () => {
    const w = await world();
    const p = await proxy(w, { now: Date.now() });
    const reply = await send(p.port, { path: "/db/x", headers: { "set-cookie": ["a=1", "b=2"] } });
    expect(reply.status).toBe(200);
    expect(w.mesh.requests.at(-1)?.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
  });

  it("answers 503 once the SVID has expired and no valid one can be read", async () => {
    const w = await world();
    const clock = { now: Date.now() };
    const p = await proxy(w, clock);
    expect((await send(p.port, { path: "/db/x" })).status).toBe(200);
    clock.now += 25 * HOUR;
    const reply = await send(p.port, { path: "/db/x" });
    expect(reply.status).toBe(503);
    expect(reply.headers[ERROR_HEADER]).toBe(ProxyReason.NO_SVID.reason);
    expect(w.mesh.requests).toHaveLength(1);
  });

  it("answers 504 when the upstream stays silent past the timeout", async () => {
    const w = await world();
    const p = await proxy(w, { now: Date.now() }, 200);
    const reply = await send(p.port, { path: "/db/silent" });
    expect(reply.status).toBe(504);
    expect(reply.headers[ERROR_HEADER]).toBe(ProxyReason.UPSTREAM_TIMEOUT.reason);
  });

  it("answers 502 when the upstream cannot be reached", async () => {
    const w = await world();
    const p = await proxy(w, { now: Date.now() });
    await w.mesh.close();
    const reply = await send(p.port, { path: "/db/x" });
    expect(reply.status).toBe(502);
    expect(reply.headers[ERROR_HEADER]).toBe(ProxyReason.UPSTREAM_FAILED.reason);
  });
});

function httpsGet(url: string, agent: https.Agent): Promise<string> {
  return new Promise((done, fail) => {
    https
      .get(url, { agent }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () => done(body));
      })
      .on("error", fail);
  });
}
