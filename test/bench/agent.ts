/**
 * `npm run bench:agent`
 * `npm run bench:agent -- --requests 5000 --concurrency 8 --starts 40 --small-pool 2`
 *
 * Runs the built agent as a Lambda extension (a stand-in Extensions API, a
 * private emulator for Secrets Manager, a mesh stand-in) and prints:
 * - ready time, process start to the first `event/next`, median and p90 over
 *   `--starts`, with the agent's own CPU to get there, beside its floor: the
 *   same launch of a script that only registers and calls `event/next`;
 * - the agent's RSS after 1,000 requests and the layer zip's size;
 * - 1 KB keep-alive round trips through the proxy against a direct mTLS
 *   client to the same mesh stand-in at the same concurrency (the floor), p50
 *   and p99 of both and the difference, for the default pool: one client,
 *   `--concurrency` clients, and twice as many clients as the pool has
 *   connections; and for a pool of `--small-pool` with twice as many clients;
 *   with the agent's CPU per proxied request;
 * - for each pool, the TLS connections the mesh accepted from the proxy and
 *   the most it held open at once, which must not exceed the pool size.
 */
import "reflect-metadata";
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import * as http from "node:http";
import * as https from "node:https";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import type { TLSSocket } from "node:tls";
import { DEFAULT_MAX_CONNECTIONS } from "../../layers/agent/index.ts";
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

const opts = numericArgs({ requests: 2000, concurrency: 4, starts: 20, warmup: 200, smallPool: 2 });
const BODY = Buffer.alloc(1024, "a");
/** The goals, printed beside the figures. */
const READY_GOAL_MS = 150;
const OVERHEAD_GOAL_MS = 0.5;
/** USER_HZ, which Linux fixes at 100 for /proc on every architecture Lambda runs. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * What a do-nothing extension does: register, then wait in `event/next`.
 * `node:http` by `require`, as the built agent loads it, so the floor pays
 * only for Node's start and the two calls.
 */
const FLOOR_EXTENSION = `import { createRequire } from "node:module";
const http = createRequire(import.meta.url)("node:http");
const base = "http://" + process.env.AWS_LAMBDA_RUNTIME_API + "/2020-01-01/extension";
const call = (path, method, headers, body) => new Promise((done, fail) => {
  const req = http.request(base + path, { method, headers }, (res) => { res.resume(); res.on("end", () => done(res)); });
  req.on("error", fail);
  req.end(body);
});
const res = await call("/register", "POST", { "Lambda-Extension-Name": "lambda-svid" }, '{"events":["INVOKE","SHUTDOWN"]}');
await call("/event/next", "GET", { "Lambda-Extension-Identifier": res.headers["lambda-extension-identifier"] });
`;

const moto = await benchEmulator();
try {
  const zipBytes = (await stat(join(await agentBuild(), LAYER_ZIP))).size;
  const world = await agentWorld();
  const upstream = trackUpstream(world);

  const floor = await floorLaunch();
  const floorMs: number[] = [];
  const readyMs: number[] = [];
  const readyCpuMs: number[] = [];
  for (let i = 0; i < opts.starts; i++) {
    floorMs.push(await floor());
    const run = await startExtension(world);
    readyMs.push(run.readyMs);
    readyCpuMs.push(run.readyCpuMs);
    await run.stop();
  }

  const { svid, bundles } = parseSvidSecret(await getSecretInAccount(world.account, SECRET_NAME));
  const directTls = tlsClientOptions(svid, bundles, authorizeId(MESH_ID));
  const pool = DEFAULT_MAX_CONNECTIONS;
  const overPool = 2 * pool;

  const run = await startExtension(world);
  const bench = await benchmarks(run, world, directTls, upstream);
  await bench.warm(opts.warmup);
  const rssMb = await rssOf(run.agent.child.pid as number);
  const rows = [
    await bench.compare(1, opts.requests),
    await bench.compare(opts.concurrency, opts.requests * 2),
    await bench.compare(overPool, opts.requests * 2),
  ];
  const defaultPool = upstream.report(pool, bench.proxied(), overPool);
  bench.close();
  await run.stop();

  const smallRun = await startExtension(world, opts.smallPool);
  const small = await benchmarks(smallRun, world, directTls, upstream);
  await small.warm(opts.warmup);
  const smallOverPool = 2 * opts.smallPool;
  const smallRow = await small.compare(smallOverPool, opts.requests * 2);
  const smallPool = upstream.report(opts.smallPool, small.proxied(), smallOverPool);
  small.close();
  await smallRun.stop();

  const ready = summary(readyMs);
  const readyCpu = summary(readyCpuMs);
  const bare = summary(floorMs);
  console.log(
    `agent ready (process start to first event/next: registered, SVID read and verified, listening): median ${ready.p50.toFixed(0)} ms, p90 ${ready.p90.toFixed(0)} ms, max ${ready.max.toFixed(0)} ms over ${opts.starts} starts, of which the agent's own CPU (user + sys, all threads) median ${readyCpu.p50.toFixed(0)} ms (goal: median <= ${READY_GOAL_MS} ms; floor, the same launch of a script that only registers and calls event/next: median ${bare.p50.toFixed(0)} ms, p90 ${bare.p90.toFixed(0)} ms)`,
  );
  console.log(`agent RSS after 1,000 requests: ${rssMb.toFixed(1)} MB (goal <= 80 MB)`);
  console.log(`layer zip: ${(zipBytes / 1024).toFixed(0)} KB (${zipBytes} bytes; goal <= 1 MB)`);
  for (const row of rows) console.log(row.line(`pool ${pool} (the default)`));
  console.log(defaultPool);
  console.log(smallRow.line(`pool ${opts.smallPool}`));
  console.log(smallPool);
  await world.mesh.close();
} finally {
  await moto.stop();
}

async function startExtension(world: AgentWorld, maxConnections?: number) {
  const api = await ExtensionsApiStandIn.start();
  const started = performance.timeOrigin + performance.now();
  const agent = await startAgent(world.account, {
    AWS_LAMBDA_RUNTIME_API: api.address,
    LAMBDA_SVID_ROUTES: routesTo(world.mesh),
    // Unset means the agent's own default, which is what the default-pool figures measure.
    ...(maxConnections === undefined
      ? {}
      : { LAMBDA_SVID_MAX_CONNECTIONS: String(maxConnections) }),
  });
  await api.nextCalled(1);
  return {
    agent,
    readyMs: (api.nextCalls[0] as number) - started,
    // Parked in event/next from here on, so this is the CPU its start took.
    readyCpuMs: await cpuMsOf(agent.child.pid as number),
    async stop() {
      api.shutdown();
      await agent.exited;
      await api.close();
    },
  };
}

/**
 * Launches {@link FLOOR_EXTENSION} exactly as Lambda launches the agent: the
 * layer's own `extensions/lambda-svid` script, beside a `lambda-svid/agent.mjs`.
 */
async function floorLaunch(): Promise<() => Promise<number>> {
  const dir = await mkdtemp(join(tmpdir(), "lambda-svid-floor-"));
  await mkdir(join(dir, "extensions"));
  await mkdir(join(dir, "lambda-svid"));
  const script = join(dir, "extensions/lambda-svid");
  await copyFile(join(await agentBuild(), "layer/extensions/lambda-svid"), script);
  await writeFile(join(dir, "lambda-svid/agent.mjs"), FLOOR_EXTENSION);
  return async () => {
    const api = await ExtensionsApiStandIn.start();
    const started = performance.timeOrigin + performance.now();
    const child = spawn(script, [], {
      env: {
        PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
        AWS_LAMBDA_RUNTIME_API: api.address,
      },
      stdio: "ignore",
    });
    const exited = new Promise((done) => child.once("exit", done));
    await api.nextCalled(1);
    const ms = (api.nextCalls[0] as number) - started;
    child.kill("SIGKILL");
    await exited;
    await api.close();
    return ms;
  };
}

type Extension = Awaited<ReturnType<typeof startExtension>>;

/** Round trips through `run`'s proxy and straight to the mesh, at equal concurrency. */
async function benchmarks(
  run: Extension,
  world: AgentWorld,
  directTls: https.AgentOptions,
  upstream: Upstream,
) {
  const port = await run.agent.port;
  const toProxy = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const direct = new https.Agent({
    keepAlive: true,
    maxSockets: Number.POSITIVE_INFINITY,
    ...directTls,
  });
  let proxied = 0;
  const proxyCall = () =>
    roundTrip(http.request, {
      host: "127.0.0.1",
      port,
      path: "/db/echo",
      agent: toProxy,
      headers: { "x-lambda-svid-token": run.agent.token },
    });
  const directCall = () =>
    roundTrip(https.request, {
      host: "127.0.0.1",
      port: world.mesh.port,
      path: "/echo",
      agent: direct,
      servername: "db.internal",
    });
  const pid = run.agent.child.pid as number;
  const viaProxy = async (clients: number, n: number) => {
    upstream.counting(true);
    const cpuBefore = await cpuMsOf(pid);
    try {
      const result = await load(proxyCall, n, clients);
      return { ...result, agentCpuUs: ((await cpuMsOf(pid)) - cpuBefore) * (1000 / n) };
    } finally {
      upstream.counting(false);
      proxied += n;
    }
  };
  return {
    /** Brings both paths to 1,000 requests through the proxy, with `warmup` of them first on each. */
    async warm(warmup: number) {
      await viaProxy(1, warmup);
      await load(directCall, warmup, 1);
      await viaProxy(1, 1000 - warmup);
    },
    async compare(clients: number, n: number) {
      const proxy = await viaProxy(clients, n);
      const floor = await load(directCall, n, clients);
      return {
        clients,
        n,
        proxy,
        floor,
        line: (label: string) => row(label, clients, n, proxy, floor),
      };
    },
    proxied: () => proxied,
    close() {
      toProxy.destroy();
      direct.destroy();
    },
  };
}

type Load = Awaited<ReturnType<typeof load>>;

function row(
  label: string,
  clients: number,
  n: number,
  proxy: Load & { agentCpuUs: number },
  floor: Load,
): string {
  const p = summary(proxy.latencies);
  const d = summary(floor.latencies);
  const who = clients === 1 ? "1 client (sequential)" : `${clients} concurrent clients`;
  return `proxy overhead, ${label}, ${who}, 1 KB keep-alive round trips, n=${n}: overhead p50 ${(p.p50 - d.p50).toFixed(3)} ms, p99 ${(p.p99 - d.p99).toFixed(3)} ms (goal p50 <= ${OVERHEAD_GOAL_MS} ms); proxy p50 ${p.p50.toFixed(3)} ms p99 ${p.p99.toFixed(3)} ms ${proxy.rps.toFixed(0)} req/s, agent CPU ${proxy.agentCpuUs.toFixed(0)} µs per request; floor, direct mTLS: p50 ${d.p50.toFixed(3)} ms p99 ${d.p99.toFixed(3)} ms ${floor.rps.toFixed(0)} req/s`;
}

interface Upstream {
  /** While on, TLS connections the mesh accepts are counted as the proxy's. */
  counting(on: boolean): void;
  /** Prints the proxy's connections since the last report, then starts over. */
  report(pool: number, requests: number, clients: number): string;
}

/**
 * Watches the mesh's TLS connections. Only the proxy connects while counting
 * is on; the direct client's connections, opened outside, are never counted.
 */
function trackUpstream(world: AgentWorld): Upstream {
  let on = false;
  let opened = 0;
  let peak = 0;
  const live = new Set<TLSSocket>();
  world.mesh.server.on("secureConnection", (socket: TLSSocket) => {
    if (!on) return;
    opened++;
    live.add(socket);
    peak = Math.max(peak, live.size);
    socket.once("close", () => live.delete(socket));
  });
  return {
    counting(value) {
      on = value;
    },
    report(pool, requests, clients) {
      const line = `upstream TLS connections, pool ${pool}: ${opened} opened, at most ${peak} open at once, for ${requests} proxied requests from up to ${clients} concurrent clients (goal: both <= pool size ${pool}) ${opened <= pool && peak <= pool ? "ok" : "OVER THE POOL"}`;
      opened = 0;
      peak = 0;
      live.clear();
      return line;
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

/** `n` round trips from `clients` clients that each send their next request when the last one is answered. */
async function load(call: () => Promise<void>, n: number, clients: number) {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
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
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

/** User + system CPU of process `pid` so far, all its threads, at the kernel's 10 ms tick. */
async function cpuMsOf(pid: number): Promise<number> {
  // Fields 14 and 15 of /proc/<pid>/stat, after the parenthesised command name.
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * (1000 / CLOCK_TICKS_PER_SECOND);
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}
