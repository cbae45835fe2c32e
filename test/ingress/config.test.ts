import { describe, expect, it } from "vitest";
import { loadIngressConfig } from "../../ingress/config.ts";
import { ConfigError } from "../../lib/config/index.ts";
import { thrown } from "../support/thrown.ts";

const FILES = {
  LAMBDA_SVID_INGRESS_ROUTES_FILE: "/etc/ingress/routes.yaml",
  LAMBDA_SVID_INGRESS_SVID_CERT_FILE: "/run/svid/cert.pem",
  LAMBDA_SVID_INGRESS_SVID_KEY_FILE: "/run/svid/key.pem",
  LAMBDA_SVID_INGRESS_SVID_BUNDLE_FILE: "/run/svid/bundle.pem",
};

describe("loadIngressConfig", () => {
  it("has the declared defaults", () => {
    expect(loadIngressConfig(FILES)).toEqual({
      routesFile: "/etc/ingress/routes.yaml",
      host: "0.0.0.0",
      port: 8443,
      healthHost: "127.0.0.1",
      healthPort: 8081,
      svid: {
        source: "files",
        certFile: "/run/svid/cert.pem",
        keyFile: "/run/svid/key.pem",
        bundleFile: "/run/svid/bundle.pem",
        pollIntervalMs: 5_000,
      },
      bodyLimitBytes: undefined,
      drainMs: 10_000,
    });
  });

  it("reads the SVID secret's name when the source is the secret", () => {
    const c = loadIngressConfig({
      LAMBDA_SVID_INGRESS_ROUTES_FILE: "r.yaml",
      LAMBDA_SVID_INGRESS_SVID_SOURCE: "secret",
      LAMBDA_SVID_SECRET_NAME: "team/svid",
      LAMBDA_SVID_INGRESS_SVID_POLL: "30s",
    });
    expect(c.svid).toEqual({ source: "secret", secretName: "team/svid", checkIntervalMs: 30_000 });
  });

  it.each([
    [
      { ...FILES, LAMBDA_SVID_INGRESS_SVID_KEY_FILE: "" },
      'config: LAMBDA_SVID_INGRESS_SVID_KEY_FILE is ""; expected a PEM file path, because LAMBDA_SVID_INGRESS_SVID_SOURCE is files',
    ],
    [
      { ...FILES, LAMBDA_SVID_INGRESS_HEALTH_PORT: "8443" },
      'config: LAMBDA_SVID_INGRESS_HEALTH_PORT is "8443"; expected a port other than LAMBDA_SVID_INGRESS_PORT',
    ],
    [
      { ...FILES, LAMBDA_SVID_INGRESS_ROUTES_FILE: " " },
      'config: LAMBDA_SVID_INGRESS_ROUTES_FILE is ""; expected the path of the route file',
    ],
    [
      { ...FILES, LAMBDA_SVID_INGRESS_DRAIN: "10m" },
      'config: LAMBDA_SVID_INGRESS_DRAIN is "10m"; expected a duration up to 5m, e.g. 10s',
    ],
  ])("refuses a bad value, naming it: %j", (env, message) => {
    expect(thrown(() => loadIngressConfig(env), ConfigError).message).toBe(message);
  });
});
