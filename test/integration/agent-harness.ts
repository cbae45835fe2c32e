/**
 * What the agent's integration tests and its benchmark share: the built layer, a trust domain with the function's and the mesh's SVIDs, the SVID
 * secret in a fresh emulator account, and the agent started as a real child
 * process with that account's credentials.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import {
  authorizeId,
  encodeSvidSecret,
  parseX509Svid,
  type X509Bundle,
  type X509Svid,
} from "../../layers/spiffe/index.ts";
import { buildAll } from "../../scripts/build.ts";
import { credentialsForAccount, randomAccountId } from "../emulator/accounts.ts";
import { createSecretInAccount, putSecretInAccount } from "../emulator/secrets.ts";
import { type CertOptions, TestCa } from "../support/ca.ts";
import { MeshStandIn } from "../support/mesh.ts";

export const FUNCTION_ID = "spiffe://example.org/prod/fn";
export const MESH_ID = "spiffe://example.org/prod/db";
export const SECRET_NAME = "lambda-svid/svid";

let built: Promise<string> | undefined;

/** Builds the project once per process and returns the build's directory (`dist/` layout). */
export function agentBuild(): Promise<string> {
  built ??= mkdtemp(join(tmpdir(), "lambda-svid-agent-dist-")).then(async (dir) => {
    await buildAll(dir);
    return dir;
  });
  return built;
}

/** A trust domain, a tenant account holding the function's SVID secret, and a mesh service. */
export interface AgentWorld {
  ca: TestCa;
  bundle: X509Bundle;
  account: string;
  /** The serial of the SVID in the secret now. */
  serial: string;
  mesh: MeshStandIn;
  /** Issues a new function SVID and stores it as the secret's current value; returns its serial. */
  rotate(opts?: CertOptions): Promise<string>;
  /** The secret's value for a fresh function SVID, without storing it. */
  secretFor(opts?: CertOptions): Promise<{ value: string; svid: X509Svid }>;
}

/**
 * @param secret `false` leaves the account without the SVID secret; a string stores that value.
 * @param intermediate issue every SVID from an intermediate under the root, as
 *   an AWS Private CA subordinate does, so peers must send their chain.
 * @param meshKeepAliveMs how long the mesh keeps an idle connection open.
 */
export async function agentWorld(
  options: {
    secret?: false | string;
    svid?: CertOptions;
    intermediate?: boolean;
    meshKeepAliveMs?: number;
  } = {},
): Promise<AgentWorld> {
  const root = await TestCa.root("example.org");
  const ca = options.intermediate === true ? await root.intermediate() : root;
  const bundle = ca.bundle();
  const account = randomAccountId();
  const secretFor = async (opts: CertOptions = {}) => {
    const issued = await ca.svid("/prod/fn", opts);
    const svid = parseX509Svid(issued.chainPem, issued.keyPem);
    return { value: encodeSvidSecret(svid, bundle), svid };
  };
  const first = await secretFor(options.svid);
  if (options.secret !== false) {
    await createSecretInAccount(account, {
      name: SECRET_NAME,
      secretString: options.secret ?? first.value,
    });
  }
  const meshIssued = await ca.svid("/prod/db");
  const mesh = await MeshStandIn.start(
    parseX509Svid(meshIssued.chainPem, meshIssued.keyPem),
    bundle,
    authorizeId(FUNCTION_ID),
    options.meshKeepAliveMs,
  );
  return {
    ca,
    bundle,
    account,
    serial: first.svid.leaf.serialNumber,
    mesh,
    secretFor,
    async rotate(opts) {
      const next = await secretFor(opts);
      await putSecretInAccount(account, SECRET_NAME, { secretString: next.value });
      return next.svid.leaf.serialNumber;
    },
  };
}

/** The agent as a child process, with everything it wrote. */
export interface AgentProcess {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** The port it logged it listens on. */
  port: Promise<number>;
  exited: Promise<number | null>;
  /** The value the token header must carry (the child's AWS_SESSION_TOKEN). */
  token: string;
  stop(): Promise<void>;
}

/**
 * Starts the built agent with the credentials of `account`, the emulator's
 * endpoint, and `env` on top (e.g. `AWS_LAMBDA_RUNTIME_API`, routes).
 */
export async function startAgent(
  account: string,
  env: Record<string, string>,
): Promise<AgentProcess> {
  const extension = join(await agentBuild(), "layer/extensions/lambda-svid");
  const creds = await credentialsForAccount(account);
  const aws = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("AWS_")));
  // Started as Lambda starts it: the layer's extension script, which execs `node` from PATH here.
  const child = spawn(extension, [], {
    env: {
      ...aws,
      PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      AWS_SESSION_TOKEN: creds.sessionToken ?? "",
      LAMBDA_SVID_PORT: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const collect = (chunk: Buffer) => {
    text += chunk.toString("utf8");
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const port = new Promise<number>((done, fail) => {
    const look = () => {
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
      if (match !== null) done(Number(match[1]));
    };
    child.stderr?.on("data", look);
    exited.then((code) => fail(new Error(`agent exited with ${code} before listening:\n${text}`)));
  });
  port.catch(() => {});
  return {
    child,
    output: () => text,
    port,
    exited,
    token: creds.sessionToken ?? "",
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** The `LAMBDA_SVID_ROUTES` value routing `db` to the mesh stand-in, expecting `peer`. */
export function routesTo(mesh: MeshStandIn, peer: object = { id: MESH_ID }): string {
  return JSON.stringify({ db: { url: mesh.url, serverName: "db.internal", peer } });
}
