import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { REPO } from "./cli-harness.ts";

describe("npm run demo", { timeout: 180_000 }, () => {
  it("issues, proxies one call through the agent to the mesh, names the verified peer, and prints status", async () => {
    // The demo's local state names the shared emulator as the running one (this process stands
    // in for its pid), so the demo reuses it instead of starting, and leaving, one of its own.
    const local = await mkdtemp(join(tmpdir(), "lambda-svid-demo-"));
    await writeFile(
      join(local, "emulator.json"),
      JSON.stringify({ pid: process.pid, endpoint: inject("awsEndpoint") }),
    );
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")),
    );
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      const child = execFile(
        "npm",
        ["run", "--silent", "demo"],
        {
          cwd: REPO,
          env: {
            ...env,
            LAMBDA_SVID_LOCAL_DIR: local,
            AWS_CONFIG_FILE: "/dev/null",
            AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
          },
        },
        (_err, out, err) => resolve({ code: child.exitCode, stdout: out, stderr: err }),
      );
    });
    expect(stderr.replace(/^npm warn .*\n/gm, "")).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toBe(
      `1. local emulator ${inject("awsEndpoint")} (reused); CA ${join(local, "ca")}`,
    );
    expect(stdout).toMatch(/^issued \d, skipped-fresh \d, failed 0, not-reached 0, invalid 0$/m);
    const mesh =
      /^3\. mesh stand-in https:\/\/127\.0\.0\.1:\d+ as spiffe:\/\/example\.org\/demo\/mesh, accepting only (spiffe:\/\/\S+)$/m.exec(
        stdout,
      );
    const fn = mesh?.[1] as string;
    expect(fn).toMatch(/^spiffe:\/\/example\.org\/(prod|staging)\/\w+$/);
    expect(stdout).toMatch(
      new RegExp(
        `^4\\. agent \\(account \\d{12}\\): lambda-svid: listening on 127\\.0\\.0\\.1:\\d+ as ${fn} \\(serial [0-9A-F]+`,
        "m",
      ),
    );
    expect(stdout).toMatch(
      new RegExp(
        `^5\\. GET http://127\\.0\\.0\\.1:\\d+/mesh/hello -> 200 "hello from spiffe://example\\.org/demo/mesh to ${fn}: GET /hello"$`,
        "m",
      ),
    );
    expect(stdout).toContain(
      "   the agent verified the peer as spiffe://example.org/demo/mesh (the route's required SPIFFE ID; any other ID fails the handshake)",
    );
    const status = stdout.slice(stdout.indexOf("6. lambda-svid status:"));
    expect(status).toMatch(/^3 identities from secret metadata; /m);
    expect(status).toMatch(/^all 3 healthy$/m);
    expect(lines.at(-1)).toBe("(status exit code 0; `npm run emulator:stop` stops the emulator)");
    expect(stdout + stderr).not.toContain("PRIVATE KEY");
  });
});
