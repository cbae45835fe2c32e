/**
 * Entry point of the agent process, bundled to `lambda-svid/agent.mjs` in the
 * layer and started by `extensions/lambda-svid` on the runtime's own `node`.
 */
import { SvidSourceError } from "../svid-secret/index.ts";
import { AgentError } from "./errors.ts";
import { runAgent } from "./lifecycle.ts";

process.exitCode = await runAgent(process.env).catch((err: unknown) => {
  // Only our own messages are known to hold nothing secret.
  const text =
    err instanceof AgentError || err instanceof SvidSourceError
      ? err.message
      : err instanceof Error
        ? err.name
        : "error";
  console.error(`lambda-svid: ${text}`);
  return 1;
});
process.exit();
