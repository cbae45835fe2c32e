/**
 * The proxy forwards only paths under a route's base: request lines are
 * written byte for byte over a socket (http.request would normalise some of
 * them) to the in-process proxy in front of a loopback mTLS mesh stand-in.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ERROR_HEADER,
  type LocalProxy,
  ProxyReason,
  parseRoutes,
  SvidSource,
  startProxy,
} from "../../layers/agent/index.ts";
import { clientConfigForAccount } from "../emulator/accounts.ts";
import { sendRaw } from "../support/http.ts";
import { type AgentWorld, agentWorld, MESH_ID, SECRET_NAME } from "./agent-harness.ts";

let w: AgentWorld;
let proxy: LocalProxy;

beforeAll(async () => {
  w = await agentWorld();
  const source = new SvidSource({
    secretName: SECRET_NAME,
    client: new SecretsManagerClient(clientConfigForAccount(w.account)),
  });
  await source.read();
  const routes = JSON.stringify({
    db: { url: `${w.mesh.url}/api/v1`, serverName: "db.internal", peer: { id: MESH_ID } },
  });
  proxy = await startProxy(0, {
    routes: parseRoutes(routes, "LAMBDA_SVID_ROUTES"),
    source,
    token: undefined,
    upstreamTimeoutMs: 10_000,
    maxSocketsPerRoute: 4,
  });
});

afterAll(async () => {
  await proxy?.close(0);
  await w?.mesh.close();
});

beforeEach(() => {
  w.mesh.requests.length = 0;
});

/** One request line (and Host) as the function's HTTP client might write it. */
const send = (line: string, host = "localhost") => sendRaw(proxy.port, `${line}\r\nHost: ${host}`);

const DOT = ProxyReason.DOT_SEGMENT.reason;
const FORM = ProxyReason.NOT_ORIGIN_FORM.reason;

const refused: Array<{ line: string; host?: string; reason: string; body: string }> = [
  { line: "GET /db/../../admin HTTP/1.1", reason: DOT, body: `${DOT}: ".."` },
  { line: "GET /db/a/.. HTTP/1.1", reason: DOT, body: `${DOT}: ".."` },
  { line: "GET /db/./x HTTP/1.1", reason: DOT, body: `${DOT}: "."` },
  { line: "GET /db/%2e%2e/%2E%2E/admin HTTP/1.1", reason: DOT, body: `${DOT}: "%2e%2e"` },
  { line: "GET /db/.%2e/admin HTTP/1.1", reason: DOT, body: `${DOT}: ".%2e"` },
  { line: "GET /db/%2E./admin HTTP/1.1", reason: DOT, body: `${DOT}: "%2E."` },
  { line: "GET /db/%2e HTTP/1.1", reason: DOT, body: `${DOT}: "%2e"` },
  {
    line: "GET /db/..%2f..%2fadmin HTTP/1.1",
    reason: DOT,
    body: `${DOT}: "..%2f..%2fadmin"`,
  },
  {
    line: "GET /db/x%2F%2e%2e%2F..%2Fadmin HTTP/1.1",
    reason: DOT,
    body: `${DOT}: "x%2F%2e%2e%2F..%2Fadmin"`,
  },
  {
    line: "GET /db/..%5c..%5cadmin HTTP/1.1",
    reason: DOT,
    body: `${DOT}: "..%5c..%5cadmin"`,
  },
  { line: "GET /%2e%2e/db/x HTTP/1.1", reason: DOT, body: `${DOT}: "%2e%2e"` },
  { line: "GET /../admin HTTP/1.1", host: "db", reason: DOT, body: `${DOT}: ".."` },
  {
    line: "GET http://evil.example/x HTTP/1.1",
    host: "db",
    reason: FORM,
    body: `${FORM}: absolute-form`,
  },
  {
    line: "GET http://evil.example/db/x HTTP/1.1",
    reason: FORM,
    body: `${FORM}: absolute-form`,
  },
  { line: "OPTIONS * HTTP/1.1", host: "db", reason: FORM, body: `${FORM}: asterisk-form` },
  { line: "GET /db/x#frag HTTP/1.1", reason: FORM, body: `${FORM}: a fragment` },
  { line: "GET /db/..\\admin HTTP/1.1", reason: DOT, body: `${DOT}: "..\\\\admin"` },
  {
    line: "CONNECT evil.example:443 HTTP/1.1",
    host: "evil.example:443",
    reason: FORM,
    body: `${FORM}: authority-form`,
  },
];

describe("the proxy refuses request targets that could leave the route's base path", () => {
  for (const row of refused) {
    it(`${row.line}${row.host === undefined ? "" : ` (Host: ${row.host})`}: 400, nothing forwarded`, async () => {
      const reply = await send(row.line, row.host);
      expect(reply.status).toBe(400);
      expect(reply.headers[ERROR_HEADER]).toBe(row.reason);
      expect(reply.body.toString()).toBe(`${row.body}\n`);
      expect(w.mesh.requests).toEqual([]);
    });
  }
});

const forwarded: Array<{ line: string; host?: string; upstream: string }> = [
  { line: "GET /db/orders?id=7 HTTP/1.1", upstream: "/api/v1/orders?id=7" },
  {
    line: "GET /db/a..b/.hidden/...?q=../../admin HTTP/1.1",
    upstream: "/api/v1/a..b/.hidden/...?q=../../admin",
  },
  { line: "GET /db/%2e%2e%2e/x HTTP/1.1", upstream: "/api/v1/%2e%2e%2e/x" },
  { line: "GET /db/group%2Fproject HTTP/1.1", upstream: "/api/v1/group%2Fproject" },
  { line: "GET /db HTTP/1.1", upstream: "/api/v1/" },
  { line: "GET /orders/7 HTTP/1.1", host: "db", upstream: "/api/v1/orders/7" },
];

describe("the proxy forwards origin-form paths under the base as they were sent", () => {
  for (const row of forwarded) {
    it(`${row.line}${row.host === undefined ? "" : ` (Host: ${row.host})`} -> ${row.upstream}`, async () => {
      const reply = await send(row.line, row.host);
      expect(reply.status).toBe(200);
      expect(w.mesh.requests.map((r) => r.url)).toEqual([row.upstream]);
    });
  }
});
