/**
 * A Keywhiz stand-in for tests, written from the client API described in
 * issue 5: an HTTPS server that requires client certificates, identifies the
 * client by the SPIFFE ID in its certificate's single URI SAN, and serves the
 * secrets an ACL grants that ID. It answers as real servers do: listings carry
 * `secret: ""` and `secretLength: 0` for every entry (Keywhiz's sanitized
 * view), content is base64 without padding unless {@link KeywhizStandIn.padding}
 * is set, and older servers (`fieldSet: "old"`) send neither `checksum` nor
 * `updateDate`. Faults are injected per endpoint for the next N requests, or
 * per secret for as long as it is stored; every request is logged (never
 * secret content) so tests can count what a run cost.
 *
 * @example
 * const ca = await TestCa.root("example.org");
 * const svid = await ca.svid("/prod/web");
 * const serverTls = await keywhizServerCredentials();
 * const keywhiz = new KeywhizStandIn({ clientCaPem: ca.root.certPem, server: serverTls });
 * keywhiz.setSecret("db-password", Buffer.from("s3cr3t"));
 * keywhiz.grant("spiffe://example.org/prod/web", "db-password");
 * const { url, close } = await keywhiz.start(); // https://localhost:<port>
 * // ... run the syncer with url, serverTls.caPem and svid ...
 * expect(keywhiz.requests("GET /secrets")).toBe(1);
 * await close();
 */
import "reflect-metadata";
import { createHmac, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import * as x509 from "@peculiar/x509";
import { TestCa } from "./ca.ts";

/** The three endpoints of Keywhiz's client API, as faults and counters name them. */
export type KeywhizEndpoint = "GET /secrets" | "POST /batchsecret" | "GET /secret";

/**
 * `new`: objects carry `checksum` and `updateDate` (newer servers). `old`:
 * objects carry `isVersioned: false` and neither `checksum` nor `updateDate`
 * (older servers).
 */
export type KeywhizFieldSet = "new" | "old";

/** A fault that the next matching requests get instead of (or on top of) the normal answer. */
export type KeywhizFault =
  /** Answer with this status (500, 503, or a forced 403/404) and an error body; no secret is read. */
  | { kind: "status"; status: number }
  /** Wait this long before handling the request; combines with any other fault. */
  | { kind: "delay"; ms: number }
  /** Send the normal 200 body cut in half: a torn JSON document. */
  | { kind: "invalid-json" }
  /** Replace the `secret` of the last secret in the 200 body with a value that is not base64. */
  | { kind: "not-base64" }
  /** Append a copy of the first entry to the 200 array body. */
  | { kind: "duplicate-names" }
  /** Send the first entry of the 200 array body alone: an object where an array belongs. */
  | { kind: "object-body" }
  /** Destroy the connection without sending any response. */
  | { kind: "drop" };

export interface KeywhizFaultOptions {
  /** Only requests to this endpoint; default every endpoint the fault can apply to. */
  endpoint?: KeywhizEndpoint;
  /** How many requests get the fault; default 1, `Infinity` for all until {@link KeywhizStandIn.clearFaults}. */
  times?: number;
}

export interface KeywhizStandInOptions {
  /** PEM roots that client certificates must chain to (in tests, the SPIFFE trust bundle). */
  clientCaPem: string | string[];
  /** The server's own certificate chain (leaf first) and key, PEM. */
  server: { certPem: string; keyPem: string };
  /** Field set served at start; switchable later through {@link KeywhizStandIn.fieldSet}. */
  fieldSet?: KeywhizFieldSet;
  /** HMAC key behind `checksum`; random by default. */
  checksumKey?: Buffer;
  /** Host name put in {@link KeywhizListening.url}; it must match the server certificate. */
  urlHost?: string;
  /** Initial {@link KeywhizStandIn.basePath}. */
  basePath?: string;
  now?: () => Date;
}

/** Everything about a secret except its content and checksum. */
export interface KeywhizSecretOptions {
  /** File mode as Keywhiz serves it, e.g. "0400". */
  mode?: string;
  owner?: string;
  group?: string;
  metadata?: Record<string, string>;
  description?: string;
  /** Overrides the update time (default: now). */
  updateDate?: Date;
  /** Serve this secret malformed on every fetch (the listing stays normal), as a corrupt row would be. */
  malformed?: KeywhizMalformation;
}

/**
 * How a secret can be served broken: `not-base64` content, a `wrong-length`
 * (`secretLength` one more than the content), or `empty` content.
 */
export type KeywhizMalformation = "not-base64" | "wrong-length" | "empty";

/** One request the stand-in received. */
export interface KeywhizRequest {
  method: string;
  /** As sent, query included. */
  path: string;
  /** `undefined` for a path that is not part of the client API. */
  endpoint: KeywhizEndpoint | undefined;
  /** The SPIFFE ID of the client certificate; `undefined` unless it has exactly one URI SAN. */
  clientId: string | undefined;
  /** `undefined` while the request is pending or when the connection was dropped. */
  status: number | undefined;
  dropped: boolean;
  /** Bytes of secret content in the answer as built, before any body fault. */
  secretBytes: number;
  /** Kinds of the faults this request got. */
  faults: KeywhizFault["kind"][];
}

export interface KeywhizListening {
  /** `https://<urlHost>:<port>` and the base path, no trailing slash. */
  url: string;
  port: number;
  /** Ends open keep-alive connections and pending delays, then stops listening. */
  close(): Promise<void>;
}

interface StoredSecret extends Omit<KeywhizSecretOptions, "updateDate"> {
  content: Buffer;
  checksum: string;
  creationDate: Date;
  updateDate: Date;
}

interface ArmedFault {
  fault: KeywhizFault;
  endpoint: KeywhizEndpoint | undefined;
  remaining: number;
}

interface Answer {
  status: number;
  body: unknown;
  secretBytes: number;
}

const ENDPOINTS_OF: Record<KeywhizFault["kind"], readonly KeywhizEndpoint[]> = {
  status: ["GET /secrets", "POST /batchsecret", "GET /secret"],
  delay: ["GET /secrets", "POST /batchsecret", "GET /secret"],
  "invalid-json": ["GET /secrets", "POST /batchsecret", "GET /secret"],
  drop: ["GET /secrets", "POST /batchsecret", "GET /secret"],
  "not-base64": ["POST /batchsecret", "GET /secret"],
  "duplicate-names": ["GET /secrets", "POST /batchsecret"],
  "object-body": ["GET /secrets", "POST /batchsecret"],
};

const NOT_BASE64 = "@@ not base64 @@";
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The stand-in itself. Configure secrets, grants and faults at any time,
 * before or after {@link start}.
 */
export class KeywhizStandIn {
  /** Field set of every answer from now on. */
  fieldSet: KeywhizFieldSet;
  /** Whether content is sent with `=` padding; real servers send it without. */
  padding = false;
  /** Client handshakes the server refused (no certificate, unknown CA, ...), by error code. */
  readonly tlsRejections: string[] = [];
  private readonly secrets = new Map<string, StoredSecret>();
  private readonly acl = new Map<string, Set<string>>();
  private readonly armed: ArmedFault[] = [];
  private entries: KeywhizRequest[] = [];
  private readonly identities = new WeakMap<Socket, string | undefined>();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; done: () => void }>();
  private readonly checksumKey: Buffer;
  private readonly now: () => Date;
  private base = "";
  private port: number | undefined;

  constructor(private readonly options: KeywhizStandInOptions) {
    this.fieldSet = options.fieldSet ?? "new";
    this.checksumKey = options.checksumKey ?? randomBytes(32);
    this.now = options.now ?? (() => new Date());
    this.basePath = options.basePath ?? "";
  }

  /**
   * Path the API is served under from now on, e.g. `/keywhiz` behind a
   * path-routing proxy; `""` (the default) for the root. Nothing outside it
   * is served.
   */
  get basePath(): string {
    return this.base;
  }

  set basePath(path: string) {
    const trimmed = path.replace(/\/+$/, "");
    if (trimmed !== "" && !trimmed.startsWith("/")) {
      throw new RangeError(`keywhiz stand-in: basePath must start with /: ${path}`);
    }
    this.base = trimmed;
  }

  /** `https://<urlHost>:<port>` and the current base path, no trailing slash; set by {@link start}. */
  get url(): string {
    if (this.port === undefined) throw new Error("keywhiz stand-in: not started");
    return `https://${this.options.urlHost ?? "localhost"}:${this.port}${this.base}`;
  }

  /** Creates or replaces a secret; an update keeps `creationDate` and recomputes `checksum`. */
  setSecret(name: string, content: Buffer | string, opts: KeywhizSecretOptions = {}): void {
    const bytes = Buffer.from(content);
    const { updateDate, ...rest } = opts;
    const at = updateDate ?? this.now();
    this.secrets.set(name, {
      ...rest,
      content: bytes,
      checksum: this.checksumOf(bytes),
      creationDate: this.secrets.get(name)?.creationDate ?? at,
      updateDate: at,
    });
  }

  /** Removes a secret; a client granted it then gets 404 for it. */
  deleteSecret(name: string): void {
    this.secrets.delete(name);
  }

  /** Lets `spiffeId` read `names`; with no names it only makes the client known (an empty listing, not 403). */
  grant(spiffeId: string, ...names: string[]): void {
    const granted = this.acl.get(spiffeId) ?? new Set<string>();
    for (const name of names) granted.add(name);
    this.acl.set(spiffeId, granted);
  }

  /** Takes `names` away from `spiffeId`; with no names the client becomes unknown (403 on everything). */
  revoke(spiffeId: string, ...names: string[]): void {
    if (names.length === 0) {
      this.acl.delete(spiffeId);
      return;
    }
    for (const name of names) this.acl.get(spiffeId)?.delete(name);
  }

  /** The `checksum` this server gives `content`. */
  checksumOf(content: Buffer): string {
    return createHmac("sha256", this.checksumKey).update(content).digest("hex");
  }

  /**
   * Arms a fault for the next `times` requests to `endpoint` (or to every
   * endpoint it applies to). A request gets the earliest armed fault of each
   * kind that matches it, so faults of one kind queue up (a 403, then a 404)
   * and faults of different kinds combine (a delay, then a 500). A drop wins
   * over a status; a status replaces the body, so body faults then do nothing.
   */
  inject(fault: KeywhizFault, opts: KeywhizFaultOptions = {}): void {
    const times = opts.times ?? 1;
    if (!(times > 0)) throw new RangeError(`keywhiz stand-in: times must be positive: ${times}`);
    if (opts.endpoint !== undefined && !ENDPOINTS_OF[fault.kind].includes(opts.endpoint)) {
      throw new RangeError(`keywhiz stand-in: ${fault.kind} cannot apply to ${opts.endpoint}`);
    }
    this.armed.push({ fault, endpoint: opts.endpoint, remaining: times });
  }

  clearFaults(): void {
    this.armed.length = 0;
  }

  /** Every request received since start or the last {@link clearLog}, in arrival order. */
  get log(): readonly KeywhizRequest[] {
    return this.entries;
  }

  /** Requests received to `endpoint`, or in total (unknown paths included). */
  requests(endpoint?: KeywhizEndpoint): number {
    return endpoint === undefined
      ? this.entries.length
      : this.entries.filter((e) => e.endpoint === endpoint).length;
  }

  /** Bytes of secret content sent, in total or for one endpoint. */
  secretBytesSent(endpoint?: KeywhizEndpoint): number {
    return this.entries
      .filter((e) => endpoint === undefined || e.endpoint === endpoint)
      .reduce((sum, e) => sum + e.secretBytes, 0);
  }

  clearLog(): void {
    this.entries = [];
  }

  /** Listens on 127.0.0.1, on a free port. */
  async start(): Promise<KeywhizListening> {
    const server = https.createServer({
      cert: this.options.server.certPem,
      key: this.options.server.keyPem,
      ca: this.options.clientCaPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
    });
    server.keepAliveTimeout = 60_000;
    server.on("tlsClientError", (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      // A certificate that fails verification is dropped after the handshake; its reason is only on the socket.
      const reason: unknown = socket.authorizationError;
      this.tlsRejections.push(reason ? String(reason) : (err.code ?? err.message));
    });
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      this.serve(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500).end();
        console.error("keywhiz stand-in: request failed:", err);
      });
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as AddressInfo;
    this.port = port;
    return {
      url: this.url,
      port,
      close: async () => {
        for (const t of this.timers) {
          clearTimeout(t.timer);
          t.done();
        }
        this.timers.clear();
        server.closeAllConnections();
        await new Promise<void>((done) => server.close(() => done()));
      },
    };
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? "/";
    const requested = path.split("?", 1)[0] ?? "";
    // Outside the base path nothing is served: "" matches no endpoint and answers 404.
    const pathname = requested.startsWith(`${this.base}/`) ? requested.slice(this.base.length) : "";
    const method = req.method ?? "GET";
    const endpoint = endpointOf(method, pathname);
    const entry: KeywhizRequest = {
      method,
      path,
      endpoint,
      clientId: this.clientId(req.socket as TLSSocket),
      status: undefined,
      dropped: false,
      secretBytes: 0,
      faults: [],
    };
    this.entries.push(entry);
    const body = await readBody(req);
    const faults = endpoint === undefined ? [] : this.take(endpoint);
    entry.faults = faults.map((f) => f.kind);

    const delay = faults.reduce((ms, f) => (f.kind === "delay" ? ms + f.ms : ms), 0);
    if (delay > 0) await this.sleep(delay);
    if (res.destroyed || req.socket.destroyed) return;
    if (faults.some((f) => f.kind === "drop")) {
      entry.dropped = true;
      req.socket.destroy();
      return;
    }
    const forced = faults.find(
      (f): f is Extract<KeywhizFault, { kind: "status" }> => f.kind === "status",
    );
    const answer =
      forced !== undefined
        ? failure(forced.status, "injected fault")
        : this.answer(endpoint, entry.clientId, pathname, body);
    const text = answer.status === 200 ? corrupt(answer.body, faults) : JSON.stringify(answer.body);
    entry.status = answer.status;
    entry.secretBytes = answer.secretBytes;
    res.writeHead(answer.status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
  }

  private answer(
    endpoint: KeywhizEndpoint | undefined,
    clientId: string | undefined,
    pathname: string,
    body: Buffer | undefined,
  ): Answer {
    if (endpoint === undefined) {
      return pathname === "/secrets" ||
        pathname === "/batchsecret" ||
        pathname.startsWith("/secret/")
        ? failure(405, "method not allowed")
        : failure(404, "no such path");
    }
    const granted = clientId === undefined ? undefined : this.acl.get(clientId);
    if (granted === undefined) return failure(403, "unknown client");
    if (endpoint === "GET /secrets") {
      const listing = [...granted]
        .filter((name) => this.secrets.has(name))
        .map((name) => this.render(name, false));
      return { status: 200, body: listing, secretBytes: 0 };
    }
    let names: string[];
    if (endpoint === "GET /secret") {
      let name: string;
      try {
        name = decodeURIComponent(pathname.slice("/secret/".length));
      } catch {
        return failure(400, "malformed secret name");
      }
      names = [name];
    } else {
      const requested = batchNames(body);
      if (requested === undefined) return failure(400, 'body must be {"secrets": [names]}');
      names = requested;
    }
    if (names.some((name) => !granted.has(name))) return failure(403, "secret not accessible");
    if (names.some((name) => !this.secrets.has(name))) return failure(404, "secret not found");
    const secrets = names.map((name) => this.render(name, true));
    const secretBytes = names.reduce(
      (n, name) => n + (this.secrets.get(name)?.content.length ?? 0),
      0,
    );
    return { status: 200, body: endpoint === "GET /secret" ? secrets[0] : secrets, secretBytes };
  }

  private render(name: string, withContent: boolean): Record<string, unknown> {
    const s = this.secrets.get(name);
    if (s === undefined) throw new Error(`keywhiz stand-in: no secret ${JSON.stringify(name)}`);
    // Keywhiz lists its sanitized view: no content and a length of 0, whatever the secret holds.
    const served = withContent ? this.served(s) : { secret: "", secretLength: 0 };
    return {
      name,
      ...served,
      ...(this.fieldSet === "new"
        ? { checksum: s.checksum, updateDate: s.updateDate.toISOString() }
        : { isVersioned: false }),
      creationDate: s.creationDate.toISOString(),
      ...(s.mode === undefined ? {} : { mode: s.mode }),
      ...(s.owner === undefined ? {} : { owner: s.owner }),
      ...(s.group === undefined ? {} : { group: s.group }),
      metadata: { ...s.metadata },
      ...(s.description === undefined ? {} : { description: s.description }),
    };
  }

  private served(s: StoredSecret): { secret: string; secretLength: number } {
    const encoded = s.content.toString("base64");
    const secret = this.padding ? encoded : encoded.replace(/=+$/, "");
    switch (s.malformed) {
      case "not-base64":
        return { secret: NOT_BASE64, secretLength: s.content.length };
      case "wrong-length":
        return { secret, secretLength: s.content.length + 1 };
      case "empty":
        return { secret: "", secretLength: 0 };
      default:
        return { secret, secretLength: s.content.length };
    }
  }

  private clientId(socket: TLSSocket): string | undefined {
    if (this.identities.has(socket)) return this.identities.get(socket);
    const raw = socket.getPeerCertificate().raw;
    let id: string | undefined;
    if (raw !== undefined) {
      const san = new x509.X509Certificate(raw).getExtension(x509.SubjectAlternativeNameExtension);
      const uris = (san?.names.items ?? []).filter((n) => n.type === "url").map((n) => n.value);
      id = uris.length === 1 ? uris[0] : undefined;
    }
    this.identities.set(socket, id);
    return id;
  }

  /** Consumes one use of the earliest armed fault of each kind that matches `endpoint`. */
  private take(endpoint: KeywhizEndpoint): KeywhizFault[] {
    const taken: KeywhizFault[] = [];
    for (const a of this.armed) {
      if (a.remaining <= 0 || taken.some((f) => f.kind === a.fault.kind)) continue;
      if (
        a.endpoint === undefined
          ? !ENDPOINTS_OF[a.fault.kind].includes(endpoint)
          : a.endpoint !== endpoint
      ) {
        continue;
      }
      a.remaining--;
      taken.push(a.fault);
    }
    for (let i = this.armed.length - 1; i >= 0; i--) {
      if ((this.armed[i]?.remaining ?? 0) <= 0) this.armed.splice(i, 1);
    }
    return taken;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const t = {
        timer: setTimeout(() => {
          this.timers.delete(t);
          done();
        }, ms),
        done,
      };
      this.timers.add(t);
    });
  }
}

/**
 * A separate test CA and a `localhost` server certificate from it, for
 * {@link KeywhizStandInOptions.server}; `caPem` is what the client must trust.
 *
 * @example
 * const serverTls = await keywhizServerCredentials();
 * new KeywhizStandIn({ clientCaPem, server: serverTls });
 */
export async function keywhizServerCredentials(
  dns: string[] = ["localhost"],
): Promise<{ certPem: string; keyPem: string; caPem: string }> {
  const ca = await TestCa.root("keywhiz.test");
  const leaf = await ca.serverCert(dns);
  return { certPem: leaf.certPem, keyPem: leaf.keyPem, caPem: ca.root.certPem };
}

function endpointOf(method: string, pathname: string): KeywhizEndpoint | undefined {
  if (method === "GET" && pathname === "/secrets") return "GET /secrets";
  if (method === "POST" && pathname === "/batchsecret") return "POST /batchsecret";
  if (method === "GET" && pathname.startsWith("/secret/") && pathname.length > "/secret/".length) {
    return "GET /secret";
  }
  return undefined;
}

function failure(status: number, message: string): Answer {
  return { status, body: { code: status, message }, secretBytes: 0 };
}

function batchNames(body: Buffer | undefined): string[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body?.toString("utf8") ?? "");
  } catch {
    return undefined;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return undefined;
  const names = (doc as { secrets?: unknown }).secrets;
  if (!Array.isArray(names) || !names.every((n): n is string => typeof n === "string")) {
    return undefined;
  }
  return names;
}

/** Applies the body faults to a 200 answer and serializes it. */
function corrupt(body: unknown, faults: readonly KeywhizFault[]): string {
  const kinds = new Set(faults.map((f) => f.kind));
  let doc = body;
  if (kinds.has("duplicate-names") && Array.isArray(doc) && doc.length > 0) {
    doc = [...doc, doc[0]];
  }
  if (kinds.has("not-base64")) {
    if (Array.isArray(doc) && doc.length > 0) {
      doc = [...doc.slice(0, -1), { ...doc[doc.length - 1], secret: NOT_BASE64 }];
    } else if (doc !== null && typeof doc === "object" && !Array.isArray(doc)) {
      doc = { ...doc, secret: NOT_BASE64 };
    }
  }
  if (kinds.has("object-body") && Array.isArray(doc) && doc.length > 0) doc = doc[0];
  const text = JSON.stringify(doc);
  return kinds.has("invalid-json") ? text.slice(0, Math.max(1, Math.floor(text.length / 2))) : text;
}

/** The request body, or `undefined` when empty, too large or cut off. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () =>
      done(size === 0 || size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)),
    );
    req.on("error", () => done(undefined));
  });
}
