import { afterEach, describe, expect, it } from "vitest";
import { send } from "../support/http.ts";
import { type AgentWorld, agentWorld, routesTo, startAgent } from "./agent-harness.ts";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function sidecar(w: AgentWorld, env: Record<string, string>) {
  const agent = await startAgent(w.account, { LAMBDA_SVID_ROUTES: routesTo(w.mesh), ...env });
  cleanup.push(
    () => w.mesh.close(),
    () => agent.stop(),
  );
  return agent;
}

describe("agent outside Lambda (no AWS_LAMBDA_RUNTIME_API) as a local sidecar", () => {
  it("with the token check turned off, forwards without the header; SIGTERM finishes in-flight requests and exits 0", async () => {
    const w = await agentWorld();
    const agent = await sidecar(w, { LAMBDA_SVID_REQUIRE_TOKEN: "false" });
    const port = await agent.port;
    const reply = await send(port, { path: "/db/plain" });
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe("hello /plain");

    const inFlight = send(port, { path: "/db/hold" });
    await w.mesh.holding();
    agent.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 50));
    w.mesh.release();
    expect((await inFlight).status).toBe(200);
    expect(await agent.exited).toBe(0);
    expect(agent.output()).toContain("SIGTERM: finishing in-flight requests");
  });

  it("requires the token by default", async () => {
    const w = await agentWorld();
    const agent = await sidecar(w, {});
    const port = await agent.port;
    expect((await send(port, { path: "/db/plain" })).status).toBe(403);
    const ok = await send(port, {
      path: "/db/plain",
      headers: { "x-lambda-svid-token": agent.token },
    });
    expect(ok.status).toBe(200);
  });

  it("stops with a message naming the variable when the token check is on but there is no session token", async () => {
    const w = await agentWorld();
    const agent = await sidecar(w, { AWS_SESSION_TOKEN: "" });
    expect(await agent.exited).toBe(1);
    expect(agent.output()).toContain(
      "lambda-svid: start failed: config: AWS_SESSION_TOKEN is invalid; expected set, because LAMBDA_SVID_REQUIRE_TOKEN is true",
    );
  });
});
