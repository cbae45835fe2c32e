import { describe, expect, it } from "vitest";
import { DEFAULT_PORT, loadAgentConfig } from "../../layers/agent/index.ts";
import { parseSpiffeId } from "../../layers/spiffe/index.ts";
import { ConfigError } from "../../lib/config/index.ts";
import { thrown } from "../support/thrown.ts";

const TOKEN = { AWS_SESSION_TOKEN: "session-token-value" };
const DB = { url: "https://db.internal:8443/base/", peer: { id: "spiffe://example.org/prod/db" } };

describe("loadAgentConfig", () => {
  it("has the documented defaults", () => {
    const config = loadAgentConfig(TOKEN);
    expect(config).toEqual({
      secretName: "lambda-svid/svid",
      port: DEFAULT_PORT,
      routes: new Map(),
      token: "session-token-value",
      refreshIntervalMs: 3_600_000,
      refreshThresholdMs: 6 * 3_600_000,
      upstreamTimeoutMs: 30_000,
      maxSocketsPerRoute: 16,
      shutdownBudgetMs: 1_500,
    });
    expect(DEFAULT_PORT).toBe(2777);
  });

  it("reads routes with each kind of expected peer", () => {
    const config = loadAgentConfig({
      ...TOKEN,
      LAMBDA_SVID_ROUTES: JSON.stringify({
        db: DB,
        pay: {
          url: "https://10.0.0.5",
          serverName: "pay.internal",
          peer: { ids: ["spiffe://example.org/a", "spiffe://example.org/b"] },
        },
        any: { url: "https://[::1]:9443", peer: { trustDomain: "partner.example" } },
      }),
    });
    const db = config.routes.get("db");
    expect(db?.serverName).toBe("db.internal");
    expect(db?.url.pathname).toBe("/base/");
    expect(() => db?.authorize(parseSpiffeId("spiffe://example.org/prod/db"))).not.toThrow();
    expect(() => db?.authorize(parseSpiffeId("spiffe://example.org/prod/x"))).toThrow();
    const pay = config.routes.get("pay");
    expect(pay?.serverName).toBe("pay.internal");
    expect(() => pay?.authorize(parseSpiffeId("spiffe://example.org/b"))).not.toThrow();
    const any = config.routes.get("any");
    expect(() => any?.authorize(parseSpiffeId("spiffe://partner.example/x"))).not.toThrow();
    expect(() => any?.authorize(parseSpiffeId("spiffe://example.org/x"))).toThrow();
  });

  it("reads a routes file relative to the function package", () => {
    const read: string[] = [];
    const config = loadAgentConfig(
      { ...TOKEN, LAMBDA_SVID_ROUTES_FILE: "routes.json", LAMBDA_TASK_ROOT: "/var/task" },
      (path) => {
        read.push(path);
        return JSON.stringify({ db: DB });
      },
    );
    expect(read).toEqual(["/var/task/routes.json"]);
    expect([...config.routes.keys()]).toEqual(["db"]);
  });

  it("turns the token check off only when told", () => {
    expect(loadAgentConfig({ LAMBDA_SVID_REQUIRE_TOKEN: "false" }).token).toBeUndefined();
    expect(loadAgentConfig({ ...TOKEN, LAMBDA_SVID_REQUIRE_TOKEN: "false" }).token).toBeUndefined();
  });

  it.each([
    {
      env: {},
      message:
        "config: AWS_SESSION_TOKEN is invalid; expected set, because LAMBDA_SVID_REQUIRE_TOKEN is true (set it to false to turn the check off)",
    },
    {
      env: { ...TOKEN, LAMBDA_SVID_PORT: "70000" },
      message: 'config: LAMBDA_SVID_PORT is "70000"; expected an integer from 0 to 65535',
    },
    {
      env: { ...TOKEN, LAMBDA_SVID_REQUIRE_TOKEN: "no" },
      message: 'config: LAMBDA_SVID_REQUIRE_TOKEN is "no"; expected true or false',
    },
    {
      env: { ...TOKEN, LAMBDA_SVID_ROUTES: "{" },
      message: "config: LAMBDA_SVID_ROUTES is invalid; expected a JSON object of routes",
    },
    {
      env: { ...TOKEN, LAMBDA_SVID_ROUTES: JSON.stringify({ "a/b": DB }) },
      message:
        'config: LAMBDA_SVID_ROUTES is invalid; expected route "a/b": name of letters, digits, dots, dashes, underscores',
    },
    {
      env: {
        ...TOKEN,
        LAMBDA_SVID_ROUTES: JSON.stringify({ db: { ...DB, peer: { id: "https://x" } } }),
      },
      message:
        'config: LAMBDA_SVID_ROUTES is invalid; expected route "db": peer: spiffeid: scheme must be "spiffe://": "https://x"',
    },
    {
      env: { ...TOKEN, LAMBDA_SVID_ROUTES: JSON.stringify({ db: { url: DB.url, peer: {} } }) },
      message:
        'config: LAMBDA_SVID_ROUTES is invalid; expected route "db": peer {"id": "spiffe://..."}, {"ids": ["spiffe://...", ...]} or {"trustDomain": "..."}',
    },
    {
      env: { ...TOKEN, LAMBDA_SVID_ROUTES: "{}", LAMBDA_SVID_ROUTES_FILE: "r.json" },
      message:
        'config: LAMBDA_SVID_ROUTES_FILE is "r.json"; expected unset when LAMBDA_SVID_ROUTES is set',
    },
    {
      env: { ...TOKEN, LAMBDA_SVID_REFRESH_INTERVAL: "soon" },
      message:
        'config: LAMBDA_SVID_REFRESH_INTERVAL is "soon"; expected a duration from 1s to 24h, e.g. 1h',
    },
  ])("rejects $message", ({ env, message }) => {
    const err = thrown(() => loadAgentConfig(env), ConfigError);
    expect(err.message).toBe(message);
  });

  it("never echoes the session token", () => {
    const err = thrown(() => loadAgentConfig({ ...TOKEN, LAMBDA_SVID_PORT: "x" }), ConfigError);
    expect(err.message).not.toContain(TOKEN.AWS_SESSION_TOKEN);
  });
});
