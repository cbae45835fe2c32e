/**
 * The emulator behind `npm start`: the same pinned moto as the tests, but left
 * running in the background between runs so a second `npm start` sees what the
 * first one wrote. Its address and process id are kept in `.local/emulator.json`
 * (`$LAMBDA_SVID_LOCAL_DIR` instead of `.local`, if set); `npm run emulator:stop`
 * ends it.
 */
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { answers, ensureMotoVenv, freePort } from "../tools/emulator/index.ts";
import { CLI_CATALOGUE } from "./config.ts";
import { CliError, CliReason } from "./errors.ts";

const STATE_FILE = "emulator.json";
const START_DEADLINE_MS = 60_000;

/**
 * Where `npm start` keeps its local state: the emulator's address, its log, the local CA.
 *
 * @example
 * const caDirectory = join(localDir(), "ca");
 */
export function localDir(): string {
  return (
    CLI_CATALOGUE.reader(process.env).read("LAMBDA_SVID_LOCAL_DIR") ??
    fileURLToPath(new URL("../.local/", import.meta.url))
  );
}

interface State {
  pid: number;
  endpoint: string;
}

/** Returns the endpoint of the running local emulator, starting one if none answers. */
export async function ensureLocalEmulator(): Promise<{ endpoint: string; started: boolean }> {
  const state = await readState();
  const LOCAL = localDir();
  if (state !== undefined && alive(state.pid) && (await answers(state.endpoint))) {
    return { endpoint: state.endpoint, started: false };
  }
  const python = await ensureMotoVenv();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  await mkdir(LOCAL, { recursive: true });
  const log = openSync(join(LOCAL, "emulator.log"), "a");
  const child = spawn(python, ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], {
    detached: true,
    stdio: ["ignore", log, log],
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS|MOTO)_/.test(k))),
  });
  child.unref();
  const deadline = Date.now() + START_DEADLINE_MS;
  while (!(await answers(endpoint))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      throw new CliError(
        CliReason.EMULATOR_NOT_STARTED,
        `${endpoint}; see ${join(LOCAL, "emulator.log")}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await writeFile(
    join(LOCAL, STATE_FILE),
    `${JSON.stringify({ pid: child.pid, endpoint } satisfies Partial<State>)}\n`,
  );
  return { endpoint, started: true };
}

/** Stops the local emulator if one is running; its state (all demo data) goes with it. */
export async function stopLocalEmulator(): Promise<boolean> {
  const state = await readState();
  await rm(join(localDir(), STATE_FILE), { force: true });
  if (state === undefined || !alive(state.pid)) return false;
  process.kill(state.pid, "SIGTERM");
  return true;
}

async function readState(): Promise<State | undefined> {
  try {
    const parsed = JSON.parse(
      await readFile(join(localDir(), STATE_FILE), "utf8"),
    ) as Partial<State>;
    return typeof parsed.pid === "number" && typeof parsed.endpoint === "string"
      ? { pid: parsed.pid, endpoint: parsed.endpoint }
      : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
