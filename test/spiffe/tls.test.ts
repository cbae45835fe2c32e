import { createPrivateKey, randomBytes } from "node:crypto";
import { once } from "node:events";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AuthorizationError,
  type Authorizer,
  authorizeAny,
  authorizeId,
  authorizeMemberOf,
  authorizeOneOf,
  createSpiffeHttpsServer,
  createSpiffeTlsServer,
  guardClientSocket,
  parseCertificateChain,
  parseSpiffeId,
  parseX509Svid,
  SpiffeTlsError,
  SvidError,
  TlsReason,
  tlsClientOptions,
  tlsServerOptions,
  type X509BundleSource,
  X509Svid,
} from "../../layers/spiffe/index.ts";
import { type CertOptions, EKU, KU, TestCa, type TestSvid } from "../support/ca.ts";

const HOUR = 3_600_000;
const SERVER_ID = "spiffe://example.org/mesh/server";
const CLIENT_ID = "spiffe://example.org/lambda/client";

let ca: TestCa;
let otherTd: TestCa;
let strangerRoot: TestCa;

beforeAll(async () => {
  ca = await TestCa.root("example.org");
  otherTd = await TestCa.root("other.org");
  strangerRoot = await TestCa.root("example.org");
});

/** Builds an X509Svid without the leaf checks, so tests can present certificates the peer must refuse. */
function unchecked(svid: TestSvid): X509Svid {
  return new X509Svid(
    parseSpiffeId("spiffe://example.org/unchecked"),
    parseCertificateChain(svid.chainPem),
    createPrivateKey(svid.keyPem),
  );
}

interface Side {
  svid: X509Svid | undefined;
  bundle: X509BundleSource;
  authorizer: Authorizer;
}

interface Outcome {
  /** What the client read back, if the exchange completed. */
  reply: string | undefined;
  clientError: Error | undefined;
  /** Bytes the server's application code received. */
  serverReceived: string;
  serverErrors: Error[];
}

const servers: tls.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function exchange(server: Side, client: Side): Promise<Outcome> {
  if (server.svid === undefined) throw new Error("server needs an SVID");
  let serverReceived = "";
  const serverErrors: Error[] = [];
  const srv = createSpiffeTlsServer(
    tlsServerOptions(server.svid, server.bundle, server.authorizer),
    (socket) => {
      socket.on("data", (chunk) => {
        serverReceived += chunk.toString();
        socket.end("pong");
      });
      socket.on("error", () => {});
    },
  );
  srv.on("tlsClientError", (err) => serverErrors.push(err));
  servers.push(srv);
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as AddressInfo;

  const options = client.svid
    ? tlsClientOptions(client.svid, client.bundle, client.authorizer)
    : {
        ...tlsClientOptions(await parsedValid(), client.bundle, client.authorizer),
        key: undefined,
        cert: undefined,
      };
  const result = await new Promise<{ reply?: string; error?: Error }>((resolve) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ...options });
    let reply = "";
    socket.on("secureConnect", () => socket.write("ping"));
    socket.on("data", (d) => {
      reply += d.toString();
    });
    socket.on("error", (error) => resolve({ error }));
    socket.on("close", () =>
      resolve(reply === "" ? { error: new Error("closed without reply") } : { reply }),
    );
  });
  // Let the server side finish reporting before reading its state.
  await new Promise((r) => setTimeout(r, 20));
  return { reply: result.reply, clientError: result.error, serverReceived, serverErrors };
}

async function parsedValid(
  path = CLIENT_ID.slice("spiffe://example.org".length),
): Promise<X509Svid> {
  const svid = await ca.svid(path);
  return parseX509Svid(svid.chainPem, svid.keyPem);
}

function goodServer(authorizer: Authorizer = authorizeId(CLIENT_ID)) {
  return async (): Promise<Side> => ({
    svid: await parsedValid("/mesh/server"),
    bundle: ca.bundle(),
    authorizer,
  });
}

function goodClient(authorizer: Authorizer = authorizeId(SERVER_ID)) {
  return async (): Promise<Side> => ({
    svid: await parsedValid(),
    bundle: ca.bundle(),
    authorizer,
  });
}

describe("mTLS on loopback: accepted", () => {
  it("client and server with SVIDs from the bundle, each authorizing the other's ID", async () => {
    const out = await exchange(await goodServer()(), await goodClient()());
    expect(out.clientError).toBeUndefined();
    expect(out.reply).toBe("pong");
    expect(out.serverReceived).toBe("ping");
  });

  it("through an intermediate presented in the chain", async () => {
    const inter = await ca.intermediate();
    const leaf = await inter.svid("/lambda/client");
    const client: Side = {
      svid: parseX509Svid(leaf.chainPem, leaf.keyPem),
      bundle: ca.bundle(),
      authorizer: authorizeId(SERVER_ID),
    };
    const out = await exchange(await goodServer()(), client);
    expect(out.reply).toBe("pong");
  });

  it("with authorizeAny, authorizeOneOf and authorizeMemberOf", async () => {
    for (const authorizer of [
      authorizeAny(),
      authorizeOneOf("spiffe://example.org/x", CLIENT_ID),
      authorizeMemberOf("example.org"),
    ]) {
      const out = await exchange(await goodServer(authorizer)(), await goodClient()());
      expect(out.reply).toBe("pong");
    }
  });
});

/** Certificates a peer must refuse, each presented once by the client and once by the server. */
const badPeers: Array<{
  name: string;
  make: () => Promise<X509Svid | undefined>;
  authorizeAs?: string;
}> = [
  {
    name: "wrong trust domain",
    make: async () => {
      const s = await otherTd.svid("/lambda/client");
      return parseX509Svid(s.chainPem, s.keyPem);
    },
  },
  {
    name: "an ID the authorizer does not accept",
    make: async () => parsedValid("/lambda/intruder"),
  },
  {
    name: "an expired leaf",
    make: async () =>
      unchecked(
        await ca.svid("/lambda/client", {
          notBefore: new Date(Date.now() - 3 * HOUR),
          notAfter: new Date(Date.now() - HOUR),
        }),
      ),
  },
  {
    name: "a not-yet-valid leaf",
    make: async () =>
      unchecked(
        await ca.svid("/lambda/client", {
          notBefore: new Date(Date.now() + HOUR),
          notAfter: new Date(Date.now() + 3 * HOUR),
        }),
      ),
  },
  {
    name: "a leaf with CA=true",
    make: async () =>
      unchecked(await ca.svid("/lambda/client", { ca: true, keyUsage: KU.digitalSignature })),
  },
  {
    name: "no URI SAN",
    make: async () => unchecked(await ca.svid("/lambda/client", { uris: [] })),
  },
  {
    name: "two URI SANs",
    make: async () =>
      unchecked(
        await ca.svid("/lambda/client", { uris: [CLIENT_ID, SERVER_ID] } satisfies CertOptions),
      ),
  },
  {
    name: "keyCertSign on the leaf",
    make: async () =>
      unchecked(
        await ca.svid("/lambda/client", { keyUsage: KU.digitalSignature | KU.keyCertSign }),
      ),
  },
  {
    name: "a root not in the bundle",
    make: async () => {
      const s = await strangerRoot.svid("/lambda/client");
      return parseX509Svid(s.chainPem, s.keyPem);
    },
  },
];

describe("mTLS on loopback: the server refuses a bad client", () => {
  for (const bad of badPeers) {
    it(bad.name, async () => {
      const server = await goodServer(authorizeId(CLIENT_ID))();
      const client: Side = {
        svid: await bad.make(),
        bundle: ca.bundle(),
        authorizer: authorizeAny(),
      };
      const out = await exchange(server, client);
      expect(out.reply).toBeUndefined();
      expect(out.clientError).toBeDefined();
      expect(out.serverReceived).toBe("");
    });
  }

  it("a client that sends no certificate", async () => {
    const server = await goodServer()();
    const out = await exchange(server, {
      svid: undefined,
      bundle: ca.bundle(),
      authorizer: authorizeAny(),
    });
    expect(out.reply).toBeUndefined();
    expect(out.serverReceived).toBe("");
  });

  it("reports the SPIFFE reason on tlsClientError", async () => {
    const server = await goodServer(authorizeId(CLIENT_ID))();
    const out = await exchange(server, {
      svid: await parsedValid("/lambda/intruder"),
      bundle: ca.bundle(),
      authorizer: authorizeAny(),
    });
    expect(out.serverErrors[0]).toBeInstanceOf(AuthorizationError);
    expect(out.serverErrors[0]?.message).toBe(
      'authorizer: unexpected SPIFFE ID: "spiffe://example.org/lambda/intruder"',
    );
  });
});

describe("mTLS on loopback: the client refuses a bad server", () => {
  for (const bad of badPeers) {
    it(bad.name, async () => {
      const server: Side = {
        svid: await bad.make(),
        bundle: ca.bundle(),
        authorizer: authorizeAny(),
      };
      const client = await goodClient(authorizeId(CLIENT_ID))();
      const out = await exchange(server, client);
      expect(out.reply).toBeUndefined();
      expect(out.clientError).toBeDefined();
      // No application byte reached the server: the client never wrote.
      expect(out.serverReceived).toBe("");
    });
  }

  it("names the SPIFFE rule in the client's handshake error", async () => {
    const server: Side = {
      svid: unchecked(await ca.svid("/mesh/server", { uris: [SERVER_ID, CLIENT_ID] })),
      bundle: ca.bundle(),
      authorizer: authorizeAny(),
    };
    const out = await exchange(server, await goodClient()());
    expect(out.clientError).toBeInstanceOf(SvidError);
    expect(out.clientError?.message).toBe(
      "x509svid: leaf certificate has more than one URI SAN: 2 URI SANs",
    );
  });

  it("does not check DNS host names: the identity is the URI SAN", async () => {
    const server = await goodServer()();
    const svid = server.svid as X509Svid;
    const srv = createSpiffeTlsServer(tlsServerOptions(svid, ca.bundle(), authorizeAny()), (s) =>
      s.end("ok"),
    );
    servers.push(srv);
    srv.listen(0, "127.0.0.1");
    await once(srv, "listening");
    const { port } = srv.address() as AddressInfo;
    const client = await parsedValid();
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      servername: "not-the-cert-name.example",
      ...tlsClientOptions(client, ca.bundle(), authorizeId(SERVER_ID)),
    });
    const [data] = await once(socket, "data");
    expect(data.toString()).toBe("ok");
    socket.destroy();
  });
});

describe("extended key usage fits the role", () => {
  const only = async (path: string, eku: string[]) => {
    const s = await ca.svid(path, { eku });
    return parseX509Svid(s.chainPem, s.keyPem);
  };

  it("a serverAuth-only server and a clientAuth-only client accept each other", async () => {
    const out = await exchange(
      {
        svid: await only("/mesh/server", [EKU.serverAuth]),
        bundle: ca.bundle(),
        authorizer: authorizeId(CLIENT_ID),
      },
      {
        svid: await only("/lambda/client", [EKU.clientAuth]),
        bundle: ca.bundle(),
        authorizer: authorizeId(SERVER_ID),
      },
    );
    expect(out.clientError).toBeUndefined();
    expect(out.reply).toBe("pong");
  });

  it("a server whose leaf allows only clientAuth is refused", async () => {
    const out = await exchange(
      {
        svid: await only("/mesh/server", [EKU.clientAuth]),
        bundle: ca.bundle(),
        authorizer: authorizeAny(),
      },
      await goodClient()(),
    );
    expect(out.reply).toBeUndefined();
    expect(out.serverReceived).toBe("");
  });

  it("a client whose leaf allows only serverAuth is refused", async () => {
    const out = await exchange(await goodServer(authorizeAny())(), {
      svid: await only("/lambda/client", [EKU.serverAuth]),
      bundle: ca.bundle(),
      authorizer: authorizeAny(),
    });
    expect(out.reply).toBeUndefined();
    expect(out.serverReceived).toBe("");
  });
});

describe("HTTPS server", () => {
  it("an unauthorized client never reaches the request handler; an authorized one does", async () => {
    const serverSvid = await parsedValid("/mesh/server");
    let handled = 0;
    const srv = createSpiffeHttpsServer(
      tlsServerOptions(serverSvid, ca.bundle(), authorizeId(CLIENT_ID)),
      (_req, res) => {
        handled++;
        res.end("hello");
      },
    );
    servers.push(srv);
    srv.listen(0, "127.0.0.1");
    await once(srv, "listening");
    const { port } = srv.address() as AddressInfo;

    const get = (svid: X509Svid) =>
      new Promise<string>((resolve, reject) => {
        const req = https.request(
          {
            host: "127.0.0.1",
            port,
            path: "/",
            agent: false,
            ...tlsClientOptions(svid, ca.bundle(), authorizeId(SERVER_ID)),
          },
          (res) => {
            let body = "";
            res.on("data", (d) => {
              body += d;
            });
            res.on("end", () => resolve(body));
          },
        );
        req.on("error", reject);
        req.end();
      });

    await expect(get(await parsedValid("/lambda/intruder"))).rejects.toThrow();
    expect(handled).toBe(0);
    expect(await get(await parsedValid())).toBe("hello");
    expect(handled).toBe(1);
  });
});

describe("TLS session resumption", () => {
  const A_ID = "spiffe://example.org/mesh/a";
  const B_ID = "spiffe://example.org/mesh/b";

  /** Both sides' SVIDs from an intermediate, so each must send its chain. */
  async function subordinate() {
    const inter = await ca.intermediate();
    const issue = async (path: string) => {
      const s = await inter.svid(path);
      return parseX509Svid(s.chainPem, s.keyPem);
    };
    return { issue };
  }

  async function listen<S extends tls.Server>(srv: S): Promise<number> {
    servers.push(srv);
    srv.listen(0, "127.0.0.1");
    await once(srv, "listening");
    return (srv.address() as AddressInfo).port;
  }

  function get(port: number, options: https.RequestOptions): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: "127.0.0.1", port, path: "/", ...options }, (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve(body));
      });
      req.on("error", reject);
      req.end();
    });
  }

  it("many sequential requests on new connections to a library server all succeed, none resumed", async () => {
    const { issue } = await subordinate();
    const reused: boolean[] = [];
    const srv = createSpiffeHttpsServer(
      tlsServerOptions(await issue("/mesh/server"), ca.bundle(), authorizeId(CLIENT_ID)),
      (req, res) => {
        reused.push((req.socket as tls.TLSSocket).isSessionReused());
        res.end("ok");
      },
    );
    const port = await listen(srv);
    const client = tlsClientOptions(
      await issue("/lambda/client"),
      ca.bundle(),
      authorizeId(SERVER_ID),
    );
    const own = new https.Agent({ keepAlive: false, ...client });
    const replies: string[] = [];
    for (let i = 0; i < 10; i++) {
      // An agent of its own, and Node's global agent, which caches sessions unless told not to.
      replies.push(await get(port, { agent: own }));
      replies.push(await get(port, client));
      srv.closeIdleConnections();
    }
    expect(replies).toEqual(Array(20).fill("ok"));
    expect(reused).toEqual(Array(20).fill(false));
  });

  it("a library server does not resume a session even when it holds the ticket keys that issued it", async () => {
    const { issue } = await subordinate();
    const ticketKeys = randomBytes(48);
    const client = tlsClientOptions(await issue("/lambda/client"), ca.bundle(), authorizeId(A_ID));
    // A resumes freely; B is made with the library and shares A's ticket keys.
    const a = await issue("/mesh/a");
    const portA = await listen(
      tls.createServer(
        { key: a.keyPem(), cert: a.chainPem(), ticketKeys, requestCert: true, ca: client.ca },
        (s) => s.end("from a"),
      ),
    );
    const b = createSpiffeTlsServer(
      { ...tlsServerOptions(await issue("/mesh/b"), ca.bundle(), authorizeAny()), ticketKeys },
      (s) => s.end("from b"),
    );
    const portB = await listen(b);
    const session = await sessionFrom(portA, client);

    const outcome = await connectOnce(portB, { ...client, session });
    expect(outcome.data).toBe("");
    expect(outcome.error).toBeInstanceOf(AuthorizationError);
    expect(outcome.error?.message).toBe(`authorizer: unexpected SPIFFE ID: "${B_ID}"`);
  });

  it("a client refuses a resumed session from a server that shares the ticket keys but is another identity", async () => {
    const { issue } = await subordinate();
    const ticketKeys = randomBytes(48);
    const client = tlsClientOptions(await issue("/lambda/client"), ca.bundle(), authorizeId(A_ID));
    let bReceived = "";
    const plain = async (path: string, name: string) => {
      const svid = await issue(path);
      return listen(
        tls.createServer(
          {
            key: svid.keyPem(),
            cert: svid.chainPem(),
            ticketKeys,
            requestCert: true,
            ca: client.ca,
          },
          (s) => {
            s.on("data", (d) => {
              if (name === "b") bReceived += d.toString();
            });
            s.on("error", () => {});
            s.write(`from ${name}`);
          },
        ),
      );
    };
    const portA = await plain("/mesh/a", "a");
    const portB = await plain("/mesh/b", "b");
    const session = await sessionFrom(portA, client);

    // Offered the session A issued, B resumes it and shows no certificate at all.
    const outcome = await connectOnce(portB, { ...client, session }, "request bytes");
    expect(outcome.error).toBeInstanceOf(SpiffeTlsError);
    expect((outcome.error as SpiffeTlsError).reason).toBe(TlsReason.SESSION_RESUMED);
    expect(outcome.data).toBe("");
    expect(bReceived).toBe("");
    // Without an offered session the client checks B's certificate and refuses its ID.
    const full = await connectOnce(portB, client);
    expect(full.error?.message).toBe(`authorizer: unexpected SPIFFE ID: "${B_ID}"`);
  });

  /** A full handshake to `port` with `options`; resolves with the session the server issued. */
  async function sessionFrom(port: number, options: tls.ConnectionOptions): Promise<Buffer> {
    const socket = guardClientSocket(tls.connect({ host: "127.0.0.1", port, ...options }));
    socket.on("error", () => {});
    const [session] = (await once(socket, "session")) as [Buffer];
    expect(socket.isSessionReused()).toBe(false);
    socket.destroy();
    return session;
  }

  /** One guarded connection that writes `early` before the handshake ends. */
  function connectOnce(
    port: number,
    options: tls.ConnectionOptions,
    early?: string,
  ): Promise<{ data: string; error: Error | undefined }> {
    return new Promise((resolve) => {
      const socket = guardClientSocket(tls.connect({ host: "127.0.0.1", port, ...options }));
      if (early !== undefined) socket.write(early);
      let data = "";
      let error: Error | undefined;
      socket.on("data", (d) => {
        data += d.toString();
      });
      socket.on("error", (err) => {
        error = err;
      });
      socket.on("close", () => setTimeout(() => resolve({ data, error }), 20));
    });
  }
});
