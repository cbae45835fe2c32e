import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAll, LAYER_ZIP } from "../../scripts/build.ts";
import { freePort } from "../../tools/emulator/index.ts";

let dist: string;
beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), "lambda-svid-layer-"));
  await buildAll(dist);
}, 120_000);

describe("the layer zip", () => {
  it("holds the executable extension, the agent bundle and the client modules, under 1 MB", async () => {
    const zip = join(dist, LAYER_ZIP);
    expect((await stat(zip)).size).toBeLessThan(1024 * 1024);
    const out = join(dist, "unzipped");
    execFileSync("unzip", ["-q", zip, "-d", out]);
    const extension = join(out, "extensions/lambda-svid");
    expect((await stat(extension)).mode & 0o777).toBe(0o755);
    expect(await readFile(extension, "utf8")).toContain(
      '"$(dirname "$0")/../lambda-svid/agent.mjs"',
    );
    expect((await stat(join(out, "lambda-svid/agent.mjs"))).isFile()).toBe(true);

    const script = `
      const agent = await import("@lambda-svid/agent");
      const spiffe = await import("@lambda-svid/spiffe");
      process.stdout.write(JSON.stringify([typeof agent.getSvid, typeof agent.createDispatchers, typeof agent.createHttpsAgents, typeof spiffe.authorizeId]));
    `;
    const printed = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: join(out, "nodejs"),
      env: { PATH: process.env.PATH ?? "" },
    });
    expect(JSON.parse(printed.toString())).toEqual([
      "function",
      "function",
      "function",
      "function",
    ]);
  });

  it("the extension, started without a Lambda runtime, stops with a message naming the bad variable", async () => {
    const out = join(dist, "unzipped");
    let stderr = "";
    try {
      execFileSync(join(out, "extensions/lambda-svid"), [], {
        env: {
          PATH: process.env.PATH ?? "",
          LAMBDA_SVID_REQUIRE_TOKEN: "false",
          LAMBDA_SVID_PORT: "nope",
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
    } catch (err) {
      stderr = String((err as { stderr: Buffer }).stderr);
      expect((err as { status: number }).status).toBe(1);
    }
    expect(stderr).toContain('lambda-svid: start failed: config: LAMBDA_SVID_PORT is "nope"');
  });

  it("the extension loads Node's built-ins by require: no ES module facade of node:http, so no undici", async () => {
    // Reading node:http's exports for a facade calls its WebSocket getters, which load Node's undici.
    const report = `data:text/javascript,process.on("exit", () => process.stderr.write("loaded " + JSON.stringify(process.moduleLoadList.filter((m) => m.includes("undici")))))`;
    let stderr = "";
    try {
      // Up to the SVID read, whose SDK call lazy-imports node:http for an http:// endpoint.
      execFileSync(
        process.execPath,
        ["--import", report, join(dist, "layer/lambda-svid/agent.mjs")],
        {
          env: {
            PATH: process.env.PATH ?? "",
            LAMBDA_SVID_REQUIRE_TOKEN: "false",
            AWS_ENDPOINT_URL: `http://127.0.0.1:${await freePort()}`,
            AWS_REGION: "us-east-1",
            AWS_ACCESS_KEY_ID: "testing",
            AWS_SECRET_ACCESS_KEY: "testing",
            AWS_MAX_ATTEMPTS: "1",
            AWS_CONFIG_FILE: "/dev/null",
            AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
          },
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
    } catch (err) {
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(stderr).toContain(
      "lambda-svid: start failed: svid-secret: could not read the SVID secret",
    );
    expect(stderr).toContain("loaded []");
  });
});
