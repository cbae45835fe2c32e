/**
 * Starts the local AWS emulator: moto in server mode on a free loopback port,
 * run from the project's own virtual environment (see `venv.ts`).
 *
 * The server is a child of the test process and never outlives it: `stop()`
 * ends it, an `exit` handler kills it if the process ends without `stop()`, and
 * `serve.py` exits by itself when this process dies without running any handler.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { EmulatorSetupError, ensureMotoVenv } from "./venv.ts";

const HOST = "127.0.0.1";
const SERVE = fileURLToPath(new URL("serve.py", import.meta.url));
/** First start compiles moto's bytecode, which takes a few seconds on a cold machine. */
const START_DEADLINE_MS = 60_000;
const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_CHARS = 4_000;
/** Another process may take the free port between our probe and moto's bind. */
const PORT_ATTEMPTS = 3;

export interface MotoOptions {
  /**
   * Authorize every request as AWS does: signed with a key the emulator issued
   * (an IAM user's access key or AssumeRole credentials), and allowed by the
   * caller's identity policies for the action and the resource it names. Sets
   * moto's `INITIAL_NO_AUTH_ACTION_COUNT=0` and loads `iam_authorization.py`,
   * which lets moto judge the secret, CA and account ARNs that policies name. Default:
   * every request is allowed.
   */
  enforceIam?: boolean;
}

export interface Moto {
  /** Base URL for `AWS_ENDPOINT_URL`, e.g. `http://127.0.0.1:41234`. */
  readonly endpoint: string;
  /** Ends the server: SIGTERM, then SIGKILL after a grace period. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * Runs `setup` with IAM checks off, as an account administrator would act
   * (create roles, fixtures), then puts the server's previous setting back.
   * The switch is server-wide: no request that should be checked may run meanwhile.
   */
  withoutIam<T>(setup: () => Promise<T>): Promise<T>;
}

/**
 * Starts moto and resolves once it answers HTTP.
 *
 * @example
 * const moto = await startMoto();
 * process.env.AWS_ENDPOINT_URL = moto.endpoint;
 * await moto.stop();
 *
 * const strict = await startMoto({ enforceIam: true });
 * await strict.withoutIam(() => createRoles()); // then act with the roles' credentials
 */
export async function startMoto(options: MotoOptions = {}): Promise<Moto> {
  const python = await ensureMotoVenv();
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await launch(python, port, options);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === PORT_ATTEMPTS) throw error;
    }
  }
}

class PortTakenError extends EmulatorSetupError {}

async function launch(python: string, port: number, options: MotoOptions): Promise<Moto> {
  const endpoint = `http://${HOST}:${port}`;
  const child = spawn(python, [SERVE, "-H", HOST, "-p", String(port)], {
    stdio: ["pipe", "pipe", "pipe"],
    env: {
      ...serverEnv(),
      ...(options.enforceIam ? { INITIAL_NO_AUTH_ACTION_COUNT: "0" } : {}),
    },
  });
  if (child.pid === undefined) {
    const [error] = (await once(child, "error")) as [Error];
    throw new EmulatorSetupError(`could not start ${python}: ${error.message}`);
  }
  const output = captureTail(child);
  const kill = () => child.kill("SIGKILL");
  process.on("exit", kill);
  // A forgotten stop() must not keep the test process alive; the exit handler cleans up.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as Socket).unref();
  }

  const stop = async () => {
    process.off("exit", kill);
    if (hasExited(child)) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(kill, STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitUntilAnswering(endpoint, child, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop, withoutIam: (setup) => withoutIam(endpoint, setup) };
}

/** The emulator's behaviour comes from this harness alone, never from the caller's AWS or moto settings. */
function serverEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !/^(AWS|MOTO)_/.test(key) && key !== "INITIAL_NO_AUTH_ACTION_COUNT",
    ),
  );
}

/** Moto's own switch: the number of requests to let through unchecked, "inf" for all. */
async function setUncheckedRequests(endpoint: string, count: string): Promise<string> {
  const response = await fetch(`${endpoint}/moto-api/reset-auth`, { method: "POST", body: count });
  const body = (await response.json()) as { PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT?: string };
  const previous = body.PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT;
  if (!response.ok || previous === undefined) {
    throw new EmulatorSetupError(
      `moto at ${endpoint} refused to change IAM enforcement: HTTP ${response.status}`,
    );
  }
  return previous;
}

async function withoutIam<T>(endpoint: string, setup: () => Promise<T>): Promise<T> {
  const previous = await setUncheckedRequests(endpoint, "inf");
  try {
    return await setup();
  } finally {
    await setUncheckedRequests(endpoint, previous);
  }
}

/** Keeps the last few thousand characters the server printed, for a failure message. */
function captureTail(child: ChildProcess): () => string {
  let tail = "";
  const keep = (chunk: string) => {
    tail = (tail + chunk).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.setEncoding("utf8").on("data", keep);
  child.stderr?.setEncoding("utf8").on("data", keep);
  return () => tail.trimEnd();
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + START_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (hasExited(child)) {
      const message = `moto server exited before answering on ${endpoint}:\n${output()}`;
      throw output().includes("Address already in use")
        ? new PortTakenError(message)
        : new EmulatorSetupError(message);
    }
    if (await answers(endpoint)) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new EmulatorSetupError(
    `moto server did not answer on ${endpoint} within ${START_DEADLINE_MS} ms:\n${output()}`,
  );
}

/**
 * Whether a moto server answers HTTP at `endpoint` within a second.
 *
 * @example
 * if (!(await answers(state.endpoint))) await startAnother();
 */
export async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, HOST);
  await once(probe, "listening");
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, "close");
  return port;
}
