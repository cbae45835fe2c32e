import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const TSX = join(REPO, "node_modules/.bin/tsx");
let env: NodeJS.ProcessEnv;

async function cli(script: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(TSX, [join(REPO, "cli", script), ...args], {
    cwd: REPO,
    env,
    timeout: 120_000,
  });
  return stdout;
}

afterAll(async () => {
  if (env) await cli("emulator-stop.ts");
});

describe("npm start (the README's main job)", () => {
  it("issues for the example Organization, then skips every fresh identity on the second run", async () => {
    const local = await mkdtemp(join(tmpdir(), "lambda-svid-local-"));
    env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !k.startsWith("AWS_") && !k.startsWith("LAMBDA_SVID_"),
      ),
    );
    env.LAMBDA_SVID_LOCAL_DIR = local;

    const first = await cli("start.ts");
    expect(first).toContain("example Organization created with 5 accounts");
    expect(first).toMatch(/spiffe:\/\/example\.org\/prod\/payments\s+\d{12}\s+\S+Z\s+issued/);
    expect(first).toContain("issued 3, skipped-fresh 0, failed 0, not-reached 0, invalid 0");
    expect(first).not.toContain("PRIVATE KEY");

    const second = await cli("start.ts");
    expect(second).toContain("(reused); example Organization found");
    expect(second).toContain("issued 0, skipped-fresh 3, failed 0, not-reached 0, invalid 0");

    const forced = await cli("start.ts", "--force");
    expect(forced).toContain("issued 3, skipped-fresh 0");
    await expect(cli("start.ts", "--bogus")).rejects.toThrow("usage: npm start -- [--force]");
  }, 180_000);
});
