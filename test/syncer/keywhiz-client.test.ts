import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeywhizError, KeywhizReason } from "../../functions/syncer/errors.ts";
import { KeywhizClient } from "../../functions/syncer/keywhiz/client.ts";
import { parseX509Svid, type X509Svid } from "../../layers/spiffe/index.ts";
import { TestCa } from "../support/ca.ts";
import { KeywhizStandIn, keywhizServerCredentials } from "../support/keywhiz.ts";

describe("Keywhiz client over mTLS on loopback", () => {
  let keywhiz: KeywhizStandIn;
  let listening: Awaited<ReturnType<KeywhizStandIn["start"]>>;
  let caPem: string;
  let svid: X509Svid;

  beforeAll(async () => {
    const ca = await TestCa.root("example.org");
    const pem = await ca.svid("/prod/web");
    svid = parseX509Svid(pem.chainPem, pem.keyPem);
    const serverTls = await keywhizServerCredentials();
    caPem = serverTls.caPem;
    keywhiz = new KeywhizStandIn({ clientCaPem: ca.root.certPem, server: serverTls });
    listening = await keywhiz.start();
  });
  afterAll(() => listening.close());

  it("a server that does not answer in time is unavailable: asked again, then a typed error naming the request and the wait", async () => {
    keywhiz.inject({ kind: "delay", ms: 2_000 }, { endpoint: "GET /secrets", times: 2 });
    const client = new KeywhizClient({
      url: new URL(listening.url),
      caPem,
      svid,
      attempts: 2,
      baseDelayMs: 1,
      timeoutMs: 200,
    });
    try {
      const err = await client.listSecrets().then(
        () => expect.unreachable("listed"),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KeywhizError);
      expect((err as KeywhizError).reason).toBe(KeywhizReason.UNAVAILABLE);
      expect((err as KeywhizError).message).toBe(
        "keywhiz: server unavailable: GET /secrets: no response within 200 ms",
      );
      expect(client.requests).toBe(2);
    } finally {
      client.close();
      keywhiz.clearFaults();
    }
  });
});
