/**
 * The ingress front on loopback with real TLS: a test PKI for the ingress and
 * its callers, the ingress's SVID as PEM files a SPIFFE helper would write,
 * and a stand-in for the back.
 *
 * {@link RecordingBackend} is a test double of `ingress/backend` (which signs
 * and sends to AWS): it forwards each request unsigned to a plain local HTTP
 * server and records exactly what the front handed it, so the tests can say
 * which requests reached the back and with which headers.
 *
 * {@link startIngressProcess} runs the whole process instead, from the source
 * as `npm run ingress` does or from the bundle its image runs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rename, writeFile } from "node:fs/promises";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import {
  FileSvidSource,
  type Forwarder,
  type ForwardOutcome,
  type ForwardRequest,
  type IngressLogger,
  type RequestLogEntry,
  type RunningIngress,
  startIngress,
} from "../../ingress/index.ts";
import {
  authorizeId,
  parseX509Svid,
  type SpiffeTlsClientOptions,
  tlsClientOptions,
  type X509BundleSource,
} from "../../layers/spiffe/index.ts";
import { TestCa, type TestSvid } from "../support/ca.ts";

/** What the front handed the back for one request. */
export interface Handed {
  callerId: string;
  route: string;
  path: string;
  method: string | undefined;
  headers: http.IncomingHttpHeaders;
}

/** A test double of the back: unsigned forwarding to a local HTTP server, recording each hand-off. */
export class RecordingBackend implements Forwarder {
  readonly handed: Handed[] = [];
  /** Bytes of request body the back read, over all requests. */
  bodyBytes = 0;
  private constructor(private readonly upstream: http.Server) {}

  /**
   * Starts the local server the double forwards to: it answers with the
   * request it got, as JSON; `/status/<code>` with that status, `/slow...` after 300 ms.
   */
  static async start(): Promise<RecordingBackend> {
    const upstream = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const delayMs = req.url?.startsWith("/slow") ? 300 : 0;
        setTimeout(() => answer(req, res, Buffer.concat(chunks)), delayMs);
      });
    });
    const answer = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
      const json = JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: body.toString(),
      });
      res.writeHead(req.url?.startsWith("/status/") ? Number(req.url.slice(8, 11)) : 200, {
        "content-type": "application/json",
      });
      res.end(json);
    };
    await new Promise<void>((done) => upstream.listen(0, "127.0.0.1", done));
    return new RecordingBackend(upstream);
  }

  forward(request: ForwardRequest): Promise<ForwardOutcome> {
    const { req, res } = request;
    this.handed.push({
      callerId: request.callerId,
      route: request.route,
      path: request.path,
      method: req.method,
      headers: { ...req.headers },
    });
    return new Promise((done, fail) => {
      let bytesIn = 0;
      let bytesOut = 0;
      const out = http.request(
        {
          host: "127.0.0.1",
          port: (this.upstream.address() as AddressInfo).port,
          method: req.method,
          path: request.path,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.on("data", (c: Buffer) => {
            bytesOut += c.length;
          });
          answer.pipe(res);
          res.on("finish", () => done({ status: answer.statusCode ?? 502, bytesIn, bytesOut }));
        },
      );
      out.on("error", fail);
      req.on("data", (c: Buffer) => {
        bytesIn += c.length;
        this.bodyBytes += c.length;
      });
      req.pipe(out);
    });
  }

  async close(): Promise<void> {
    this.upstream.closeAllConnections();
    await new Promise<void>((done) => this.upstream.close(() => done()));
  }
}

/** The route file the tests use. */
export const ROUTES = `
routes:
  - name: orders
    match: { pathPrefix: /orders, stripPrefix: true }
    backend: { kind: execute-api, region: eu-west-1, host: abc123.execute-api.eu-west-1.amazonaws.com }
    acl:
      - ids: [spiffe://example.org/prod/web]
      - idPrefixes: [spiffe://example.org/prod/batch]
        methods: [GET]
  - name: admin
    match: { pathPrefix: /admin }
    backend: { kind: lambda, region: eu-west-1, host: admin.lambda-url.eu-west-1.on.aws }
    acl:
      - ids: [spiffe://example.org/ops/admin]
`;

export const INGRESS_ID = "spiffe://example.org/ingress";

export interface IngressWorld {
  ca: TestCa;
  ingress: RunningIngress;
  backend: RecordingBackend;
  log: { requests: RequestLogEntry[]; events: Array<{ message: string; fields: unknown }> };
  svidDir: string;
  /** The route file the ingress started with, {@link ROUTES}; `reload()` re-reads it. */
  routesFile: string;
  /** Writes a new ingress SVID (and bundle) to the files, as a helper would: each file replaced whole. */
  writeSvid(svid: TestSvid, bundlePem?: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the ingress with {@link ROUTES} from a file, a {@link RecordingBackend}
 * and an SVID from files re-read every 50 ms.
 */
export async function ingressWorld(logger?: IngressLogger): Promise<IngressWorld> {
  const ca = await TestCa.root("example.org");
  const svidDir = await mkdtemp(join(tmpdir(), "ingress-svid-"));
  const writeSvid = async (svid: TestSvid, bundlePem = ca.root.certPem) => {
    for (const [name, text] of [
      ["svid.pem", svid.chainPem],
      ["svid_key.pem", svid.keyPem],
      ["svid_bundle.pem", bundlePem],
    ] as const) {
      await writeFile(join(svidDir, `${name}.tmp`), text);
      await rename(join(svidDir, `${name}.tmp`), join(svidDir, name));
    }
  };
  await writeSvid(await ca.svid("/ingress"));
  const routesFile = join(svidDir, "routes.yaml");
  await writeFile(routesFile, ROUTES);
  const backend = await RecordingBackend.start();
  const log: IngressWorld["log"] = { requests: [], events: [] };
  const ingress = await startIngress({
    routes: routesFile,
    svid: new FileSvidSource({
      certFile: join(svidDir, "svid.pem"),
      keyFile: join(svidDir, "svid_key.pem"),
      bundleFile: join(svidDir, "svid_bundle.pem"),
      pollIntervalMs: 50,
    }),
    forwarder: backend,
    port: 0,
    host: "127.0.0.1",
    healthPort: 0,
    logger: logger ?? {
      request: (entry) => log.requests.push(entry),
      info: (message, fields) => log.events.push({ message, fields }),
      warn: (message, fields) => log.events.push({ message, fields }),
    },
  });
  return {
    ca,
    ingress,
    backend,
    log,
    svidDir,
    routesFile,
    writeSvid,
    close: () => ingress.close(1_000),
  };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Serial of the certificate the ingress presented on the connection used. */
  serverSerial: string;
  /** Local port of the connection used: the same port is the same connection. */
  localPort: number;
}

/** TLS options of a mesh caller: its SVID, and the ingress checked by SPIFFE ID. */
export function callerOptions(svid: TestSvid, bundle: X509BundleSource): https.RequestOptions {
  return tlsClientOptions(
    parseX509Svid(svid.chainPem, svid.keyPem),
    bundle,
    authorizeId(INGRESS_ID),
  );
}

/**
 * One request to the ingress over mTLS. `tls` holds the caller's TLS options
 * (from {@link callerOptions}, or hand-made for a caller without a certificate).
 */
export function call(
  port: number,
  tls: https.RequestOptions | SpiffeTlsClientOptions,
  options: {
    path: string;
    method?: string;
    headers?: http.OutgoingHttpHeaders;
    body?: string | Buffer;
    agent?: https.Agent;
    servername?: string;
  },
): Promise<Answer> {
  return new Promise((done, fail) => {
    const req = https.request(
      {
        ...tls,
        host: "127.0.0.1",
        port,
        path: options.path,
        method: options.method ?? "GET",
        headers: options.headers,
        agent: options.agent ?? false,
        servername: options.servername ?? "orders.ingress.example.org",
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const serverSerial = socket.getPeerCertificate().serialNumber;
        const localPort = socket.localPort ?? 0;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", fail);
        res.on("end", () =>
          done({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            serverSerial,
            localPort,
          }),
        );
      },
    );
    req.on("error", fail);
    req.end(options.body);
  });
}

/** GET on the health port. */
export async function health(
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

const REPO = new URL("../../", import.meta.url).pathname;

/** The ingress as a child process. */
export interface IngressProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output: () => string;
  /** The ports from the "listening" log line; rejects if it exits first. */
  listening: Promise<{ port: number; healthPort: number }>;
  exited: Promise<number | null>;
}

/**
 * Starts the ingress process with `env` and PATH as its whole environment:
 * `ingress/main.ts` through tsx in the repository, as `npm run ingress` does,
 * unless `args` and `cwd` name something else to run with this node.
 *
 * @example
 * const source = startIngressProcess({ LAMBDA_SVID_INGRESS_ROUTES_FILE: routes, ... });
 * const bundle = startIngressProcess(env, { args: ["main.mjs"], cwd: imageDir });
 * const { port, healthPort } = await bundle.listening;
 */
export function startIngressProcess(
  env: Record<string, string>,
  options: { args?: string[]; cwd?: string } = {},
): IngressProcess {
  const child = spawn(process.execPath, options.args ?? ["--import", "tsx", "ingress/main.ts"], {
    cwd: options.cwd ?? REPO,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const listening = new Promise<{ port: number; healthPort: number }>((done, fail) => {
    const collect = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      for (const line of text.split("\n")) {
        if (!line.includes('"message":"listening"')) continue;
        const { port, healthPort } = JSON.parse(line) as { port: number; healthPort: number };
        done({ port, healthPort });
      }
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    exited.then((code) => fail(new Error(`ingress exited with ${code}:\n${text}`)));
  });
  listening.catch(() => {});
  return { child, output: () => text, listening, exited };
}
