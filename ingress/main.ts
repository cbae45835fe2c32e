/**
 * The ingress process (`npm run ingress`, or `npx tsx ingress/main.ts`):
 * configuration from `LAMBDA_SVID_INGRESS_*`, the back with the SDK's
 * credential chain, the front on the mTLS port. SIGTERM and SIGINT stop
 * accepting and let requests in flight finish for `LAMBDA_SVID_INGRESS_DRAIN`;
 * SIGHUP re-reads the route file (an invalid one is refused and the current
 * table stays).
 *
 * Exits 1 with one line on stderr naming what is wrong when it cannot start.
 */
import { SpiffeError } from "../layers/spiffe/index.ts";
import { LambdaSvidError } from "../lib/errors/index.ts";
import { createForwarder } from "./backend/index.ts";
import type { Forwarder } from "./backend/types.ts";
import { type IngressConfig, loadIngressConfig } from "./config.ts";
import { type RunningIngress, startIngress } from "./index.ts";
import { jsonLogger } from "./log.ts";
import { FileSvidSource, SecretSvidSource, type ServerSvidSource } from "./svid.ts";

const NAME = "lambda-svid-ingress";

function svidSource(config: IngressConfig): ServerSvidSource {
  const svid = config.svid;
  return svid.source === "files"
    ? new FileSvidSource(svid)
    : new SecretSvidSource({
        secretName: svid.secretName,
        checkIntervalMs: svid.checkIntervalMs,
      });
}

/** Only the project's own messages are known to hold nothing secret. */
function describe(err: unknown): string {
  if (err instanceof LambdaSvidError || err instanceof SpiffeError) return err.message;
  return err instanceof Error ? err.name : "error";
}

async function run(): Promise<number> {
  const logger = jsonLogger();
  let config: IngressConfig;
  let forwarder: Forwarder | undefined;
  let ingress: RunningIngress;
  try {
    config = loadIngressConfig(process.env);
    forwarder = createForwarder({ maxBodyBytes: config.bodyLimitBytes, logger });
    ingress = await startIngress({
      routes: config.routesFile,
      svid: svidSource(config),
      forwarder,
      port: config.port,
      host: config.host,
      healthPort: config.healthPort,
      healthHost: config.healthHost,
      logger,
    });
  } catch (err) {
    await forwarder?.close();
    console.error(`${NAME}: start failed: ${describe(err)}`);
    return 1;
  }
  const running = ingress;
  process.on("SIGHUP", () => {
    running.reload().catch((err: unknown) => {
      logger.warn("routes reload refused; keeping the current routes", { error: describe(err) });
    });
  });
  const signal = await new Promise<string>((done) => {
    process.once("SIGTERM", () => done("SIGTERM"));
    process.once("SIGINT", () => done("SIGINT"));
  });
  logger.info("stopping", { signal });
  await running.close(config.drainMs);
  return 0;
}

process.exitCode = await run();
process.exit();
