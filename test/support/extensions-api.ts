/**
 * A stand-in for the Lambda Extensions API (2020-01-01) that a test drives:
 * it records `register`, holds `event/next` until the test delivers an event,
 * and records `init/error` and `exit/error` reports.
 */
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface ErrorReport {
  phase: "init" | "exit";
  errorType: string | undefined;
  body: { errorMessage?: string; errorType?: string };
}

export interface Registration {
  name: string | undefined;
  events: string[];
}

export class ExtensionsApiStandIn {
  readonly registrations: Registration[] = [];
  readonly errors: ErrorReport[] = [];
  /** When each `event/next` call arrived (ms since epoch). */
  readonly nextCalls: number[] = [];
  private readonly identifier = randomUUID();
  private readonly queued: unknown[] = [];
  private readonly waiting: http.ServerResponse[] = [];
  private readonly watchers: Array<() => void> = [];
  private registerAnswered: Promise<void> = Promise.resolve();

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<ExtensionsApiStandIn> {
    const server = http.createServer();
    const api = new ExtensionsApiStandIn(server);
    server.on("request", (req, res) => api.handle(req, res));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    return api;
  }

  /** The value of `AWS_LAMBDA_RUNTIME_API`. */
  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Records `register` calls but answers none until the returned function is called. */
  holdRegister(): () => void {
    let release: () => void = () => {};
    this.registerAnswered = new Promise((done) => {
      release = done;
    });
    return release;
  }

  /** Delivers an INVOKE to the extension's pending (or next) `event/next`. */
  invoke(): void {
    this.deliver({
      eventType: "INVOKE",
      deadlineMs: Date.now() + 3_000,
      requestId: randomUUID(),
      invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:test",
      tracing: { type: "X-Amzn-Trace-Id", value: "Root=1-00000000-000000000000000000000000" },
    });
  }

  /** Delivers a SHUTDOWN whose deadline is `budgetMs` from now. */
  shutdown(budgetMs = 2_000): void {
    this.deliver({
      eventType: "SHUTDOWN",
      shutdownReason: "spindown",
      deadlineMs: Date.now() + budgetMs,
    });
  }

  /** Resolves once `event/next` has been called `count` times in all. */
  nextCalled(count: number): Promise<void> {
    return this.until(() => this.nextCalls.length >= count);
  }

  /** Resolves once an error has been reported. */
  errorReported(): Promise<ErrorReport> {
    return this.until(() => this.errors.length > 0).then(() => this.errors[0] as ErrorReport);
  }

  async close(): Promise<void> {
    for (const res of this.waiting.splice(0)) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((done) => {
      const check = () => {
        if (test()) done();
        else this.watchers.push(check);
      };
      this.watchers.push(check);
    });
  }

  private changed(): void {
    for (const watcher of this.watchers.splice(0)) watcher();
  }

  private deliver(event: unknown): void {
    this.queued.push(event);
    this.flush();
  }

  private flush(): void {
    while (this.queued.length > 0 && this.waiting.length > 0) {
      const res = this.waiting.shift() as http.ServerResponse;
      const body = JSON.stringify(this.queued.shift());
      res.writeHead(200, {
        "content-type": "application/json",
        "lambda-extension-event-identifier": randomUUID(),
      });
      res.end(body);
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const url = req.url ?? "";
      const registered = req.headers["lambda-extension-identifier"] === this.identifier;
      if (req.method === "POST" && url === "/2020-01-01/extension/register") {
        this.registrations.push({
          name: req.headers["lambda-extension-name"] as string | undefined,
          events: body.events,
        });
        void this.registerAnswered.then(() => {
          res.writeHead(200, {
            "content-type": "application/json",
            "lambda-extension-identifier": this.identifier,
          });
          res.end(
            JSON.stringify({
              functionName: "test",
              functionVersion: "$LATEST",
              handler: "index.handler",
            }),
          );
        });
      } else if (req.method === "GET" && url === "/2020-01-01/extension/event/next" && registered) {
        this.nextCalls.push(Date.now());
        this.waiting.push(res);
        this.flush();
      } else if (
        req.method === "POST" &&
        /^\/2020-01-01\/extension\/(init|exit)\/error$/.test(url) &&
        registered
      ) {
        this.errors.push({
          phase: url.includes("/init/") ? "init" : "exit",
          errorType: req.headers["lambda-extension-function-error-type"] as string | undefined,
          body,
        });
        res.writeHead(202, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: "OK" }));
      } else {
        res.writeHead(403, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ errorMessage: "unexpected request", errorType: "Extension.Unknown" }),
        );
      }
      this.changed();
    });
  }
}
