/**
 * `npm run demo`: the local default, one step past `npm start`. Issues for
 * the example Organization (local emulator, local CA), starts the layer's
 * agent as a real child process with one tenant's credentials (outside
 * Lambda, as a sidecar), routes `mesh` to a mesh stand-in that has its own
 * SVID from the same CA, makes one call through the agent, prints the SPIFFE
 * ID the agent required of the peer (and the one the mesh saw calling), and
 * ends with `lambda-svid status`.
 */
import "reflect-metadata";
import { type ChildProcess, spawn } from "node:child_process";
import * as http from "node:http";
import { fileURLToPath } from "node:url";
import { Logger } from "@aws-lambda-powertools/logger";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { LocalCertificateAuthority } from "../functions/issuer/ca/local.ts";
import { createIssuer } from "../functions/issuer/compose.ts";
import { loadIssuerConfig, requireSetting, SettingUser } from "../functions/issuer/config.ts";
import { mintRequest } from "../functions/issuer/mint.ts";
import { formatReport } from "../functions/issuer/report.ts";
import { ERROR_HEADER, TOKEN_HEADER } from "../layers/agent/index.ts";
import { authorizeId, parseSpiffeId, parseX509Svid } from "../layers/spiffe/index.ts";
import { CliError, CliReason } from "./errors.ts";
import { useLocalDefault } from "./local-default.ts";
import { MeshStandIn } from "./mesh-stand-in.ts";
import { main as lambdaSvid } from "./program.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const MESH_ID = "spiffe://example.org/demo/mesh";
const AGENT_START_MS = 30_000;
const HOUR = 3_600_000;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The mesh's SVID, signed by the same local CA the issuer uses. */
async function meshSvid(ca: LocalCertificateAuthority) {
  const id = parseSpiffeId(MESH_ID);
  const minted = mintRequest(id, "EC_P256");
  const now = Date.now();
  const { chainPem } = await ca.sign({
    csrPem: minted.csrPem,
    spiffeId: id,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + HOUR),
    idempotencyToken: "lambda-svid-demo-mesh",
  });
  return parseX509Svid(
    chainPem,
    minted.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  );
}

/** Credentials of `accountId`, as the function's role there would give the agent. */
async function tenantCredentials(accountId: string) {
  const out = await new STSClient({}).send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/lambda-svid-demo-function`,
      RoleSessionName: "lambda-svid-demo",
    }),
  );
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
    throw new CliError(
      CliReason.DEMO_FAILED,
      `AssumeRole in account ${accountId} returned no credentials`,
    );
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
  };
}

/** Starts the agent (layers/agent/main.ts through tsx) and resolves with its port once it listens. */
function startAgent(
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; port: number; ready: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "layers/agent/main.ts"], {
    cwd: REPO,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new CliError(
          CliReason.DEMO_FAILED,
          `the agent did not listen within ${AGENT_START_MS} ms:\n${text}`,
        ),
      );
    }, AGENT_START_MS);
    const look = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const line = text.split("\n").find((l) => /listening on 127\.0\.0\.1:\d+/.test(l));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve({ child, port: Number(/127\.0\.0\.1:(\d+)/.exec(line)?.[1]), ready: line.trim() });
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(
        new CliError(
          CliReason.DEMO_FAILED,
          `the agent exited with ${code} before listening:\n${text}`,
        ),
      );
    });
  });
}

function call(port: number, path: string, token: string) {
  return new Promise<{ status: number; body: string; error: string | undefined }>(
    (resolve, reject) => {
      const req = http.request(
        { host: "127.0.0.1", port, path, headers: { [TOKEN_HEADER]: token } },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            body += chunk;
          });
          res.on("end", () => {
            const error = res.headers[ERROR_HEADER];
            resolve({
              status: res.statusCode ?? 0,
              body,
              error: Array.isArray(error) ? error[0] : error,
            });
          });
        },
      );
      req.on("error", reject);
      req.end();
    },
  );
}

async function demo(): Promise<number> {
  const local = await useLocalDefault(process.env);
  const config = loadIssuerConfig(process.env);
  const caSource = requireSetting(config, "ca", SettingUser.DIRECT_RUN);
  log(
    `1. local emulator ${local.endpoint} (${local.started ? "started" : "reused"}); CA ${caSource.kind === "local" ? caSource.directory : caSource.arn}`,
  );

  const logger = new Logger({ serviceName: "lambda-svid-issuer", logLevel: "WARN" });
  const report = await createIssuer(config).run(
    { force: false },
    () => Number.POSITIVE_INFINITY,
    logger,
  );
  log(`2. issuer cycle:\n${formatReport(report)}`);
  const fn = report.identities.find((r) => r.outcome === "issued" || r.outcome === "skipped-fresh");
  if (fn === undefined)
    throw new CliError(CliReason.DEMO_FAILED, "no identity holds an SVID after the issuer cycle");

  if (caSource.kind !== "local")
    throw new CliError(
      CliReason.DEMO_FAILED,
      "the demo signs the mesh's SVID with a local CA (LAMBDA_SVID_CA=local:...)",
    );
  const ca = await LocalCertificateAuthority.open(caSource.directory, config.trustDomain);
  const mesh = await MeshStandIn.start(
    await meshSvid(ca),
    await ca.bundle(),
    authorizeId(fn.spiffeId),
  );
  log(`3. mesh stand-in ${mesh.url} as ${MESH_ID}, accepting only ${fn.spiffeId}`);

  const creds = await tenantCredentials(fn.accountId);
  let agent: ChildProcess | undefined;
  try {
    const started = await startAgent({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_REGION: process.env.AWS_REGION,
      AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL,
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      AWS_SESSION_TOKEN: creds.sessionToken,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      LAMBDA_SVID_SECRET_NAME: config.secretName,
      LAMBDA_SVID_PORT: "0",
      LAMBDA_SVID_ROUTES: JSON.stringify({ mesh: { url: mesh.url, peer: { id: MESH_ID } } }),
    });
    agent = started.child;
    log(`4. agent (account ${fn.accountId}): ${started.ready}`);

    const reply = await call(started.port, "/mesh/hello", creds.sessionToken);
    if (reply.status !== 200) {
      throw new CliError(
        CliReason.DEMO_FAILED,
        `the proxied call answered ${reply.status}${reply.error ? ` (${reply.error})` : ""}`,
      );
    }
    log(`5. GET http://127.0.0.1:${started.port}/mesh/hello -> ${reply.status} "${reply.body}"`);
    log(
      `   the agent verified the peer as ${MESH_ID} (the route's required SPIFFE ID; any other ID fails the handshake)`,
    );
  } finally {
    agent?.kill("SIGTERM");
    await mesh.close();
  }

  log("6. lambda-svid status:");
  const code = await lambdaSvid(["node", "lambda-svid", "status"], {
    env: process.env,
    out: process.stdout,
    err: process.stderr,
    now: () => new Date(),
  });
  log(`(status exit code ${code}; \`npm run emulator:stop\` stops the emulator)`);
  return 0;
}

demo().then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    console.error(`lambda-svid demo: ${err.message}`);
    process.exitCode = 1;
  },
);
