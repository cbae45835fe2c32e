import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it } from "vitest";
import { answers, startMoto } from "../../../tools/emulator/moto.ts";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));

async function stopsAnswering(endpoint: string, withinMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!(await answers(endpoint))) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** Starts moto in a separate Node process that then exits (`exit`) or waits to be killed. */
async function motoInChildProcess(mode: "exit" | "wait") {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `const { startMoto } = await import(${JSON.stringify(join(REPO, "tools/emulator/moto.ts"))});
       const moto = await startMoto();
       console.log(moto.endpoint);
       if (process.argv[1] === "exit") process.exit(0);
       setInterval(() => {}, 1_000);`,
      mode,
    ],
    { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] },
  );
  const [line] = (await once(child.stdout.setEncoding("utf8"), "data")) as [string];
  return { child, endpoint: line.trim() };
}

describe("startMoto", () => {
  it("the shared emulator from global setup answers where the SDK is pointed", async () => {
    const endpoint = inject("awsEndpoint");
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(process.env.AWS_ENDPOINT_URL).toBe(endpoint);
    expect(await answers(endpoint)).toBe(true);
  });

  it("starts another server on its own free port and stop() ends it", async () => {
    const moto = await startMoto();
    expect(moto.endpoint).not.toBe(inject("awsEndpoint"));
    expect(await answers(moto.endpoint)).toBe(true);
    await moto.stop();
    await moto.stop();
    expect(await answers(moto.endpoint)).toBe(false);
  });

  it.each(["exit", "wait"] as const)(
    "leaves no server running when its process ends without stop() (%s)",
    async (mode) => {
      // The endpoint is printed only once the server answers. "exit" leaves cleanup to the
      // process exit handler; after a SIGKILL nothing runs in Node, and serve.py must notice.
      const { child, endpoint } = await motoInChildProcess(mode);
      if (mode === "wait") {
        expect(await answers(endpoint)).toBe(true);
        child.kill("SIGKILL");
      }
      expect(await stopsAnswering(endpoint)).toBe(true);
    },
  );
});
