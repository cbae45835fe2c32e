/**
 * The agent's configuration contract: environment variables, validated once
 * at start. A bad value stops the agent with a message that names it.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { Catalogue, type Env, variable } from "../../lib/config/index.ts";
import {
  DEFAULT_FRESHNESS,
  type FreshnessPolicy,
  SVID_SECRET_NAME_SPEC,
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

/** The freshness variables: one declaration for the extension and the in-process client, so both rotate alike. */
const FRESHNESS_VARIABLES = [
  variable({
    name: "LAMBDA_SVID_REFRESH_INTERVAL",
    kind: "duration",
    default: DEFAULT_FRESHNESS.refreshIntervalMs,
    min: SECOND,
    max: 24 * HOUR,
    expected: "a duration from 1s to 24h, e.g. 1h",
    description:
      "re-read an SVID read longer ago than this (in the background; the held one keeps serving)",
  }),
  variable({
    name: "LAMBDA_SVID_REFRESH_THRESHOLD",
    kind: "duration",
    default: DEFAULT_FRESHNESS.refreshThresholdMs,
    min: 0,
    max: 24 * HOUR,
    expected: "a duration up to 24h, e.g. 6h",
    description: "re-read an SVID with less than this left of its validity",
  }),
] as const;

/**
 * The extension's variables, declared once: {@link loadAgentConfig} reads
 * only these, and `docs/configuration.md` is generated from them.
 *
 * @example
 * AGENT_CATALOGUE.spec("LAMBDA_SVID_PORT").description; // "port the proxy listens on at 127.0.0.1 ..."
 */
export const AGENT_CATALOGUE = new Catalogue(
  "agent",
  "The layer's Lambda extension (`layers/agent`): environment variables of the function that uses the layer",
  [
    SVID_SECRET_NAME_SPEC,
    variable({
      name: "LAMBDA_SVID_PORT",
      kind: "integer",
      default: DEFAULT_PORT,
      min: 0,
      max: 65_535,
      description:
        "port the proxy listens on at 127.0.0.1 (`0` picks a free port; the agent logs it)",
    }),
    variable({
      name: "LAMBDA_SVID_ROUTES",
      kind: "string",
      expected: "a JSON object of routes",
      whenUnset: "no routes",
      description:
        'the routes, as JSON: `{"<route>": {"url": "https://host[:port][/base]", "serverName": "...", "peer": {"id" | "ids" | "trustDomain": ...}}}`',
    }),
    variable({
      name: "LAMBDA_SVID_ROUTES_FILE",
      kind: "string",
      expected: "a readable JSON file of routes, unset when LAMBDA_SVID_ROUTES is set",
      whenUnset: "no routes",
      description:
        "the same JSON in a file; a relative path is taken from the function package (`LAMBDA_TASK_ROOT`). Not together with `LAMBDA_SVID_ROUTES`",
    }),
    variable({
      name: "LAMBDA_SVID_REQUIRE_TOKEN",
      kind: "boolean",
      default: true,
      description:
        "require `X-Lambda-Svid-Token: <AWS_SESSION_TOKEN>` on every proxied request (the SSRF guard); `false` only when nothing the function fetches can be steered by its callers",
    }),
    ...FRESHNESS_VARIABLES,
    variable({
      name: "LAMBDA_SVID_UPSTREAM_TIMEOUT",
      kind: "duration",
      default: 30 * SECOND,
      min: 100,
      max: 15 * 60 * SECOND,
      expected: "a duration from 100ms to 15m, e.g. 30s",
      description: "an upstream silent this long gets a 504",
    }),
    variable({
      name: "LAMBDA_SVID_MAX_CONNECTIONS",
      kind: "integer",
      default: DEFAULT_MAX_CONNECTIONS,
      min: 1,
      max: 1_024,
      description:
        "most upstream TLS connections per route; more concurrent requests wait for a free one",
    }),
    variable({
      name: "LAMBDA_SVID_SHUTDOWN_BUDGET",
      kind: "duration",
      default: 1_500,
      min: 0,
      max: 60 * SECOND,
      expected: "a duration up to 60s, e.g. 1500ms",
      description: "outside Lambda: time in-flight requests get to finish after SIGTERM or SIGINT",
    }),
    variable({
      name: "AWS_SESSION_TOKEN",
      kind: "string",
      secret: true,
      whenUnset: "refused while `LAMBDA_SVID_REQUIRE_TOKEN` is true",
      description:
        "set by Lambda: the function's session token, the value the token header must carry",
    }),
    variable({
      name: "LAMBDA_TASK_ROOT",
      kind: "string",
      whenUnset: "the working directory",
      description:
        "set by Lambda: the function package, which a relative `LAMBDA_SVID_ROUTES_FILE` is taken from",
    }),
  ],
);

/**
 * The in-process client's variables: the SVID secret's name and the
 * freshness rules, the same declarations the extension reads.
 *
 * @example
 * CLIENT_CATALOGUE.variables.map((v) => v.name); // ["LAMBDA_SVID_SECRET_NAME", "LAMBDA_SVID_REFRESH_INTERVAL", ...]
 */
export const CLIENT_CATALOGUE = new Catalogue(
  "in-process client",
  "The layer's in-process client (`@lambda-svid/agent`: `getSvid`, `createHttpsAgents`, `createDispatchers`)",
  [SVID_SECRET_NAME_SPEC, ...FRESHNESS_VARIABLES],
);

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
  const r = AGENT_CATALOGUE.reader(env);
  const requireToken = r.read("LAMBDA_SVID_REQUIRE_TOKEN");
  const token = requireToken ? r.read("AWS_SESSION_TOKEN") : undefined;
  if (requireToken && token === undefined) {
    throw r.refuse(
      "AWS_SESSION_TOKEN",
      undefined,
      "set, because LAMBDA_SVID_REQUIRE_TOKEN is true (set it to false to turn the check off)",
    );
  }
  return {
    secretName: r.read("LAMBDA_SVID_SECRET_NAME"),
    port: r.read("LAMBDA_SVID_PORT"),
    routes: routes(r, readFile),
    token,
    refreshIntervalMs: r.read("LAMBDA_SVID_REFRESH_INTERVAL"),
    refreshThresholdMs: r.read("LAMBDA_SVID_REFRESH_THRESHOLD"),
    upstreamTimeoutMs: r.read("LAMBDA_SVID_UPSTREAM_TIMEOUT"),
    maxSocketsPerRoute: r.read("LAMBDA_SVID_MAX_CONNECTIONS"),
    shutdownBudgetMs: r.read("LAMBDA_SVID_SHUTDOWN_BUDGET"),
  };
}

/** What the in-process client's SVID source is configured with. */
export interface ClientConfig extends FreshnessPolicy {
  secretName: string;
}

/**
 * Reads the in-process client's variables, by the extension's rules, so both rotate alike.
 *
 * @throws {ConfigError} naming the variable at fault.
 * @example
 * new SvidSource({ ...loadClientConfig(process.env) });
 */
export function loadClientConfig(env: Env): ClientConfig {
  const r = CLIENT_CATALOGUE.reader(env);
  return {
    secretName: r.read("LAMBDA_SVID_SECRET_NAME"),
    refreshIntervalMs: r.read("LAMBDA_SVID_REFRESH_INTERVAL"),
    refreshThresholdMs: r.read("LAMBDA_SVID_REFRESH_THRESHOLD"),
  };
}

function routes(
  r: ReturnType<typeof AGENT_CATALOGUE.reader>,
  readFile: (path: string) => string,
): Map<string, Route> {
  const inline = r.read("LAMBDA_SVID_ROUTES");
  const file = r.read("LAMBDA_SVID_ROUTES_FILE");
  if (inline !== undefined && file !== undefined) {
    throw r.refuse("LAMBDA_SVID_ROUTES_FILE", file, "unset when LAMBDA_SVID_ROUTES is set");
  }
  if (inline !== undefined) return parseRoutes(inline, "LAMBDA_SVID_ROUTES");
  if (file === undefined) return new Map();
  const path = isAbsolute(file) ? file : join(r.read("LAMBDA_TASK_ROOT") ?? process.cwd(), file);
  let text: string;
  try {
    text = readFile(path);
  } catch {
    throw r.refuse("LAMBDA_SVID_ROUTES_FILE", file, "a readable JSON file of routes");
  }
  return parseRoutes(text, "LAMBDA_SVID_ROUTES_FILE");
}
