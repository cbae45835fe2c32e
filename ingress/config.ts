/**
 * The ingress process's configuration: `LAMBDA_SVID_INGRESS_*` environment
 * variables (and the shared `LAMBDA_SVID_SECRET_NAME`), all read here, once,
 * at start. A bad value stops the process with a message naming the variable.
 */

import { SVID_SECRET_NAME_SPEC } from "../layers/svid-secret/index.ts";
import { Catalogue, type Env, variable } from "../lib/config/index.ts";

/** mTLS port unless `LAMBDA_SVID_INGRESS_PORT` says otherwise. */
export const DEFAULT_PORT = 8443;
/** Health and metrics port unless `LAMBDA_SVID_INGRESS_HEALTH_PORT` says otherwise. */
export const DEFAULT_HEALTH_PORT = 8081;
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
  /**
   * Largest request body the back buffers to sign, for every route; unset, each
   * backend kind's own limit (6 MiB for `lambda`, 10 MiB for `execute-api`).
   */
  bodyLimitBytes: number | undefined;
  /** How long requests in flight may finish on SIGTERM. */
  drainMs: number;
}

const FILES_ONLY = "required when LAMBDA_SVID_INGRESS_SVID_SOURCE is files";
const PEM_FILE = "a PEM file path, because LAMBDA_SVID_INGRESS_SVID_SOURCE is files";

/**
 * The ingress's variables, declared once: {@link loadIngressConfig} reads
 * only these, and `docs/configuration.md` is generated from them.
 *
 * @example
 * INGRESS_CATALOGUE.spec("LAMBDA_SVID_INGRESS_PORT").default; // 8443
 */
export const INGRESS_CATALOGUE = new Catalogue(
  "ingress",
  "The mesh → AWS ingress (`ingress/`), a long-running process in the destination team's scope",
  [
    variable({
      name: "LAMBDA_SVID_INGRESS_SVID_POLL",
      kind: "duration",
      default: 5 * SECOND,
      min: 100,
      max: 3_600 * SECOND,
      expected: "a duration from 100ms to 1h, e.g. 5s",
      description: "how often the SVID files are re-read, or the SVID secret's freshness checked",
    }),
    variable({
      name: "LAMBDA_SVID_INGRESS_SVID_SOURCE",
      kind: "oneOf",
      allowed: ["files", "secret"],
      default: "files",
      description:
        "where the ingress's own SVID comes from: a SPIFFE helper's PEM files, or the SVID secret in Secrets Manager",
    }),
    variable({
      name: "LAMBDA_SVID_INGRESS_SVID_CERT_FILE",
      kind: "string",
      expected: PEM_FILE,
      whenUnset: FILES_ONLY,
      description: "the SVID chain, PEM, leaf first",
    }),
    variable({
      name: "LAMBDA_SVID_INGRESS_SVID_KEY_FILE",
      kind: "string",
      expected: PEM_FILE,
      whenUnset: FILES_ONLY,
      description: "the leaf's PKCS#8 private key, PEM",
    }),
    variable({
      name: "LAMBDA_SVID_INGRESS_SVID_BUNDLE_FILE",
      kind: "string",
      expected: PEM_FILE,
      whenUnset: FILES_ONLY,
      description: "the roots of the SVID's trust domain, PEM",
    }),
    SVID_SECRET_NAME_SPEC,
    variable({
      name: "LAMBDA_SVID_INGRESS_ROUTES_FILE",
      kind: "required",
      expected: "the path of the route file",
      description: "the route file, YAML or JSON",
    }),
    variable({
      name: "LAMBDA_SVID_INGRESS_HOST",
      kind: "string",
      default: "0.0.0.0",
      description: "the mTLS listen address",
    }),
    variable({
      name: "LAMBDA_SVID_INGRESS_PORT",
      kind: "integer",
      default: DEFAULT_PORT,
      min: 0,
      max: 65_535,
      description: "the mTLS port",
    }),
    variable({
      name: "LAMBDA_SVID_INGRESS_HEALTH_HOST",
      kind: "string",
      default: "127.0.0.1",
      description: "the health and metrics listen address",
    }),
    variable({
      name: "LAMBDA_SVID_INGRESS_HEALTH_PORT",
      kind: "integer",
      default: DEFAULT_HEALTH_PORT,
      min: 0,
      max: 65_535,
      description: "the health and metrics port; not the mTLS port",
    }),
    variable({
      name: "LAMBDA_SVID_INGRESS_BODY_LIMIT",
      kind: "integer",
      default: {
        derived:
          "the backend's own limit: 6291456 (6 MiB, Lambda's synchronous payload) for lambda routes, 10485760 (10 MiB, API Gateway's payload) for execute-api",
      },
      min: 0,
      max: 2 ** 31,
      description: "bytes of a request body buffered for signing; a larger body gets a 413",
    }),
    variable({
      name: "LAMBDA_SVID_INGRESS_DRAIN",
      kind: "duration",
      default: DEFAULT_DRAIN_MS,
      min: 0,
      max: 300 * SECOND,
      expected: "a duration up to 5m, e.g. 10s",
      description: "how long requests in flight may finish on SIGTERM",
    }),
  ],
);

/**
 * Reads and validates the ingress's configuration from `env`; the variables,
 * defaults and ranges are {@link INGRESS_CATALOGUE}'s (`docs/configuration.md`).
 *
 * @throws {ConfigError} naming the variable at fault.
 * @example
 * const config = loadIngressConfig(process.env);
 */
export function loadIngressConfig(env: Env): IngressConfig {
  const r = INGRESS_CATALOGUE.reader(env);
  const pollMs = r.read("LAMBDA_SVID_INGRESS_SVID_POLL");
  const source = r.read("LAMBDA_SVID_INGRESS_SVID_SOURCE");
  const file = (
    name:
      | "LAMBDA_SVID_INGRESS_SVID_CERT_FILE"
      | "LAMBDA_SVID_INGRESS_SVID_KEY_FILE"
      | "LAMBDA_SVID_INGRESS_SVID_BUNDLE_FILE",
  ) => {
    const path = r.read(name);
    if (path === undefined) throw r.refuse(name, "");
    return path;
  };
  const svid: SvidConfig =
    source === "files"
      ? {
          source,
          certFile: file("LAMBDA_SVID_INGRESS_SVID_CERT_FILE"),
          keyFile: file("LAMBDA_SVID_INGRESS_SVID_KEY_FILE"),
          bundleFile: file("LAMBDA_SVID_INGRESS_SVID_BUNDLE_FILE"),
          pollIntervalMs: pollMs,
        }
      : { source, secretName: r.read("LAMBDA_SVID_SECRET_NAME"), checkIntervalMs: pollMs };
  const config: IngressConfig = {
    routesFile: r.read("LAMBDA_SVID_INGRESS_ROUTES_FILE"),
    host: r.read("LAMBDA_SVID_INGRESS_HOST"),
    port: r.read("LAMBDA_SVID_INGRESS_PORT"),
    healthHost: r.read("LAMBDA_SVID_INGRESS_HEALTH_HOST"),
    healthPort: r.read("LAMBDA_SVID_INGRESS_HEALTH_PORT"),
    svid,
    bodyLimitBytes: r.readIfSet("LAMBDA_SVID_INGRESS_BODY_LIMIT"),
    drainMs: r.read("LAMBDA_SVID_INGRESS_DRAIN"),
  };
  if (config.port !== 0 && config.port === config.healthPort) {
    throw r.refuse(
      "LAMBDA_SVID_INGRESS_HEALTH_PORT",
      String(config.healthPort),
      "a port other than LAMBDA_SVID_INGRESS_PORT",
    );
  }
  return config;
}
