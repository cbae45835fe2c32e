import * as https from "node:https";
import type { X509Svid } from "../../../layers/spiffe/index.ts";
import { KeywhizError, KeywhizReason } from "../errors.ts";
import {
  type FetchedSecrets,
  type KeywhizSecretInfo,
  parseListing,
  parseSecrets,
} from "./model.ts";

export interface KeywhizClientOptions {
  /** Base URL, e.g. `https://keywhiz.internal:4444` or, behind a path-routing proxy, `https://kw.internal:4444/keywhiz/`. */
  url: URL;
  /** PEM roots that the Keywhiz server's certificate must chain to (web PKI, host name checked). */
  caPem: string;
  /** Presented as the client certificate; Keywhiz identifies the client by its SPIFFE ID. */
  svid: X509Svid;
  /** Attempts per request on network errors and 5xx. */
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  /** Largest response body accepted. */
  maxResponseBytes?: number;
}

const DEFAULTS = {
  attempts: 4,
  baseDelayMs: 200,
  timeoutMs: 15_000,
  maxResponseBytes: 256 * 1024 * 1024,
};

/**
 * Keywhiz's client API over mTLS with the account's SVID: `GET /secrets`,
 * `POST /batchsecret`, `GET /secret/{name}`, under the base URL's path.
 * Connections are kept alive for the run and closed by {@link close}. Retries
 * network errors and 5xx with exponential backoff and jitter; never retries a 4xx.
 *
 * @example
 * const keywhiz = new KeywhizClient({ url: new URL("https://kw.internal:4444/keywhiz/"), caPem, svid });
 * const listed = await keywhiz.listSecrets(); // GET /keywhiz/secrets
 * keywhiz.close();
 */
export class KeywhizClient {
  /** Requests sent, retries included: the cost of a run. */
  requests = 0;
  /** Bytes of response bodies received. */
  bytesReceived = 0;
  private readonly agent: https.Agent;
  private readonly options: Required<Omit<KeywhizClientOptions, "svid" | "caPem">>;

  constructor(options: KeywhizClientOptions) {
    this.options = { ...DEFAULTS, ...options };
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 4,
      key: options.svid.keyPem(),
      cert: options.svid.chainPem(),
      ca: options.caPem,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
    });
  }

  async listSecrets(): Promise<KeywhizSecretInfo[]> {
    return parseListing(await this.request("GET", "/secrets"));
  }

  /** All the named secrets with content in one request; 403/404 if any one is not readable. */
  async batchSecrets(names: readonly string[]): Promise<FetchedSecrets> {
    return parseSecrets(
      await this.request("POST", "/batchsecret", JSON.stringify({ secrets: names })),
    );
  }

  /** One secret, as usable content or as that secret's problem. */
  async getSecret(name: string): Promise<FetchedSecrets> {
    const fetched = parseSecrets(
      await this.request("GET", `/secret/${encodeURIComponent(name)}`),
      true,
    );
    const answered = fetched.secrets[0]?.name ?? fetched.problems[0]?.name;
    if (answered !== name) {
      throw new KeywhizError(
        KeywhizReason.MALFORMED,
        `response for ${JSON.stringify(name)} names another secret`,
      );
    }
    return fetched;
  }

  close(): void {
    this.agent.destroy();
  }

  private async request(method: string, path: string, body?: string): Promise<string> {
    let last: KeywhizError | undefined;
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      if (attempt > 1) await sleep(backoff(this.options.baseDelayMs, attempt));
      try {
        const { status, text } = await this.once(method, path, body);
        if (status >= 200 && status < 300) return text;
        const reason =
          status === 403
            ? KeywhizReason.FORBIDDEN
            : status === 404
              ? KeywhizReason.NOT_FOUND
              : status >= 500
                ? KeywhizReason.UNAVAILABLE
                : KeywhizReason.UNEXPECTED_STATUS;
        last = new KeywhizError(reason, `${method} ${path} returned ${status}`, { status });
        if (status < 500) throw last;
      } catch (err) {
        // Only an unavailable server (5xx, no answer, no connection) is worth asking again.
        if (err instanceof KeywhizError && err.reason !== KeywhizReason.UNAVAILABLE) throw err;
        last =
          err instanceof KeywhizError
            ? err
            : new KeywhizError(KeywhizReason.UNAVAILABLE, `${method} ${path}`, { cause: err });
      }
    }
    throw last ?? new KeywhizError(KeywhizReason.UNAVAILABLE, `${method} ${path}`);
  }

  private once(
    method: string,
    path: string,
    body?: string,
  ): Promise<{ status: number; text: string }> {
    this.requests++;
    return new Promise((resolve, reject) => {
      const req = https.request(
        joinPath(this.options.url, path),
        {
          method,
          agent: this.agent,
          timeout: this.options.timeoutMs,
          headers:
            body === undefined
              ? { accept: "application/json" }
              : { accept: "application/json", "content-type": "application/json" },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.options.maxResponseBytes) {
              req.destroy(
                new KeywhizError(
                  KeywhizReason.TOO_LARGE,
                  `${method} ${path} over ${this.options.maxResponseBytes} bytes`,
                  { status: 413 },
                ),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on("end", () => {
            this.bytesReceived += size;
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () =>
        req.destroy(
          new KeywhizError(
            KeywhizReason.UNAVAILABLE,
            `${method} ${path}: no response within ${this.options.timeoutMs} ms`,
          ),
        ),
      );
      req.on("error", reject);
      req.end(body);
    });
  }
}

/** `new URL("/secrets", base)` would drop the base URL's path, so the API path is appended to it. */
function joinPath(base: URL, path: string): URL {
  const url = new URL(base.href);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${path}`;
  return url;
}

function backoff(baseMs: number, attempt: number): number {
  const ceiling = baseMs * 2 ** (attempt - 2);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
