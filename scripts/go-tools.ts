/**
 * Builds the Go command-line tools the infrastructure checks need (Terraform,
 * tflint) with `go install`, into the git-ignored `.cache/go/` of this work
 * tree, so CI and developers run the same pinned versions without a global
 * install. A tool is rebuilt only when its binary is missing or was built from
 * another module version than the one asked for: `go version -m` reads the
 * module version the Go linker recorded in the binary itself.
 *
 * Run alone with `npx tsx scripts/go-tools.ts` to print the tools' paths.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

const REPO = fileURLToPath(new URL("../", import.meta.url));
const LOG_TAIL_LINES = 40;

/** A tool `go install` builds: its main package and the module version to build. */
export interface GoTool {
  /** The binary's name under `GOBIN`. */
  name: string;
  /** The main package path, e.g. `github.com/hashicorp/terraform`. */
  pkg: string;
  /** A module version (`v1.5.7`) or `latest`; `latest` is resolved once, when first built. */
  version: string;
}

/**
 * The tools the infrastructure checks run. Terraform 1.5.7 is the last release
 * under the MPL whose module still builds with `go install`; tflint bundles the
 * Terraform language ruleset, so it needs no plugin download.
 */
export const INFRA_TOOLS = {
  terraform: { name: "terraform", pkg: "github.com/hashicorp/terraform", version: "v1.5.7" },
  tflint: { name: "tflint", pkg: "github.com/terraform-linters/tflint", version: "latest" },
} as const satisfies Record<string, GoTool>;

/** Raised when a tool cannot be built; its message is the one line to act on. */
export class GoToolError extends Error {
  override readonly name = "GoToolError";
}

export interface GoToolsOptions {
  /** Defaults to `<repo>/.cache/go`: GOBIN, GOPATH and GOCACHE all live under it. */
  cacheDir?: string;
  /** The Go command; defaults to `$LAMBDA_SVID_GO`, then `go` on the PATH. */
  go?: string;
  /** Told when a build starts, so a cold run says why it takes minutes. */
  onBuild?: (tool: GoTool) => void;
}

/**
 * Makes sure each tool is built at its version and returns the binaries' paths.
 *
 * @example
 * const { terraform, tflint } = await ensureGoTools(INFRA_TOOLS);
 * await run(terraform, ["fmt", "-check", "-recursive", "infra/terraform"]);
 */
export async function ensureGoTools<K extends string>(
  tools: Record<K, GoTool>,
  options: GoToolsOptions = {},
): Promise<Record<K, string>> {
  const cacheDir = options.cacheDir ?? join(REPO, ".cache", "go");
  const go = options.go ?? process.env.LAMBDA_SVID_GO ?? "go";
  const env = goEnv(cacheDir);
  const paths = {} as Record<K, string>;
  let built = false;
  for (const key of Object.keys(tools) as K[]) {
    const tool = tools[key];
    const binary = join(env.GOBIN, tool.name);
    if (!(await builtAt(go, binary, tool))) {
      options.onBuild?.(tool);
      await goInstall(go, tool, env, cacheDir);
      built = true;
    }
    if (!(await builtAt(go, binary, tool))) {
      throw new GoToolError(
        `go-tools: ${tool.pkg}@${tool.version} was installed but ${binary} does not report that version`,
      );
    }
    paths[key] = binary;
  }
  // Module sources and compiler output take about 4 GB and only speed up a
  // rebuild, which the version check above makes rare; the binaries stay.
  if (built) {
    await rm(env.GOCACHE, { recursive: true, force: true });
    await rm(env.GOPATH, { recursive: true, force: true });
  }
  return paths;
}

/** Everything Go writes goes under the cache: binaries, module downloads, build cache. */
function goEnv(cacheDir: string) {
  return {
    GOBIN: join(cacheDir, "bin"),
    GOPATH: join(cacheDir, "path"),
    GOCACHE: join(cacheDir, "build"),
    GOMODCACHE: join(cacheDir, "path", "pkg", "mod"),
    // The module cache is read-only by default, which makes `rm -rf .cache` fail.
    GOFLAGS: "-modcacherw -buildvcs=false",
  };
}

/**
 * True when the binary exists and `go version -m` shows it was built from the
 * tool's module at the wanted version (any version for `latest`).
 */
async function builtAt(go: string, binary: string, tool: GoTool): Promise<boolean> {
  if (!existsSync(binary)) return false;
  let info: string;
  try {
    info = (await run(go, ["version", "-m", binary])).stdout;
  } catch {
    return false;
  }
  const mod = info.split("\n").find((line) => /^\s*mod\s/.test(line));
  const [, path, version] = mod?.trim().split(/\s+/) ?? [];
  return path === tool.pkg && (tool.version === "latest" || version === tool.version);
}

async function goInstall(
  go: string,
  tool: GoTool,
  env: ReturnType<typeof goEnv>,
  cacheDir: string,
): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  const logFile = join(cacheDir, `install-${tool.name}.log`);
  const log = await open(logFile, "w");
  const spec = `${tool.pkg}@${tool.version}`;
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(go, ["install", spec], {
      env: { ...process.env, ...env },
      stdio: ["ignore", log.fd, log.fd],
    });
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new GoToolError(
              `go-tools: "${go}" not found; building ${spec} needs Go (https://go.dev/dl/), or set LAMBDA_SVID_GO to its path`,
            )
          : error,
      ),
    );
    child.on("close", resolve);
  }).finally(() => log.close());
  if (exitCode === 0) return;
  const tail = (await readFile(logFile, "utf8")).trimEnd().split("\n").slice(-LOG_TAIL_LINES);
  console.error(tail.join("\n"));
  throw new GoToolError(`go-tools: go install ${spec} failed (exit ${exitCode}); log: ${logFile}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const paths = await ensureGoTools(INFRA_TOOLS, {
    onBuild: (t) => console.error(`building ${t.pkg}@${t.version} (minutes on a cold cache)`),
  });
  for (const [name, path] of Object.entries(paths)) console.log(`${name}\t${path}`);
}
