import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { ExtensionsApi } from "../../layers/agent/extensions-api.ts";
import { AgentError, AgentReason } from "../../layers/agent/index.ts";

/** A loopback server answering every request with `status`; returns its host:port. */
async function answering(status: number): Promise<{ runtimeApi: string; close: () => void }> {
  const server = http.createServer((_req, res) => res.writeHead(status).end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { runtimeApi: `127.0.0.1:${port}`, close: () => server.close() };
}

async function registerError(runtimeApi: string): Promise<AgentError> {
  const err = await ExtensionsApi.register(runtimeApi, "lambda-svid").then(
    () => expect.unreachable("registered"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentError);
  expect((err as AgentError).reason).toBe(AgentReason.EXTENSIONS_API);
  return err as AgentError;
}

describe("Lambda Extensions API client", () => {
  it("a refused status names the request and the status", async () => {
    const api = await answering(500);
    try {
      expect((await registerError(api.runtimeApi)).message).toBe(
        "agent: Lambda Extensions API request failed: POST /2020-01-01/extension/register: HTTP 500",
      );
    } finally {
      api.close();
    }
  });

  it("a runtime API that is not listening names the socket error, which holds no secret", async () => {
    const api = await answering(200);
    api.close();
    const err = await registerError(api.runtimeApi);
    expect(err.message).toBe(
      `agent: Lambda Extensions API request failed: POST /2020-01-01/extension/register: connect ECONNREFUSED ${api.runtimeApi}`,
    );
    expect((err.cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });
});
