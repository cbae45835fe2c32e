/**
 * `npm run bench:agent`
 * `npm run bench:agent -- --requests 5000 --concurrency 8 --starts 10`
 *
 * Runs the built agent as a Lambda extension (a stand-in Extensions API, a
 * private emulator for Secrets Manager, a mesh stand-in) and prints: time from
 * process start to the first `event/next`, the agent's RSS after 1,000
 * requests, the layer zip's size, and 1 KB keep-alive round trips through the
 * proxy against a direct mTLS client to the same mesh stand-in, with the TLS
 * handshakes the upstream saw.
 */
import "reflect-metadata";
import { readFile, stat } from "node:fs/promises";
import * as http from "node:http";
import * as https from "node:https";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { authorizeId, parseSvidSecret, tlsClientOptions } from "../../layers/spiffe/index.ts";
import { LAYER_ZIP } from "../../scripts/build.ts";
import { getSecretInAccount } from "../emulator/secrets.ts";
import {
  type AgentWorld,
  agentBuild,
  agentWorld,
  MESH_ID,
  routesTo,
  SECRET_NAME,
  startAgent,
} from "../integration/agent-harness.ts";
import { ExtensionsApiStandIn } from "../support/extensions-api.ts";
import { benchEmulator, numericArgs } from "./emulator-env.ts";

const opts = numericArgs({ requests: 2000, concurrency: 4, starts: 5, warmup: 200 });
const BODY = Buffer.alloc(1024, "a");

const moto = await benchEmulator();
try {
  const zipBytes = (await stat(join(await agentBuild(), LAYER_ZIP))).size;
  const world = await agentWorld();

  const readyMs: number[] = [];
  for (let i = 0; i < opts.starts; i++) {
    const run = await startExtension(world);
    readyMs.push(run.readyMs);
    await run.stop();
  }
  const run = await startExtension(world);
  const port = await run.agent.port;

  const toProxy = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const proxyCall = () =>
    roundTrip(http.request, {
      host: "127.0.0.1",
      port,
      path: "/db/echo",
      agent: toProxy,
      headers: { "x-lambda-svid-token": run.agent.token },
    });
  const { svid, bundles } = parseSvidSecret(await getSecretInAccount(world.account, SECRET_NAME));
  const direct = new https.Agent({
    keepAlive: true,
    maxSockets: opts.concurrency,
    ...tlsClientOptions(svid, bundles, authorizeId(MESH_ID)),
  });
  const directCall = () =>
    roundTrip(https.request, {
      host: "127.0.0.1",
      port: world.mesh.port,
      path: "/echo",
      agent: direct,
      servername: "db.internal",
    });

  /** Handshakes the mesh saw during proxy phases; direct phases are not counted. */
  let proxyHandshakes = 0;
  const viaProxy = async <T>(phase: () => Promise<T>): Promise<T> => {
    const before = world.mesh.handshakes.length;
    const result = await phase();
    proxyHandshakes += world.mesh.handshakes.length - before;
    return result;
  };

  await viaProxy(() => sequential(proxyCall, opts.warmup));
  await sequential(directCall, opts.warmup);
  await viaProxy(() => sequential(proxyCall, 1000 - opts.warmup));
  const rssMb = await rssOf(run.agent.child.pid as number);

  const proxySeq = await viaProxy(() => sequential(proxyCall, opts.requests));
  const directSeq = await sequential(directCall, opts.requests);
  const proxyPar = await viaProxy(() => concurrent(proxyCall, opts.requests * 2, opts.concurrency));
  const directPar = await concurrent(directCall, opts.requests * 2, opts.concurrency);
  const proxied = 1000 + opts.requests + opts.requests * 2;

  const ready = summary(readyMs);
  console.log(
    `agent ready (process start to first event/next, SVID fetched, listening): median ${ready.p50.toFixed(0)} ms, max ${ready.max.toFixed(0)} ms over ${opts.starts} starts (target <= 200 ms)`,
  );
  console.log(`agent RSS after 1,000 requests: ${rssMb.toFixed(1)} MB (target <= 80 MB)`);
  console.log(`layer zip: ${(zipBytes / 1024).toFixed(0)} KB (${zipBytes} bytes; target <= 1 MB)`);
  const p = summary(proxySeq.latencies);
  const d = summary(directSeq.latencies);
  console.log(
    `1 KB round trips, keep-alive, sequential, n=${opts.requests}: direct p50 ${d.p50.toFixed(3)} ms p99 ${d.p99.toFixed(3)} ms ${directSeq.rps.toFixed(0)} req/s; proxy p50 ${p.p50.toFixed(3)} ms p99 ${p.p99.toFixed(3)} ms ${proxySeq.rps.toFixed(0)} req/s; proxy p50 overhead ${(p.p50 - d.p50).toFixed(3)} ms (target <= 0.5 ms)`,
  );
  const pp = summary(proxyPar.latencies);
  const dp = summary(directPar.latencies);
  console.log(
    `1 KB round trips, keep-alive, ${opts.concurrency} concurrent, n=${opts.requests * 2}: direct p50 ${dp.p50.toFixed(3)} ms p99 ${dp.p99.toFixed(3)} ms ${directPar.rps.toFixed(0)} req/s; proxy p50 ${pp.p50.toFixed(3)} ms p99 ${pp.p99.toFixed(3)} ms ${proxyPar.rps.toFixed(0)} req/s`,
  );
  console.log(
    `upstream TLS handshakes from the proxy: ${proxyHandshakes} for ${proxied} requests, pool size ${opts.concurrency} (target = pool size)`,
  );
  toProxy.destroy();
  direct.destroy();
  await run.stop();
  await world.mesh.close();
} finally {
  await moto.stop();
}

async function startExtension(world: AgentWorld) {
  const api = await ExtensionsApiStandIn.start();
  const started = performance.timeOrigin + performance.now();
  const agent = await startAgent(world.account, {
    AWS_LAMBDA_RUNTIME_API: api.address,
    LAMBDA_SVID_ROUTES: routesTo(world.mesh),
    LAMBDA_SVID_MAX_CONNECTIONS: String(opts.concurrency),
  });
  await api.nextCalled(1);
  return {
    agent,
    readyMs: (api.nextCalls[0] as number) - started,
    async stop() {
      api.shutdown();
      await agent.exited;
      await api.close();
    },
  };
}

type Request = typeof http.request;

function roundTrip(request: Request, options: https.RequestOptions): Promise<void> {
  return new Promise((done, fail) => {
    const req = request({ ...options, method: "POST" }, (res) => {
      let length = 0;
      res.on("data", (c: Buffer) => {
        length += c.length;
      });
      res.on("end", () =>
        length === BODY.length && res.statusCode === 200
          ? done()
          : fail(new Error(`bench: HTTP ${res.statusCode}, ${length} bytes`)),
      );
    });
    req.on("error", fail);
    req.end(BODY);
  });
}

async function sequential(call: () => Promise<void>, n: number) {
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    latencies.push(performance.now() - t);
  }
  return { latencies, rps: n / ((performance.now() - start) / 1000) };
}

async function concurrent(call: () => Promise<void>, n: number, width: number) {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next++ < n) {
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, rps: n / ((performance.now() - start) / 1000) };
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}
