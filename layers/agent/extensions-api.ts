/**
 * A client of the Lambda Extensions API (`AWS_LAMBDA_RUNTIME_API`, version
 * 2020-01-01): register, wait for the next event, report a failed init. Plain
 * `node:http` with no timeouts, because `event/next` is a long poll that
 * only returns when Lambda has an event.
 */
import * as http from "node:http";
import { AgentError, AgentReason } from "./errors.ts";

/** An event from `event/next`. */
export type ExtensionEvent =
  | { eventType: "INVOKE"; deadlineMs: number; requestId: string }
  | { eventType: "SHUTDOWN"; deadlineMs: number; shutdownReason: string };

/**
 * One registered extension's conversation with the Lambda runtime.
 *
 * @example
 * const api = await ExtensionsApi.register(process.env.AWS_LAMBDA_RUNTIME_API, "lambda-svid");
 * const event = await api.next();
 */
export class ExtensionsApi {
  private constructor(
    private readonly base: string,
    private readonly id: string,
  ) {}

  /** Registers `name` (the file name under /opt/extensions) for INVOKE and SHUTDOWN. */
  static async register(runtimeApi: string, name: string): Promise<ExtensionsApi> {
    const base = `http://${runtimeApi}/2020-01-01/extension`;
    const res = await call(
      `${base}/register`,
      "POST",
      { "Lambda-Extension-Name": name },
      {
        events: ["INVOKE", "SHUTDOWN"],
      },
    );
    const id = res.headers["lambda-extension-identifier"];
    if (typeof id !== "string" || id === "") {
      throw new AgentError(AgentReason.EXTENSIONS_API, "register: no Lambda-Extension-Identifier");
    }
    return new ExtensionsApi(base, id);
  }

  /** Blocks until Lambda delivers the next event. */
  async next(): Promise<ExtensionEvent> {
    const res = await call(`${this.base}/event/next`, "GET", this.headers());
    return JSON.parse(res.body) as ExtensionEvent;
  }

  /** Reports a failed init; Lambda then fails the function's init with `errorType`. */
  async initError(errorType: string, message: string): Promise<void> {
    await call(
      `${this.base}/init/error`,
      "POST",
      { ...this.headers(), "Lambda-Extension-Function-Error-Type": errorType },
      { errorMessage: message, errorType, stackTrace: [] },
    );
  }

  private headers(): Record<string, string> {
    return { "Lambda-Extension-Identifier": this.id };
  }
}

function call(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ headers: http.IncomingHttpHeaders; body: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const path = new URL(url).pathname;
  return new Promise((done, fail) => {
    const req = http.request(
      url,
      {
        method,
        headers: {
          ...headers,
          ...(payload === undefined ? {} : { "content-type": "application/json" }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", fail);
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) {
            fail(new AgentError(AgentReason.EXTENSIONS_API, `${method} ${path}: HTTP ${status}`));
            return;
          }
          done({ headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
        });
      },
    );
    req.on("error", (cause) =>
      fail(new AgentError(AgentReason.EXTENSIONS_API, `${method} ${path}`, { cause })),
    );
    req.end(payload);
  });
}
