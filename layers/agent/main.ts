/**
 * Entry point of the agent process, bundled to `lambda-svid/agent.mjs` in the
 * layer and started by `extensions/lambda-svid` on the runtime's own `node`.
 */
import { runAgent } from "./lifecycle.ts";

process.exitCode = await runAgent(process.env).catch((err: unknown) => {
  console.error(`lambda-svid: ${err instanceof Error ? err.message : "unknown error"}`);
  return 1;
});
process.exit();
