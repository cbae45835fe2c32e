import { createHmac, randomBytes } from "node:crypto";
import * as https from "node:https";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { TestCa, type TestSvid } from "./ca.ts";
import {
  type KeywhizListening,
  KeywhizStandIn,
  type KeywhizStandInOptions,
  keywhizServerCredentials,
} from "./keywhiz.ts";

const WEB = "spiffe://example.org/prod/web";
const API = "spiffe://example.org/prod/api";
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

interface Reply {
  status: number;
  body: Buffer;
}

let ca: TestCa;
let web: TestSvid;
let api: TestSvid;
let foreign: TestSvid;
let serverTls: { certPem: string; keyPem: string; caPem: string };

beforeAll(async () => {
  ca = await TestCa.root("example.org");
  web = await ca.svid("/prod/web");
  api = await ca.svid("/prod/api");
  foreign = await (await TestCa.root("example.org")).svid("/prod/web");
  serverTls = await keywhizServerCredentials();
});

let keywhiz: KeywhizStandIn;
let listening: KeywhizListening | undefined;

afterEach(async () => {
  await listening?.close();
  listening = undefined;
});

async function start(opts: Partial<KeywhizStandInOptions> = {}): Promise<KeywhizStandIn> {
  keywhiz = new KeywhizStandIn({ clientCaPem: ca.root.certPem, server: serverTls, ...opts });
  listening = await keywhiz.start();
  return keywhiz;
}

/** One request over mTLS with `client` as the client certificate (none when `null`). */
function call(
  client: TestSvid | null,
  method: string,
  path: string,
  body?: string,
  agent: https.Agent | false = false,
): Promise<Reply> {
  if (listening === undefined) throw new Error("stand-in not started");
  const url = new URL(path, listening.url);
  return new Promise((done, fail) => {
    const req = https.request(
      url,
      {
        method,
        agent,
        ca: serverTls.caPem,
        ...(client === null ? {} : { cert: client.chainPem, key: client.keyPem }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", fail);
        res.on("end", () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", fail);
    req.end(body);
  });
}

const json = (reply: Reply): unknown => JSON.parse(reply.body.toString("utf8"));
const list = (client: TestSvid | null = web) => call(client, "GET", "/secrets");
const batch = (names: string[], client: TestSvid = web) =>
  call(client, "POST", "/batchsecret", JSON.stringify({ secrets: names }));
const one = (name: string, client: TestSvid = web) =>
  call(client, "GET", `/secret/${encodeURIComponent(name)}`);

function names(reply: Reply): string[] {
  return (json(reply) as { name: string }[]).map((s) => s.name);
}

describe("identity and ACL", () => {
  it("lists only the secrets granted to the client's SPIFFE ID, as real servers do: no content, length 0", async () => {
    await start();
    keywhiz.setSecret("db", "pw");
    keywhiz.setSecret("api-key", "k");
    keywhiz.setSecret("other", "o");
    keywhiz.grant(WEB, "db", "api-key", "not-created-yet");
    keywhiz.grant(API, "other");

    const reply = await list();
    expect(reply.status).toBe(200);
    expect(names(reply).sort()).toEqual(["api-key", "db"]);
    for (const s of json(reply) as Record<string, unknown>[])
      expect(s).toMatchObject({ secret: "", secretLength: 0 });
    expect(names(await list(api))).toEqual(["other"]);
    expect(keywhiz.log.map((e) => [e.clientId, e.endpoint, e.status, e.secretBytes])).toEqual([
      [WEB, "GET /secrets", 200, 0],
      [API, "GET /secrets", 200, 0],
    ]);
  });

  it("answers 403 on every endpoint to a client without an ACL entry", async () => {
    await start();
    keywhiz.setSecret("db", "pw");
    keywhiz.grant(WEB, "db");

    expect((await list(api)).status).toBe(403);
    expect((await batch(["db"], api)).status).toBe(403);
    expect((await one("db", api)).status).toBe(403);
    expect(keywhiz.log.map((e) => [e.clientId, e.status, e.secretBytes])).toEqual([
      [API, 403, 0],
      [API, 403, 0],
      [API, 403, 0],
    ]);
  });

  it("knows a client granted nothing (empty listing) and forgets a fully revoked one", async () => {
    await start();
    keywhiz.setSecret("db", "pw");
    keywhiz.grant(WEB);
    expect(json(await list())).toEqual([]);

    keywhiz.grant(WEB, "db");
    keywhiz.revoke(WEB, "db");
    expect(json(await list())).toEqual([]);
    expect((await one("db")).status).toBe(403);

    keywhiz.revoke(WEB);
    expect((await list()).status).toBe(403);
  });

  it("identifies no one from a certificate without exactly one URI SAN", async () => {
    await start();
    const twoIds = await ca.leaf("/prod/web", { uris: [WEB, API] });
    keywhiz.grant(WEB);
    keywhiz.grant(API);

    const reply = await call(
      { chainPem: twoIds.certPem, keyPem: twoIds.keyPem, leaf: twoIds.cert },
      "GET",
      "/secrets",
    );
    expect(reply.status).toBe(403);
    expect(keywhiz.log[0]?.clientId).toBeUndefined();
  });
});

describe("TLS", () => {
  it("refuses a client without a certificate during the handshake", async () => {
    await start();
    keywhiz.grant(WEB);
    await expect(list(null)).rejects.toThrow();
    await vi.waitFor(() =>
      expect(keywhiz.tlsRejections).toEqual(["ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE"]),
    );
    expect(keywhiz.requests()).toBe(0);
  });

  it("refuses a client certificate from another CA during the handshake", async () => {
    await start();
    keywhiz.grant(WEB);
    await expect(list(foreign)).rejects.toMatchObject({ code: "ECONNRESET" });
    await vi.waitFor(() =>
      expect(keywhiz.tlsRejections).toEqual(["UNABLE_TO_VERIFY_LEAF_SIGNATURE"]),
    );
    expect(keywhiz.requests()).toBe(0);
  });

  it("presents a localhost server certificate that a web-PKI client verifies", async () => {
    await start();
    expect(listening?.url).toMatch(/^https:\/\/localhost:\d+$/);
    const wrongCa = await keywhizServerCredentials();
    const reply = new Promise((done, fail) => {
      https
        .get(
          `${listening?.url}/secrets`,
          { ca: wrongCa.caPem, cert: web.chainPem, key: web.keyPem, agent: false },
          done,
        )
        .on("error", fail);
    });
    await expect(reply).rejects.toMatchObject({ code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
  });
});

describe("content", () => {
  it("round-trips binary content byte-identical through batch and single fetch", async () => {
    await start();
    const binary = Buffer.concat([
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      randomBytes(4096),
    ]);
    const name = "tls key/v2 é";
    keywhiz.setSecret(name, binary);
    keywhiz.setSecret("text", "plain text\n");
    keywhiz.grant(WEB, name, "text");

    const fetched = json(await batch([name, "text"])) as {
      name: string;
      secret: string;
      secretLength: number;
    }[];
    expect(fetched.map((s) => s.name)).toEqual([name, "text"]);
    expect(Buffer.from(fetched[0]?.secret ?? "", "base64").equals(binary)).toBe(true);
    expect(fetched[0]?.secretLength).toBe(binary.length);
    expect(Buffer.from(fetched[1]?.secret ?? "", "base64").toString()).toBe("plain text\n");

    const single = json(await one(name)) as { name: string; secret: string };
    expect(single.name).toBe(name);
    expect(Buffer.from(single.secret, "base64").equals(binary)).toBe(true);
    expect(keywhiz.secretBytesSent("POST /batchsecret")).toBe(binary.length + 11);
    expect(keywhiz.secretBytesSent("GET /secret")).toBe(binary.length);
    expect(keywhiz.log[1]?.path).toBe(`/secret/${encodeURIComponent(name)}`);
  });

  it("serves the newer field set: an HMAC-SHA256 checksum under the server key, dates, attributes", async () => {
    const key = randomBytes(32);
    let clock = new Date("2026-01-01T00:00:00.000Z");
    await start({ checksumKey: key, now: () => clock });
    keywhiz.setSecret("db", "v1", {
      mode: "0400",
      owner: "app",
      group: "app",
      metadata: { rotation: "90d" },
      description: "database password",
    });
    keywhiz.grant(WEB, "db");

    expect(json(await list())).toEqual([
      {
        name: "db",
        secret: "",
        secretLength: 0,
        checksum: createHmac("sha256", key).update("v1").digest("hex"),
        creationDate: "2026-01-01T00:00:00.000Z",
        updateDate: "2026-01-01T00:00:00.000Z",
        mode: "0400",
        owner: "app",
        group: "app",
        metadata: { rotation: "90d" },
        description: "database password",
      },
    ]);

    clock = new Date("2026-02-01T00:00:00.000Z");
    keywhiz.setSecret("db", "v2!");
    expect(json(await list())).toEqual([
      {
        name: "db",
        secret: "",
        secretLength: 0,
        checksum: keywhiz.checksumOf(Buffer.from("v2!")),
        creationDate: "2026-01-01T00:00:00.000Z",
        updateDate: "2026-02-01T00:00:00.000Z",
        metadata: {},
      },
    ]);
    expect(keywhiz.checksumOf(Buffer.from("v2!"))).toBe(
      createHmac("sha256", key).update("v2!").digest("hex"),
    );
  });

  it("serves the older field set (isVersioned, neither checksum nor updateDate) and switches at runtime", async () => {
    await start({ fieldSet: "old" });
    keywhiz.setSecret("db", "pw", { updateDate: new Date("2025-06-01T12:00:00.000Z") });
    keywhiz.grant(WEB, "db");

    const [listed] = json(await list()) as Record<string, unknown>[];
    expect(listed).toMatchObject({ name: "db", isVersioned: false, secretLength: 0 });
    expect(listed).not.toHaveProperty("checksum");
    expect(listed).not.toHaveProperty("updateDate");
    const [fetched] = json(await batch(["db"])) as Record<string, unknown>[];
    expect(fetched).toMatchObject({ isVersioned: false, secret: "cHc", secretLength: 2 });
    expect(fetched).not.toHaveProperty("checksum");
    expect(fetched).not.toHaveProperty("updateDate");

    keywhiz.fieldSet = "new";
    const single = json(await one("db")) as Record<string, unknown>;
    expect(single.checksum).toBe(keywhiz.checksumOf(Buffer.from("pw")));
    expect(single.updateDate).toBe("2025-06-01T12:00:00.000Z");
    expect(single).not.toHaveProperty("isVersioned");
  });

  it("sends content without base64 padding, as real servers do, or with it when asked", async () => {
    await start();
    keywhiz.setSecret("one", "a");
    keywhiz.setSecret("two", "ab");
    keywhiz.setSecret("three", "abc");
    keywhiz.grant(WEB, "one", "two", "three");
    const secrets = () =>
      batch(["one", "two", "three"]).then((r) =>
        (json(r) as { secret: string }[]).map((s) => s.secret),
      );
    expect(await secrets()).toEqual(["YQ", "YWI", "YWJj"]);
    keywhiz.padding = true;
    expect(await secrets()).toEqual(["YQ==", "YWI=", "YWJj"]);
  });

  it.each([
    ["not-base64", { secret: "@@ not base64 @@", secretLength: 5 }],
    ["wrong-length", { secret: "YWxwaGE", secretLength: 6 }],
    ["empty", { secret: "", secretLength: 0 }],
  ] as const)(
    "serves a secret stored %s broken on every fetch, the others intact",
    async (malformed, served) => {
      await start();
      keywhiz.setSecret("a", "alpha", { malformed });
      keywhiz.setSecret("b", "bravo");
      keywhiz.grant(WEB, "a", "b");
      for (let i = 0; i < 2; i++) {
        const fetched = json(await batch(["a", "b"])) as Record<string, unknown>[];
        expect(fetched[0]).toMatchObject({ name: "a", ...served });
        expect(fetched[1]).toMatchObject({ name: "b", secret: "YnJhdm8", secretLength: 5 });
        expect(json(await one("a"))).toMatchObject(served);
      }
      expect((json(await list()) as { name: string }[]).map((s) => s.name).sort()).toEqual([
        "a",
        "b",
      ]);
    },
  );

  it("serves the API under a base path, switchable at runtime, and nothing outside it", async () => {
    await start({ basePath: "/keywhiz/" });
    keywhiz.setSecret("db", "pw");
    keywhiz.grant(WEB, "db");
    expect(listening?.url).toMatch(/^https:\/\/localhost:\d+\/keywhiz$/);
    expect(names(await call(web, "GET", "/keywhiz/secrets"))).toEqual(["db"]);
    expect((await call(web, "GET", "/keywhiz/secret/db")).status).toBe(200);
    expect((await call(web, "GET", "/secrets")).status).toBe(404);
    expect((await call(web, "GET", "/keywhizsecrets")).status).toBe(404);
    keywhiz.basePath = "";
    expect(keywhiz.url).toBe(listening?.url.replace(/\/keywhiz$/, ""));
    expect((await call(web, "GET", "/secrets")).status).toBe(200);
    expect(keywhiz.log.map((e) => e.endpoint)).toEqual([
      "GET /secrets",
      "GET /secret",
      undefined,
      undefined,
      "GET /secrets",
    ]);
  });
});

describe("batch and single fetch semantics", () => {
  it("answers 403 if any name is not granted, before 404 for a granted name that is missing", async () => {
    await start();
    keywhiz.setSecret("db", "pw");
    keywhiz.setSecret("not-mine", "x");
    keywhiz.grant(WEB, "db", "missing");

    expect((await batch(["db", "not-mine"])).status).toBe(403);
    expect((await batch(["missing", "not-mine"])).status).toBe(403);
    expect((await batch(["db", "missing"])).status).toBe(404);
    expect((await one("not-mine")).status).toBe(403);
    expect((await one("missing")).status).toBe(404);
    keywhiz.deleteSecret("db");
    expect((await batch(["db"])).status).toBe(404);
    expect(json(await list())).toEqual([]);
    expect(keywhiz.secretBytesSent()).toBe(0);
    expect(json(await batch([]))).toEqual([]);
  });

  it.each([
    ["not JSON", "{secrets"],
    ["an array", '["db"]'],
    ["secrets not an array", '{"secrets":"db"}'],
    ["a name not a string", '{"secrets":["db",1]}'],
    ["no body", undefined],
  ])("answers 400 to a batch body that is %s", async (_, body) => {
    await start();
    keywhiz.setSecret("db", "pw");
    keywhiz.grant(WEB, "db");
    const reply = await call(web, "POST", "/batchsecret", body);
    expect(reply.status).toBe(400);
    expect(json(reply)).toEqual({ code: 400, message: 'body must be {"secrets": [names]}' });
  });

  it("answers 404 to other paths and 405 to other methods, outside the endpoint counters", async () => {
    await start();
    keywhiz.grant(WEB);
    expect((await call(web, "GET", "/nothing")).status).toBe(404);
    expect((await call(web, "DELETE", "/secrets")).status).toBe(405);
    expect(keywhiz.requests()).toBe(2);
    expect(keywhiz.requests("GET /secrets")).toBe(0);
  });
});

describe("faults", () => {
  async function seeded(): Promise<KeywhizStandIn> {
    await start();
    keywhiz.setSecret("a", "alpha");
    keywhiz.setSecret("b", "bravo");
    keywhiz.grant(WEB, "a", "b");
    return keywhiz;
  }

  it("answers 500 to the next N requests of one endpoint, then recovers", async () => {
    await seeded();
    keywhiz.inject({ kind: "status", status: 500 }, { endpoint: "GET /secrets", times: 2 });

    expect((await batch(["a"])).status).toBe(200);
    expect((await list()).status).toBe(500);
    expect(json(await list())).toEqual({ code: 500, message: "injected fault" });
    expect((await list()).status).toBe(200);
    expect(keywhiz.log.map((e) => [e.endpoint, e.status, e.faults])).toEqual([
      ["POST /batchsecret", 200, []],
      ["GET /secrets", 500, ["status"]],
      ["GET /secrets", 500, ["status"]],
      ["GET /secrets", 200, []],
    ]);
  });

  it("forces 403 or 404 on batch without reading secrets", async () => {
    await seeded();
    keywhiz.inject({ kind: "status", status: 403 }, { endpoint: "POST /batchsecret" });
    keywhiz.inject({ kind: "status", status: 404 }, { endpoint: "POST /batchsecret" });
    expect((await batch(["a"])).status).toBe(403);
    expect((await batch(["a"])).status).toBe(404);
    expect((await batch(["a"])).status).toBe(200);
    expect(keywhiz.log.map((e) => e.secretBytes)).toEqual([0, 0, 5]);
  });

  it("applies an endpoint-less fault to every endpoint until cleared when times is Infinity", async () => {
    await seeded();
    keywhiz.inject({ kind: "status", status: 503 }, { times: Number.POSITIVE_INFINITY });
    expect((await list()).status).toBe(503);
    expect((await batch(["a"])).status).toBe(503);
    expect((await one("a")).status).toBe(503);
    keywhiz.clearFaults();
    expect((await list()).status).toBe(200);
  });

  it("delays a response by the given time", async () => {
    await seeded();
    keywhiz.inject({ kind: "delay", ms: 300 }, { endpoint: "GET /secrets" });
    const started = Date.now();
    const reply = await list();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(names(reply).sort()).toEqual(["a", "b"]);
    const again = Date.now();
    await list();
    expect(Date.now() - again).toBeLessThan(290);
  });

  it("combines a delay with another fault on the same request", async () => {
    await seeded();
    keywhiz.inject({ kind: "delay", ms: 200 });
    keywhiz.inject({ kind: "status", status: 500 });
    const started = Date.now();
    expect((await list()).status).toBe(500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(keywhiz.log[0]?.faults).toEqual(["delay", "status"]);
  });

  it("sends a torn JSON body with status 200", async () => {
    await seeded();
    keywhiz.inject({ kind: "invalid-json" }, { endpoint: "POST /batchsecret" });
    const reply = await batch(["a", "b"]);
    expect(reply.status).toBe(200);
    expect(() => json(reply)).toThrow(SyntaxError);
    expect(reply.body.toString()).toMatch(/^\[\{"name":"a"/);
  });

  it("replaces the last secret's content with a value that is not base64", async () => {
    await seeded();
    keywhiz.inject({ kind: "not-base64" }, { endpoint: "POST /batchsecret" });
    keywhiz.inject({ kind: "not-base64" }, { endpoint: "GET /secret" });
    const fetched = json(await batch(["a", "b"])) as { name: string; secret: string }[];
    expect(fetched[0]?.secret).toBe("YWxwaGE");
    expect(fetched[1]?.name).toBe("b");
    expect(fetched[1]?.secret).not.toMatch(BASE64);
    expect((json(await one("a")) as { secret: string }).secret).not.toMatch(BASE64);
  });

  it("lists a name twice", async () => {
    await seeded();
    keywhiz.inject({ kind: "duplicate-names" }, { endpoint: "GET /secrets" });
    const listed = names(await list());
    expect(listed).toHaveLength(3);
    expect(new Set(listed).size).toBe(2);
    expect(listed[2]).toBe(listed[0]);
    expect(names(await list())).toHaveLength(2);
  });

  it("sends the first entry alone, an object where an array belongs", async () => {
    await seeded();
    keywhiz.inject({ kind: "object-body" }, { endpoint: "GET /secrets" });
    const alone = json(await list()) as { name: string };
    expect(alone).toMatchObject({ name: "a", secretLength: 0 });
    expect(Array.isArray(json(await list()))).toBe(true);
  });

  it("closes the connection without a response", async () => {
    await seeded();
    keywhiz.inject({ kind: "drop" }, { endpoint: "POST /batchsecret" });
    await expect(batch(["a"])).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(keywhiz.log[0]).toMatchObject({ status: undefined, dropped: true, secretBytes: 0 });
    expect((await batch(["a"])).status).toBe(200);
  });

  it("refuses a fault on an endpoint it cannot apply to, or a non-positive count", async () => {
    await seeded();
    expect(() => keywhiz.inject({ kind: "not-base64" }, { endpoint: "GET /secrets" })).toThrow(
      "keywhiz stand-in: not-base64 cannot apply to GET /secrets",
    );
    expect(() => keywhiz.inject({ kind: "duplicate-names" }, { endpoint: "GET /secret" })).toThrow(
      "keywhiz stand-in: duplicate-names cannot apply to GET /secret",
    );
    expect(() => keywhiz.inject({ kind: "drop" }, { times: 0 })).toThrow(RangeError);
  });

  it("spends an endpoint-less body fault only on endpoints it applies to", async () => {
    await seeded();
    keywhiz.inject({ kind: "not-base64" });
    expect(names(await list()).sort()).toEqual(["a", "b"]);
    const fetched = json(await batch(["a"])) as { secret: string }[];
    expect(fetched[0]?.secret).not.toMatch(BASE64);
    expect(keywhiz.log.map((e) => e.faults)).toEqual([[], ["not-base64"]]);
  });
});

describe("observability and lifecycle", () => {
  it("counts requests per endpoint and in total, and clears the log", async () => {
    await start();
    keywhiz.setSecret("a", "alpha");
    keywhiz.grant(WEB, "a");
    await list();
    await list();
    await batch(["a"]);
    await one("a");
    expect(keywhiz.requests("GET /secrets")).toBe(2);
    expect(keywhiz.requests("POST /batchsecret")).toBe(1);
    expect(keywhiz.requests("GET /secret")).toBe(1);
    expect(keywhiz.requests()).toBe(4);
    expect(keywhiz.secretBytesSent()).toBe(10);
    expect(keywhiz.log.every((e) => e.clientId === WEB)).toBe(true);

    keywhiz.clearLog();
    await list();
    expect(keywhiz.requests()).toBe(1);
    expect(keywhiz.secretBytesSent()).toBe(0);
  });

  it("never writes secret content to the console", async () => {
    const error = vi.spyOn(console, "error");
    const warn = vi.spyOn(console, "warn");
    try {
      await start();
      keywhiz.setSecret("a", "alpha-content");
      keywhiz.grant(WEB, "a");
      await batch(["a"]);
      keywhiz.inject({ kind: "drop" });
      await expect(one("a")).rejects.toThrow();
      const printed = [...error.mock.calls, ...warn.mock.calls].flat().map(String).join("\n");
      expect(printed).not.toContain("alpha-content");
      expect(printed).not.toContain(Buffer.from("alpha-content").toString("base64"));
    } finally {
      error.mockRestore();
      warn.mockRestore();
    }
  });

  it("closes promptly with an idle keep-alive connection and a delayed request open", async () => {
    await start();
    keywhiz.grant(WEB);
    const agent = new https.Agent({ keepAlive: true });
    try {
      expect((await call(web, "GET", "/secrets", undefined, agent)).status).toBe(200);
      keywhiz.inject({ kind: "delay", ms: 60_000 });
      const pending = call(web, "GET", "/secrets");
      await vi.waitFor(() => expect(keywhiz.requests()).toBe(2));
      const started = Date.now();
      await listening?.close();
      listening = undefined;
      expect(Date.now() - started).toBeLessThan(2_000);
      await expect(pending).rejects.toThrow();
      expect(keywhiz.log[1]?.status).toBeUndefined();
    } finally {
      agent.destroy();
    }
  });
});
