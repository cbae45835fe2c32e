/**
 * When scripts/go-tools.ts builds and when it reuses. A real build of
 * Terraform takes minutes, so these cases run a stand-in `go` (a shell script
 * that records its calls, writes a "binary" holding what `go version -m` would
 * print, and can be told to fail); the real build is what `npm run
 * check:infra` does.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ensureGoTools, type GoTool, GoToolError } from "../../scripts/go-tools.ts";

const TOOLS = {
  terraform: { name: "terraform", pkg: "github.com/hashicorp/terraform", version: "v1.5.7" },
  tflint: { name: "tflint", pkg: "github.com/terraform-linters/tflint", version: "latest" },
} satisfies Record<string, GoTool>;

let dir: string;
let cacheDir: string;
let go: string;
let calls: string;

/** A `go` that answers `version -m` from the binary's content and `install` by writing one. */
function writeFakeGo(failInstall = false): void {
  writeFileSync(
    go,
    `#!/bin/sh
echo "$*" >> "${calls}"
case "$1" in
  version)
    [ -f "$3" ] || exit 1
    cat "$3" ;;
  install)
    ${failInstall ? 'echo "compile: something broke"; exit 2' : ""}
    pkg="\${2%@*}"; ver="\${2#*@}"; [ "$ver" = latest ] && ver=v0.99.0
    mkdir -p "$GOBIN" "$GOCACHE" "$GOMODCACHE"
    printf '%s: go1.26\\n\\tpath\\t%s\\n\\tmod\\t%s\\t%s\\th1:x=\\n' "$GOBIN/\${pkg##*/}" "$pkg" "$pkg" "$ver" > "$GOBIN/\${pkg##*/}" ;;
esac
`,
  );
  chmodSync(go, 0o755);
}

const installs = () =>
  existsSync(calls)
    ? readFileSync(calls, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("install"))
    : [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lambda-svid-go-tools-"));
  cacheDir = join(dir, "cache");
  go = join(dir, "go");
  calls = join(dir, "calls.log");
  writeFakeGo();
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe("ensureGoTools", () => {
  it("builds missing tools once, keeps the binaries and drops the Go caches", async () => {
    const onBuild = vi.fn();
    const paths = await ensureGoTools(TOOLS, { cacheDir, go, onBuild });
    expect(paths).toEqual({
      terraform: join(cacheDir, "bin", "terraform"),
      tflint: join(cacheDir, "bin", "tflint"),
    });
    expect(installs()).toEqual([
      "install github.com/hashicorp/terraform@v1.5.7",
      "install github.com/terraform-linters/tflint@latest",
    ]);
    expect(onBuild).toHaveBeenCalledTimes(2);
    expect(existsSync(join(cacheDir, "build"))).toBe(false);
    expect(existsSync(join(cacheDir, "path"))).toBe(false);

    const again = vi.fn();
    expect(await ensureGoTools(TOOLS, { cacheDir, go, onBuild: again })).toEqual(paths);
    expect(installs()).toHaveLength(2);
    expect(again).not.toHaveBeenCalled();
  });

  it("rebuilds a binary built from another version; any version satisfies latest", async () => {
    const bin = join(cacheDir, "bin");
    mkdirSync(bin, { recursive: true });
    const built = (pkg: string, version: string) =>
      `x: go1.26\n\tpath\t${pkg}\n\tmod\t${pkg}\t${version}\th1:x=\n`;
    writeFileSync(join(bin, "terraform"), built(TOOLS.terraform.pkg, "v1.5.6"));
    writeFileSync(join(bin, "tflint"), built(TOOLS.tflint.pkg, "v0.50.0"));
    await ensureGoTools(TOOLS, { cacheDir, go });
    expect(installs()).toEqual(["install github.com/hashicorp/terraform@v1.5.7"]);
  });

  it("names the package and the log when a build fails", async () => {
    writeFakeGo(true);
    vi.spyOn(console, "error").mockImplementation(() => {});
    const error = await ensureGoTools(TOOLS, { cacheDir, go }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoToolError);
    const log = join(cacheDir, "install-terraform.log");
    expect((error as Error).message).toBe(
      `go-tools: go install github.com/hashicorp/terraform@v1.5.7 failed (exit 2); log: ${log}`,
    );
    expect(readFileSync(log, "utf8")).toContain("compile: something broke");
  });

  it("says what to install when there is no Go", async () => {
    const missing = join(dir, "no-such-go");
    const error = await ensureGoTools(TOOLS, { cacheDir, go: missing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoToolError);
    expect((error as Error).message).toBe(
      `go-tools: "${missing}" not found; building github.com/hashicorp/terraform@v1.5.7 needs Go (https://go.dev/dl/), or set LAMBDA_SVID_GO to its path`,
    );
  });
});
