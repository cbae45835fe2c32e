import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it, onTestFinished } from "vitest";
import { EmulatorSetupError, ensureMotoVenv } from "../../../tools/emulator/venv.ts";

const run = promisify(execFile);

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lambda-svid-venv-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("ensureMotoVenv", () => {
  it("names what to install when the Python interpreter is missing", async () => {
    const venvDir = join(await tempDir(), ".venv");
    await expect(ensureMotoVenv({ python: "/nonexistent/python3", venvDir })).rejects.toThrow(
      new EmulatorSetupError(
        'lambda-svid tests need Python 3 with venv ("/nonexistent/python3" not found): apt-get install python3 python3-venv',
      ),
    );
  });

  it("names what to install when Python lacks venv or ensurepip", async () => {
    const dir = await tempDir();
    const python = join(dir, "python3");
    await writeFile(python, "#!/bin/sh\necho 'No module named ensurepip' >&2\nexit 1\n");
    await chmod(python, 0o755);
    await expect(ensureMotoVenv({ python, venvDir: join(dir, ".venv") })).rejects.toThrow(
      `lambda-svid tests need Python 3 with venv ("${python}" lacks venv/ensurepip): apt-get install python3 python3-venv`,
    );
  });

  // Builds a real (empty) environment: a few seconds, mostly ensurepip.
  it("builds once for concurrent callers and reinstalls, without rebuilding, when requirements change", async () => {
    const dir = await tempDir();
    const venvDir = join(dir, ".venv");
    const requirementsFile = join(dir, "requirements.txt");
    await writeFile(requirementsFile, "# no packages\n");

    const [a, b] = await Promise.all([
      ensureMotoVenv({ venvDir, requirementsFile }),
      ensureMotoVenv({ venvDir, requirementsFile }),
    ]);
    expect(a).toBe(join(venvDir, "bin", "python"));
    expect(b).toBe(a);
    const { stdout } = await run(a, ["-c", "import sys; print(sys.prefix)"]);
    expect(stdout.trim()).toBe(venvDir);
    const marker = join(venvDir, "lambda-svid-requirements.sha256");
    expect((await readFile(marker, "utf8")).trim()).toBe(sha256("# no packages\n"));

    const sentinel = join(venvDir, "sentinel");
    await writeFile(sentinel, "kept unless the environment is rebuilt");
    await writeFile(requirementsFile, "# still no packages\n");
    await ensureMotoVenv({ venvDir, requirementsFile });
    expect((await readFile(marker, "utf8")).trim()).toBe(sha256("# still no packages\n"));
    expect(await readFile(sentinel, "utf8")).toBe("kept unless the environment is rebuilt");
  });
});
