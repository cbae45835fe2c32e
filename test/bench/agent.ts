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
 *   client to the same mesh stand-in at the same concurrency (the floor), the
 *   two taking turns of 200 requests so that both see the same load from
 *   whatever else runs on the machine: p50 and p99 of both and the
 *   difference, for the default pool: one client, `--concurrency` clients,
 *   and twice as many clients as the pool has connections; and for a pool of
 *   `--small-pool` with twice as many clients; with the CPU per request of
 *   each process on each path (client, agent, mesh), the agent's on its own.
 *   Clients and the mesh are separate processes (test/bench/mesh-process.ts
 *   says why); both paths use Node's http client with keep-alive;
 * - for each pool, the TLS connections the mesh accepted from the proxy and
 *   the most it held open at once, which must not exceed the pool size.
 */
import "reflect-metadata";
import { type ChildProcess, fork, spawn } from "node:child_process";
import { once } from "node:events";
import { copyFile, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import * as http from "node:http";
import * as https from "node:https";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { DEFAULT_MAX_CONNECTIONS } from "../../layers/agent/index.ts";
import {
  authorizeId,
  encodeSvidSecret,
  parseSvidSecret,
  parseX509Svid,
  tlsClientOptions,
} from "../../layers/spiffe/index.ts";
import { LAYER_ZIP } from "../../scripts/build.ts";
import { getSecretInAccount } from "../emulator/secrets.ts";
import {
  type AgentWorld,
  agentBuild,
  agentWorld,
  FUNCTION_ID,
  MESH_ID,
  SECRET_NAME,
  startAgent,
} from "../integration/agent-harness.ts";
import { ExtensionsApiStandIn } from "../support/extensions-api.ts";
import { benchEmulator, numericArgs } from "./emulator-env.ts";
import type { MeshCommand, MeshCount, MeshReady, MeshStart } from "./mesh-process.ts";

const opts = numericArgs({ requests: 2000, concurrency: 4, starts: 20, warmup: 200, smallPool: 2 });
const BODY = Buffer.alloc(1024, "a");
/** The goals, printed beside the figures. */
const READY_GOAL_MS = 150;
const OVERHEAD_GOAL_MS = 0.5;
/** USER_HZ, which Linux fixes at 100 for /proc on every architecture Lambda runs. */
const CLOCK_TICKS_PER_SECOND = 100;
/** Requests per turn when the proxy and the floor take turns. */
const TURN = 200;

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
  const upstream = await meshProcess(world);

  const floor = await floorLaunch();
  const floorMs: number[] = [];
  const readyMs: number[] = [];
  const readyCpuMs: number[] = [];
  for (let i = 0; i < opts.starts; i++) {
    floorMs.push(await floor());
    const run = await startExtension(world, upstream.port);
    readyMs.push(run.readyMs);
    readyCpuMs.push(run.readyCpuMs);
    await run.stop();
  }

  const { svid, bundles } = parseSvidSecret(await getSecretInAccount(world.account, SECRET_NAME));
  const directTls = tlsClientOptions(svid, bundles, authorizeId(MESH_ID));
  const pool = DEFAULT_MAX_CONNECTIONS;
  const overPool = 2 * pool;

  const run = await startExtension(world, upstream.port);
  const bench = await benchmarks(run, directTls, upstream);
  await bench.warm(opts.warmup);
  const rssMb = await rssOf(run.agent.child.pid as number);
  const rows = [
    await bench.compare(1, opts.requests),
    await bench.compare(opts.concurrency, opts.requests * 2),
    await bench.compare(overPool, opts.requests * 2),
  ];
  const defaultPool = await upstream.report(pool, bench.proxied(), overPool);
  bench.close();
  await run.stop();

  const smallRun = await startExtension(world, upstream.port, opts.smallPool);
  const small = await benchmarks(smallRun, directTls, upstream);
  await small.warm(opts.warmup);
  const smallOverPool = 2 * opts.smallPool;
  const smallRow = await small.compare(smallOverPool, opts.requests * 2);
  const smallPool = await upstream.report(opts.smallPool, small.proxied(), smallOverPool);
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
  upstream.close();
  await world.mesh.close();
} finally {
  await moto.stop();
}

async function startExtension(world: AgentWorld, meshPort: number, maxConnections?: number) {
  const api = await ExtensionsApiStandIn.start();
  const started = performance.timeOrigin + performance.now();
  const agent = await startAgent(world.account, {
    AWS_LAMBDA_RUNTIME_API: api.address,
    LAMBDA_SVID_ROUTES: JSON.stringify({
      db: {
        url: `https://127.0.0.1:${meshPort}`,
        serverName: "db.internal",
        peer: { id: MESH_ID },
      },
    }),
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
async function benchmarks(run: Extension, directTls: https.AgentOptions, upstream: Upstream) {
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
      port: upstream.port,
      path: "/echo",
      agent: direct,
      servername: "db.internal",
    });
  const agentPid = run.agent.child.pid as number;
  /** `n` round trips of `call` from `clients` clients, with each process's CPU meanwhile. */
  const metered = async (call: () => Promise<void>, n: number, clients: number) => {
    const before = { client: process.cpuUsage(), agent: await cpuUsOf(agentPid) };
    const meshBefore = await cpuUsOf(upstream.pid);
    const result = await load(call, n, clients);
    const client = process.cpuUsage(before.client);
    return {
      ...result,
      cpuUs: {
        client: client.user + client.system,
        agent: (await cpuUsOf(agentPid)) - before.agent,
        mesh: (await cpuUsOf(upstream.pid)) - meshBefore,
      },
    };
  };
  const viaProxy = async (clients: number, n: number) => {
    upstream.counting(true);
    try {
      return await metered(proxyCall, n, clients);
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
    /** `n` round trips on each path, in turns of {@link TURN}. */
    async compare(clients: number, n: number) {
      const proxy = emptyRun();
      const floor = emptyRun();
      for (let done = 0; done < n; done += TURN) {
        const turn = Math.min(TURN, n - done);
        add(proxy, await viaProxy(clients, turn));
        add(floor, await metered(directCall, turn, clients));
      }
      return { line: (label: string) => row(label, clients, n, proxy, floor) };
    },
    proxied: () => proxied,
    close() {
      toProxy.destroy();
      direct.destroy();
    },
  };
}

type Turn = Awaited<ReturnType<typeof load>> & { cpuUs: Cpu };
interface Cpu {
  client: number;
  agent: number;
  mesh: number;
}
interface Run {
  latencies: number[];
  ms: number;
  cpuUs: Cpu;
}

function emptyRun(): Run {
  return { latencies: [], ms: 0, cpuUs: { client: 0, agent: 0, mesh: 0 } };
}

function add(run: Run, turn: Turn): void {
  run.latencies.push(...turn.latencies);
  run.ms += turn.ms;
  run.cpuUs.client += turn.cpuUs.client;
  run.cpuUs.agent += turn.cpuUs.agent;
  run.cpuUs.mesh += turn.cpuUs.mesh;
}

function row(label: string, clients: number, n: number, proxy: Run, floor: Run): string {
  const p = summary(proxy.latencies);
  const d = summary(floor.latencies);
  const rps = (run: Run) => (n / (run.ms / 1000)).toFixed(0);
  const per = (us: number) => (us / n).toFixed(0);
  const cpu = (run: Run) =>
    `${per(run.cpuUs.client + run.cpuUs.agent + run.cpuUs.mesh)} µs (client ${per(run.cpuUs.client)}, mesh ${per(run.cpuUs.mesh)})`;
  const who = clients === 1 ? "1 client (sequential)" : `${clients} concurrent clients`;
  return `proxy overhead, ${label}, ${who}, 1 KB keep-alive round trips, n=${n} each, in turns of ${TURN}: overhead p50 ${(p.p50 - d.p50).toFixed(3)} ms, p99 ${(p.p99 - d.p99).toFixed(3)} ms (goal p50 <= ${OVERHEAD_GOAL_MS} ms); proxy p50 ${p.p50.toFixed(3)} ms p99 ${p.p99.toFixed(3)} ms ${rps(proxy)} req/s, agent CPU ${per(proxy.cpuUs.agent)} µs per request, all processes ${cpu(proxy)}; floor, direct mTLS: p50 ${d.p50.toFixed(3)} ms p99 ${d.p99.toFixed(3)} ms ${rps(floor)} req/s, all processes ${cpu(floor)}`;
}

/** The mesh stand-in's process, with its TLS connections counted while the proxy is measured. */
interface Upstream {
  port: number;
  pid: number;
  /** While on, TLS connections the mesh accepts are counted as the proxy's. */
  counting(on: boolean): void;
  /** Prints the proxy's connections since the last report, then starts over. */
  report(pool: number, requests: number, clients: number): Promise<string>;
  close(): void;
}

/**
 * Starts test/bench/mesh-process.ts with an SVID for {@link MESH_ID} from
 * `world`'s CA that accepts only the function's SVID. Only the proxy
 * connects while counting is on; the direct client's connections, opened
 * outside, are never counted.
 */
async function meshProcess(world: AgentWorld): Promise<Upstream> {
  const issued = await world.ca.svid("/prod/db");
  const svid = parseX509Svid(issued.chainPem, issued.keyPem);
  const child: ChildProcess = fork(fileURLToPath(new URL("./mesh-process.ts", import.meta.url)), {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  child.send({
    secret: encodeSvidSecret(svid, world.bundle),
    clientId: FUNCTION_ID,
  } satisfies MeshStart);
  const [ready] = (await once(child, "message")) as [MeshReady];
  const command = (c: MeshCommand) => child.send(c);
  return {
    port: ready.port,
    pid: child.pid as number,
    counting: (on) => command(on ? "count-on" : "count-off"),
    async report(pool, requests, clients) {
      command("report");
      const [{ opened, peak }] = (await once(child, "message")) as [MeshCount];
      return `upstream TLS connections, pool ${pool}: ${opened} opened, at most ${peak} open at once, for ${requests} proxied requests from up to ${clients} concurrent clients (goal: both <= pool size ${pool}) ${opened <= pool && peak <= pool ? "ok" : "OVER THE POOL"}`;
    },
    close: () => child.disconnect(),
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
  return { latencies, ms: performance.now() - start };
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

/**
 * CPU time of process `pid`'s live threads so far, in µs, from the scheduler's
 * nanosecond count: /proc/<pid>/stat's 10 ms ticks are too coarse for one turn.
 */
async function cpuUsOf(pid: number): Promise<number> {
  let ns = 0;
  for (const task of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${task}/schedstat`, "utf8").catch(() => "0");
    ns += Number(stat.split(" ")[0]);
  }
  return ns / 1000;
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
