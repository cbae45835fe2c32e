/**
 * The agent's configuration contract: environment variables, validated once
 * at start. A bad value stops the agent with a message that names it.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { ConfigError, type Env, EnvReader } from "../../lib/config/index.ts";
import {
  DEFAULT_FRESHNESS,
  type FreshnessPolicy,
  readSvidSecretName,
} from "../svid-secret/index.ts";
import { parseRoutes, type Route } from "./routes.ts";

/** Where the proxy listens unless `LAMBDA_SVID_PORT` says otherwise; beside the Parameters and Secrets extension's 2773. */
export const DEFAULT_PORT = 2777;
/**
 * TLS connections per route unless `LAMBDA_SVID_MAX_CONNECTIONS` says otherwise;
 * also the in-process client's default. More concurrent requests than this
 * queue for a free connection instead of opening one.
 */
export const DEFAULT_MAX_CONNECTIONS = 16;
/** The request header that must carry the function's `AWS_SESSION_TOKEN`. */
export const TOKEN_HEADER = "x-lambda-svid-token";

export interface AgentConfig extends FreshnessPolicy {
  secretName: string;
  /** 0 picks a free port (tests); the agent logs the port it listens on. */
  port: number;
  routes: Map<string, Route>;
  /** The value {@link TOKEN_HEADER} must carry, or `undefined` when the check is off. */
  token: string | undefined;
  /** An upstream that sends nothing for this long gets a 504. */
  upstreamTimeoutMs: number;
  /** Most TLS connections per route; kept alive and reused. */
  maxSocketsPerRoute: number;
  /** How long in-flight requests may take to finish on SIGTERM outside Lambda. */
  shutdownBudgetMs: number;
}

const SECOND = 1_000;
const HOUR = 3_600 * SECOND;

/**
 * Reads and validates the agent's configuration from `env`. A relative
 * `LAMBDA_SVID_ROUTES_FILE` is taken from the function package
 * (`LAMBDA_TASK_ROOT`), or the working directory outside Lambda.
 *
 * @throws {ConfigError} naming the variable at fault.
 * @example
 * const config = loadAgentConfig(process.env);
 */
export function loadAgentConfig(
  env: Env,
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): AgentConfig {
  const r = new EnvReader(env);
  const requireToken = r.boolean("LAMBDA_SVID_REQUIRE_TOKEN", true);
  const token = requireToken ? env.AWS_SESSION_TOKEN : undefined;
  if (requireToken && (token === undefined || token === "")) {
    throw new ConfigError(
      "AWS_SESSION_TOKEN",
      "set, because LAMBDA_SVID_REQUIRE_TOKEN is true (set it to false to turn the check off)",
    );
  }
  return {
    secretName: readSvidSecretName(r),
    port: r.integer("LAMBDA_SVID_PORT", DEFAULT_PORT, 0, 65_535),
    routes: routes(r, env, readFile),
    token,
    ...loadFreshness(r),
    upstreamTimeoutMs: r.duration(
      "LAMBDA_SVID_UPSTREAM_TIMEOUT",
      30 * SECOND,
      100,
      15 * 60 * SECOND,
      "a duration from 100ms to 15m, e.g. 30s",
    ),
    maxSocketsPerRoute: r.integer("LAMBDA_SVID_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS, 1, 1_024),
    shutdownBudgetMs: r.duration(
      "LAMBDA_SVID_SHUTDOWN_BUDGET",
      1_500,
      0,
      60 * SECOND,
      "a duration up to 60s, e.g. 1500ms",
    ),
  };
}

/**
 * The freshness variables, shared by the extension and the in-process client
 * so both rotate alike.
 *
 * @throws {ConfigError} naming the variable at fault.
 * @example
 * new SvidSource({ ...loadFreshness(new EnvReader(process.env)) });
 */
export function loadFreshness(r: EnvReader): FreshnessPolicy {
  return {
    refreshIntervalMs: r.duration(
      "LAMBDA_SVID_REFRESH_INTERVAL",
      DEFAULT_FRESHNESS.refreshIntervalMs,
      SECOND,
      24 * HOUR,
      "a duration from 1s to 24h, e.g. 1h",
    ),
    refreshThresholdMs: r.duration(
      "LAMBDA_SVID_REFRESH_THRESHOLD",
      DEFAULT_FRESHNESS.refreshThresholdMs,
      0,
      24 * HOUR,
      "a duration up to 24h, e.g. 6h",
    ),
  };
}

function routes(r: EnvReader, env: Env, readFile: (path: string) => string): Map<string, Route> {
  const inline = r.optional("LAMBDA_SVID_ROUTES");
  const file = r.optional("LAMBDA_SVID_ROUTES_FILE");
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError("LAMBDA_SVID_ROUTES_FILE", "unset when LAMBDA_SVID_ROUTES is set", file);
  }
  if (inline !== undefined) return parseRoutes(inline, "LAMBDA_SVID_ROUTES");
  if (file === undefined) return new Map();
  const path = isAbsolute(file) ? file : join(env.LAMBDA_TASK_ROOT ?? process.cwd(), file);
  let text: string;
  try {
    text = readFile(path);
  } catch {
    throw new ConfigError("LAMBDA_SVID_ROUTES_FILE", "a readable JSON file of routes", file);
  }
  return parseRoutes(text, "LAMBDA_SVID_ROUTES_FILE");
}
