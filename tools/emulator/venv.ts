/**
 * The project-local Python virtual environment that holds moto.
 *
 * The project installs its own emulator instead of asking developers or CI for a
 * global one, so every machine runs the exact pinned moto in `requirements.txt`.
 * The environment is built once and reinstalled only when that file changes: a
 * marker in the environment records the hash of the requirements it was built from.
 */
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const MARKER = "lambda-svid-requirements.sha256";
const LOG = "install.log";
const LOG_TAIL_LINES = 40;
const LOCK_POLL_MS = 250;

/** Raised when this machine cannot build the emulator; its message is the one line to act on. */
export class EmulatorSetupError extends Error {
  override readonly name = "EmulatorSetupError";

  constructor(message: string) {
    super(message);
    // The message says what to do; a stack trace would only bury it.
    this.stack = `${this.name}: ${message}`;
  }
}

export interface VenvOptions {
  /** Base interpreter; defaults to `$LAMBDA_SVID_PYTHON`, then `python3`. */
  python?: string;
  /** Defaults to `<repo>/.venv`. */
  venvDir?: string;
  /** Defaults to `tools/emulator/requirements.txt`. */
  requirementsFile?: string;
}

/**
 * Makes sure the virtual environment exists and holds the pinned requirements.
 *
 * @returns the path of the environment's own Python interpreter.
 * @example
 * const python = await ensureMotoVenv();
 */
export async function ensureMotoVenv(options: VenvOptions = {}): Promise<string> {
  const basePython = options.python ?? process.env.LAMBDA_SVID_PYTHON ?? "python3";
  const venvDir = options.venvDir ?? join(REPO, ".venv");
  const requirementsFile =
    options.requirementsFile ?? fileURLToPath(new URL("requirements.txt", import.meta.url));
  const venvPython = join(venvDir, "bin", "python");
  const markerFile = join(venvDir, MARKER);

  const wanted = sha256(await readFile(requirementsFile));
  const ready = async () => (await runs(venvPython)) && (await readMarker(markerFile)) === wanted;
  if (await ready()) return venvPython;

  return withInstallLock(venvDir, async () => {
    // Another test run on this work tree may have built it while this one waited.
    if (await ready()) return venvPython;
    if (!(await runs(venvPython))) await createVenv(basePython, venvDir);
    await rm(markerFile, { force: true });
    await pipInstall(venvPython, requirementsFile, join(venvDir, LOG));
    await writeFile(markerFile, `${wanted}\n`);
    return venvPython;
  });
}

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Serializes builds of one environment across processes: two test runs started
 * at once on a fresh work tree would otherwise pip-install into it together.
 * The lock holds its owner's pid, so a lock left by a killed run is taken over.
 */
async function withInstallLock<T>(venvDir: string, work: () => Promise<T>): Promise<T> {
  const lockFile = join(tmpdir(), `lambda-svid-venv-${sha256(venvDir).slice(0, 16)}.lock`);
  for (;;) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(await readFile(lockFile, "utf8").catch(() => ""));
      if (owner > 0 && !alive(owner)) await rm(lockFile, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockFile, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A venv whose interpreter no longer starts (e.g. the base Python was upgraded) is rebuilt. */
async function runs(python: string): Promise<boolean> {
  if (!existsSync(python)) return false;
  try {
    await run(python, ["-c", "pass"]);
    return true;
  } catch {
    return false;
  }
}

async function readMarker(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    return undefined;
  }
}

async function createVenv(basePython: string, venvDir: string): Promise<void> {
  const missing = (detail: string) =>
    new EmulatorSetupError(
      `lambda-svid tests need Python 3 with venv (${detail}): apt-get install python3 python3-venv`,
    );
  try {
    // Debian splits venv and ensurepip out of python3; without them `-m venv` fails late.
    await run(basePython, ["-c", "import venv, ensurepip"]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw missing(
      code === "ENOENT" ? `"${basePython}" not found` : `"${basePython}" lacks venv/ensurepip`,
    );
  }
  await rm(venvDir, { recursive: true, force: true });
  try {
    await run(basePython, ["-m", "venv", venvDir]);
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    throw missing(`"${basePython} -m venv" failed: ${stderr.split("\n").at(-1) ?? ""}`);
  }
}

async function pipInstall(
  python: string,
  requirementsFile: string,
  logFile: string,
): Promise<void> {
  const log = await open(logFile, "w");
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      python,
      [
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "-r",
        requirementsFile,
      ],
      { stdio: ["ignore", log.fd, log.fd] },
    );
    child.on("error", reject);
    child.on("close", resolve);
  }).finally(() => log.close());
  if (exitCode === 0) return;
  const tail = (await readFile(logFile, "utf8")).trimEnd().split("\n").slice(-LOG_TAIL_LINES);
  console.error(tail.join("\n"));
  throw new EmulatorSetupError(
    `installing ${requirementsFile} failed (pip exit ${exitCode}); full log: ${logFile}`,
  );
}
