/**
 * The ingress process's configuration: `LAMBDA_SVID_INGRESS_*` environment
 * variables (and the shared `LAMBDA_SVID_SECRET_NAME`), all read here, once,
 * at start. A bad value stops the process with a message naming the variable.
 */

import { readSvidSecretName } from "../layers/svid-secret/index.ts";
import { ConfigError, type Env, EnvReader } from "../lib/config/index.ts";

/** mTLS port unless `LAMBDA_SVID_INGRESS_PORT` says otherwise. */
export const DEFAULT_PORT = 8443;
/** Health and metrics port unless `LAMBDA_SVID_INGRESS_HEALTH_PORT` says otherwise. */
export const DEFAULT_HEALTH_PORT = 8081;
/**
 * Largest request body the back buffers to sign, unless
 * `LAMBDA_SVID_INGRESS_BODY_LIMIT` says otherwise: API Gateway's 10 MB payload
 * limit. Larger bodies get a 413; S3 bodies are streamed unsigned instead.
 */
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;

const SECOND = 1_000;

/** How long requests in flight may finish on SIGTERM unless `LAMBDA_SVID_INGRESS_DRAIN` says otherwise. */
export const DEFAULT_DRAIN_MS = 10 * SECOND;

/** The ingress's own SVID: PEM files a SPIFFE helper writes, or the SVID secret. */
export type SvidConfig =
  | {
      source: "files";
      certFile: string;
      keyFile: string;
      bundleFile: string;
      pollIntervalMs: number;
    }
  | { source: "secret"; secretName: string; checkIntervalMs: number };

export interface IngressConfig {
  routesFile: string;
  host: string;
  port: number;
  healthHost: string;
  healthPort: number;
  svid: SvidConfig;
  bodyLimitBytes: number;
  /** How long requests in flight may finish on SIGTERM. */
  drainMs: number;
}

/**
 * Reads and validates the ingress's configuration from `env`.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `LAMBDA_SVID_INGRESS_ROUTES_FILE` | (required) | the route file, YAML or JSON |
 * | `LAMBDA_SVID_INGRESS_HOST` | `0.0.0.0` | mTLS listen address |
 * | `LAMBDA_SVID_INGRESS_PORT` | `8443` | mTLS port |
 * | `LAMBDA_SVID_INGRESS_HEALTH_HOST` | `127.0.0.1` | health and metrics listen address |
 * | `LAMBDA_SVID_INGRESS_HEALTH_PORT` | `8081` | health and metrics port |
 * | `LAMBDA_SVID_INGRESS_SVID_SOURCE` | `files` | `files` (a SPIFFE helper's PEM files) or `secret` (Secrets Manager) |
 * | `LAMBDA_SVID_INGRESS_SVID_CERT_FILE` | (required for files) | SVID chain PEM, leaf first |
 * | `LAMBDA_SVID_INGRESS_SVID_KEY_FILE` | (required for files) | the leaf's PKCS#8 key PEM |
 * | `LAMBDA_SVID_INGRESS_SVID_BUNDLE_FILE` | (required for files) | roots of the SVID's trust domain, PEM |
 * | `LAMBDA_SVID_INGRESS_SVID_POLL` | `5s` | how often the files are re-read, or the secret's freshness checked |
 * | `LAMBDA_SVID_SECRET_NAME` | `lambda-svid/svid` | the SVID secret, for `secret` |
 * | `LAMBDA_SVID_INGRESS_BODY_LIMIT` | `10485760` | bytes of a request body buffered for signing; more gets 413 |
 * | `LAMBDA_SVID_INGRESS_DRAIN` | `10s` | how long requests in flight may finish on SIGTERM |
 *
 * @throws {ConfigError} naming the variable at fault.
 * @example
 * const config = loadIngressConfig(process.env);
 */
export function loadIngressConfig(env: Env): IngressConfig {
  const r = new EnvReader(env);
  const pollMs = r.duration(
    "LAMBDA_SVID_INGRESS_SVID_POLL",
    5 * SECOND,
    100,
    3_600 * SECOND,
    "a duration from 100ms to 1h, e.g. 5s",
  );
  const source = r.oneOf("LAMBDA_SVID_INGRESS_SVID_SOURCE", ["files", "secret"], "files");
  const file = (name: string) =>
    r.required(name, "a PEM file path, because LAMBDA_SVID_INGRESS_SVID_SOURCE is files");
  const svid: SvidConfig =
    source === "files"
      ? {
          source,
          certFile: file("LAMBDA_SVID_INGRESS_SVID_CERT_FILE"),
          keyFile: file("LAMBDA_SVID_INGRESS_SVID_KEY_FILE"),
          bundleFile: file("LAMBDA_SVID_INGRESS_SVID_BUNDLE_FILE"),
          pollIntervalMs: pollMs,
        }
      : { source, secretName: readSvidSecretName(r), checkIntervalMs: pollMs };
  const config: IngressConfig = {
    routesFile: r.required("LAMBDA_SVID_INGRESS_ROUTES_FILE", "the path of the route file"),
    host: r.string("LAMBDA_SVID_INGRESS_HOST", "0.0.0.0"),
    port: r.integer("LAMBDA_SVID_INGRESS_PORT", DEFAULT_PORT, 0, 65_535),
    healthHost: r.string("LAMBDA_SVID_INGRESS_HEALTH_HOST", "127.0.0.1"),
    healthPort: r.integer("LAMBDA_SVID_INGRESS_HEALTH_PORT", DEFAULT_HEALTH_PORT, 0, 65_535),
    svid,
    bodyLimitBytes: r.integer("LAMBDA_SVID_INGRESS_BODY_LIMIT", DEFAULT_BODY_LIMIT, 0, 2 ** 31),
    drainMs: r.duration(
      "LAMBDA_SVID_INGRESS_DRAIN",
      DEFAULT_DRAIN_MS,
      0,
      300 * SECOND,
      "a duration up to 5m, e.g. 10s",
    ),
  };
  if (config.port !== 0 && config.port === config.healthPort) {
    throw new ConfigError(
      "LAMBDA_SVID_INGRESS_HEALTH_PORT",
      "a port other than LAMBDA_SVID_INGRESS_PORT",
      String(config.healthPort),
    );
  }
  return config;
}
