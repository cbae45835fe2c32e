/**
 * Starts and stops `sigv4-verifier.py`: a stand-in for API Gateway or a
 * Lambda function URL that checks each request's SigV4 signature with
 * botocore (from the emulator's virtual environment), so signatures made with
 * the SDK's signer are judged by another implementation. It answers 200 with
 * a JSON echo of what it received, or 403 with the reason.
 *
 * @example
 * const verifier = await startVerifier({ region: "eu-west-1", service: "execute-api" });
 * await verifier.allow({ accessKeyId, secretAccessKey });
 * // send signed requests to verifier.endpoint, read the echo
 * expect(await verifier.requests()).toBe(1);
 * await verifier.stop();
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import type { Socket } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { AwsCredentialIdentity } from "@smithy/types";
import { ensureMotoVenv } from "../../tools/emulator/index.ts";

const SCRIPT = fileURLToPath(new URL("sigv4-verifier.py", import.meta.url));
const START_DEADLINE_MS = 30_000;

/** What the verifier answers for a request whose signature it accepted. */
export interface VerifiedEcho {
  verified: true;
  accessKeyId: string;
  method: string;
  /** The raw (percent-encoded) path it received. */
  path: string;
  /** The raw query it received, in the order it was sent. */
  query: string;
  /** The query decoded by Python's parse_qsl, in the order it was sent. */
  params: [string, string][];
  /** The header names the signature covers, as the Authorization header lists them. */
  signedHeaders: string[];
  /** Headers it received, lower-case, without the Authorization header or the session token. */
  headers: Record<string, string>;
  bodyLength: number;
  bodySha256: string;
}

/** What the verifier answers for a request it refused. */
export interface RefusedEcho {
  verified: false;
  reason: string;
}

export interface Verifier {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The `host` value requests are signed for (the verifier's own address). */
  readonly host: string;
  /** Makes the verifier accept these credentials until `expiration`, if they have one. */
  allow(credentials: AwsCredentialIdentity): Promise<void>;
  /** Requests it has checked so far (control requests aside). */
  requests(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts a verifier for one region and service on a free loopback port.
 *
 * @example
 * const lambda = await startVerifier({ region: "us-east-1", service: "lambda" });
 */
export async function startVerifier(scope: { region: string; service: string }): Promise<Verifier> {
  const python = await ensureMotoVenv();
  const child = spawn(python, [SCRIPT, "--region", scope.region, "--service", scope.service], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const kill = () => child.kill("SIGKILL");
  process.on("exit", kill);
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const port = await firstLine(child, () => stderr);
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as Socket).unref();
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    host: `127.0.0.1:${port}`,
    async allow(credentials) {
      const response = await fetch(`${endpoint}/.verifier/credentials`, {
        method: "POST",
        body: JSON.stringify({
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          sessionToken: credentials.sessionToken ?? null,
          expiresAt: credentials.expiration?.getTime() ?? null,
        }),
      });
      if (!response.ok) throw new Error(`sigv4-verifier: allow answered ${response.status}`);
    },
    async requests() {
      const response = await fetch(`${endpoint}/.verifier/stats`);
      return ((await response.json()) as { requests: number }).requests;
    },
    async stop() {
      process.off("exit", kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function firstLine(child: ChildProcess, stderr: () => string): Promise<number> {
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const timer = setTimeout(() => child.kill("SIGKILL"), START_DEADLINE_MS);
  try {
    const exited = once(child, "exit").then(() => {
      throw new Error(`sigv4-verifier exited before listening:\n${stderr()}`);
    });
    // Once listening, the verifier's later exit is stop()'s business, not a failure.
    exited.catch(() => undefined);
    const [line] = (await Promise.race([once(lines, "line"), exited])) as [string];
    return (JSON.parse(line) as { port: number }).port;
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}
