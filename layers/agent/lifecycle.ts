/**
 * How the agent runs: as a Lambda extension (registered with the Extensions
 * API, ready before the first `event/next`), or outside Lambda as a plain local
 * sidecar process.
 */

import { ConfigError, type Env } from "../../lib/config/index.ts";
import {
  type HeldSvid,
  SvidSource,
  SvidSourceError,
  SvidSourceReason,
} from "../svid-secret/index.ts";
import { type AgentConfig, loadAgentConfig } from "./config.ts";
import { AgentError, AgentReason } from "./errors.ts";
import { ExtensionsApi } from "./extensions-api.ts";
import { type LocalProxy, startProxy } from "./proxy.ts";

/** The extension's name: the file Lambda starts, `/opt/extensions/lambda-svid`. */
export const EXTENSION_NAME = "lambda-svid";

/** Time kept back from SHUTDOWN's deadline for the exit itself. */
const SHUTDOWN_MARGIN_MS = 50;
/** How often a sidecar, which sees no INVOKE events, applies the freshness rules. */
const SIDECAR_CHECK_MS = 30_000;

/** `errorType` sent to `init/error`, so the function's init failure says what the agent lacked. */
const INIT_ERROR_TYPE: Record<AgentReason | SvidSourceReason, string> = {
  [SvidSourceReason.SECRET_UNREADABLE]: "Extension.SvidSecretUnreadable",
  [SvidSourceReason.SECRET_INVALID]: "Extension.SvidSecretInvalid",
  [SvidSourceReason.SVID_NOT_VERIFIED]: "Extension.SvidNotVerified",
  [SvidSourceReason.SVID_EXPIRED]: "Extension.SvidExpired",
  [AgentReason.EXTENSIONS_API]: "Extension.RuntimeApi",
};

/**
 * Runs the agent for the process: as an extension when `AWS_LAMBDA_RUNTIME_API`
 * is set, else as a sidecar. Resolves with the exit code.
 */
export function runAgent(env: Env): Promise<number> {
  const runtimeApi = env.AWS_LAMBDA_RUNTIME_API;
  return runtimeApi === undefined || runtimeApi === ""
    ? runSidecar(env)
    : runExtension(env, runtimeApi);
}

async function start(config: AgentConfig): Promise<{ source: SvidSource; proxy: LocalProxy }> {
  const source = new SvidSource({
    secretName: config.secretName,
    refreshIntervalMs: config.refreshIntervalMs,
    refreshThresholdMs: config.refreshThresholdMs,
    onRefreshError: (err) =>
      console.warn(`${EXTENSION_NAME}: keeping the current SVID: ${err.message}`),
    onRotate: (held) => console.error(`${EXTENSION_NAME}: SVID rotated: ${describeSvid(held)}`),
  });
  const held = await source.read();
  const proxy = await startProxy(config.port, {
    routes: config.routes,
    source,
    token: config.token,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    maxSocketsPerRoute: config.maxSocketsPerRoute,
  });
  console.error(
    `${EXTENSION_NAME}: listening on 127.0.0.1:${proxy.port} as ${describeSvid(held)}; routes: ${[...config.routes.keys()].join(", ") || "none"}`,
  );
  return { source, proxy };
}

/** What a log line may say about an SVID: public facts only. */
function describeSvid(held: HeldSvid): string {
  const { svid } = held;
  return `${svid.id} (serial ${svid.leaf.serialNumber}, not after ${svid.notAfter.toISOString()})`;
}

async function runExtension(env: Env, runtimeApi: string): Promise<number> {
  // Registering and reading the SVID are two waits on the network, so they
  // overlap. The function still gets no traffic through the proxy without an
  // SVID: `start` listens only once the SVID is read and verified, and Lambda
  // invokes the function only after this extension's first `event/next`.
  const registering = ExtensionsApi.register(runtimeApi, EXTENSION_NAME);
  const starting = Promise.resolve(env).then((e) => start(loadAgentConfig(e)));
  // A failed start is handled below, once it can be reported; never unhandled meanwhile.
  starting.catch(() => {});
  const api = await registering;
  let running: { source: SvidSource; proxy: LocalProxy };
  try {
    running = await starting;
  } catch (err) {
    const { type, message } = describe(err);
    console.error(`${EXTENSION_NAME}: init failed: ${message}`);
    await api.initError(type, message);
    return 1;
  }
  for (;;) {
    const event = await api.next();
    if (event.eventType === "INVOKE") {
      void running.source.maintain();
      continue;
    }
    await running.proxy.close(Math.max(0, event.deadlineMs - Date.now() - SHUTDOWN_MARGIN_MS));
    return 0;
  }
}

async function runSidecar(env: Env): Promise<number> {
  let running: { source: SvidSource; proxy: LocalProxy };
  let config: AgentConfig;
  try {
    config = loadAgentConfig(env);
    running = await start(config);
  } catch (err) {
    console.error(`${EXTENSION_NAME}: start failed: ${describe(err).message}`);
    return 1;
  }
  const check = setInterval(() => void running.source.maintain(), SIDECAR_CHECK_MS);
  const signal = await new Promise<string>((done) => {
    process.once("SIGTERM", () => done("SIGTERM"));
    process.once("SIGINT", () => done("SIGINT"));
  });
  clearInterval(check);
  console.error(`${EXTENSION_NAME}: ${signal}: finishing in-flight requests`);
  await running.proxy.close(config.shutdownBudgetMs);
  return 0;
}

function describe(err: unknown): { type: string; message: string } {
  if (err instanceof AgentError || err instanceof SvidSourceError)
    return { type: INIT_ERROR_TYPE[err.reason], message: err.message };
  if (err instanceof ConfigError) return { type: "Extension.ConfigError", message: err.message };
  if (err instanceof Error) return { type: "Extension.Unknown", message: err.name };
  return { type: "Extension.Unknown", message: "unknown error" };
}
