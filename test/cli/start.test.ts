import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CliReason } from "../../cli/errors.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

describe("npm start", () => {
  it("an unknown argument stops before anything starts, with the usage and the argument", async () => {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>(
      (resolve) => {
        const child = execFile(
          "npx",
          ["tsx", "cli/start.ts", "--bogus"],
          { cwd: REPO, env: { ...process.env, AWS_ENDPOINT_URL: "http://127.0.0.1:9" } },
          (_err, _stdout, err) => resolve({ code: child.exitCode, stderr: err }),
        );
      },
    );
    expect(code).toBe(1);
    expect(stderr.trim().split("\n").at(-1)).toBe(`lambda-svid: ${CliReason.USAGE}: got "--bogus"`);
  });
});
