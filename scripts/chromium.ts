/**
 * Finds the Chromium that the HTML fleet report's test drives headless
 * (through `playwright-core`, which brings no browser of its own):
 * `CHROME_PATH` when set, else `chromium` or `chromium-browser` on the PATH.
 * On a machine without one where apt-get can run as root (CI containers, the
 * development machines), it installs Debian's `chromium` package first, as
 * `.ci/run` does, so a missing browser is installed or reported, never
 * skipped.
 *
 * Run alone with `npx tsx scripts/chromium.ts` to print the path.
 */
import { execFile } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { LambdaSvidError } from "../lib/errors/index.ts";

const run = promisify(execFile);

/** The names Debian and Ubuntu give the browser's command. */
const COMMANDS = ["chromium", "chromium-browser"];
const LOG_TAIL_LINES = 20;

/** Reasons no browser can be had. */
export const ChromiumReason = {
  BAD_CHROME_PATH: "chromium: CHROME_PATH is not an executable file",
  NOT_FOUND:
    "chromium: no chromium or chromium-browser on the PATH; install Debian's chromium (apt-get install chromium) or set CHROME_PATH",
  INSTALL_FAILED: "chromium: apt-get install chromium failed",
} as const;
export type ChromiumReason = (typeof ChromiumReason)[keyof typeof ChromiumReason];

/**
 * No Chromium to drive; the message says how to get one.
 *
 * @example
 * throw new ChromiumError(ChromiumReason.BAD_CHROME_PATH, JSON.stringify(env.CHROME_PATH));
 */
export class ChromiumError extends LambdaSvidError {
  declare readonly reason: ChromiumReason;

  constructor(reason: ChromiumReason, detail?: string) {
    super(reason, detail);
    this.name = "ChromiumError";
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, command);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The browser's path, or `undefined` when none is installed. A `CHROME_PATH`
 * that names no executable is an error rather than a reason to look
 * elsewhere: whoever set it meant that browser.
 *
 * @example
 * const path = findChromium(); // "/usr/bin/chromium"
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = env.CHROME_PATH;
  if (chosen !== undefined && chosen !== "") {
    if (!executable(chosen)) {
      throw new ChromiumError(ChromiumReason.BAD_CHROME_PATH, JSON.stringify(chosen));
    }
    return chosen;
  }
  for (const command of COMMANDS) {
    const found = onPath(command, env);
    if (found !== undefined) return found;
  }
  return undefined;
}

export interface EnsureChromiumOptions {
  env?: NodeJS.ProcessEnv;
  /** Told before an install starts, so a cold run says why it takes minutes. */
  onInstall?: () => void;
}

/**
 * The browser's path, installing Debian's `chromium` with apt-get first when
 * none is found and this process is root on a machine with apt-get.
 *
 * @example
 * const browser = await chromium.launch({ executablePath: await ensureChromium() });
 */
export async function ensureChromium(options: EnsureChromiumOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const found = findChromium(env);
  if (found !== undefined) return found;
  const aptGet = onPath("apt-get", env);
  if (aptGet === undefined || process.getuid?.() !== 0) {
    throw new ChromiumError(ChromiumReason.NOT_FOUND);
  }
  options.onInstall?.();
  const aptEnv = { ...env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    await run(aptGet, ["update", "-qq"], { env: aptEnv, maxBuffer: 64 * 1024 * 1024 });
    await run(aptGet, ["install", "-y", "-qq", "chromium"], {
      env: aptEnv,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ""}${(error as { stderr?: string }).stderr ?? ""}`;
    console.error(output.trimEnd().split("\n").slice(-LOG_TAIL_LINES).join("\n"));
    throw new ChromiumError(
      ChromiumReason.INSTALL_FAILED,
      `exit ${(error as { code?: unknown }).code}`,
    );
  }
  const installed = findChromium(env);
  if (installed === undefined) {
    throw new ChromiumError(ChromiumReason.NOT_FOUND, "still missing after apt-get install");
  }
  return installed;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(
    await ensureChromium({
      onInstall: () => console.error("installing Debian's chromium with apt-get (minutes, once)"),
    }),
  );
}
