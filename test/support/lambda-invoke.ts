/**
 * A stand-in for the Lambda Invoke API (`POST /2015-03-31/functions/<name>/invocations`,
 * RequestResponse) that runs a REAL handler in this process. Moto cannot run
 * Lambda functions without Docker, so a CLI test points the SDK's Lambda
 * endpoint here (`AWS_ENDPOINT_URL_LAMBDA`) and everything else at the emulator:
 * the handler then does its real work against moto. Answers as Lambda does: the
 * handler's JSON result, or on a throw `X-Amz-Function-Error: Unhandled` with
 * `errorType` and `errorMessage`; an unknown function is a 404
 * ResourceNotFoundException. Records each call's function name (as sent: a
 * name or an ARN) and payload.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Context } from "aws-lambda";

export type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface Invocation {
  functionName: string;
  payload: unknown;
  /** The SigV4 credential scope's service, to show the call was signed for Lambda. */
  signedFor: string | undefined;
}

const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export class LambdaInvokeStandIn {
  readonly invocations: Invocation[] = [];

  private constructor(
    private readonly server: http.Server,
    private readonly handlers: Record<string, Handler>,
  ) {}

  /** @param handlers by function name or ARN, as the caller sends it. */
  static async start(handlers: Record<string, Handler>): Promise<LambdaInvokeStandIn> {
    const server = http.createServer();
    const standIn = new LambdaInvokeStandIn(server, handlers);
    server.on("request", (req, res) => {
      standIn.handle(req, res).catch((err: unknown) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    return standIn;
  }

  /** The value of `AWS_ENDPOINT_URL_LAMBDA`. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const match = PATH.exec(new URL(req.url ?? "/", "http://x").pathname);
    const functionName = match ? decodeURIComponent(match[1] as string) : undefined;
    const handler = functionName === undefined ? undefined : this.handlers[functionName];
    if (req.method !== "POST" || functionName === undefined || handler === undefined) {
      res.writeHead(404, {
        "content-type": "application/json",
        "x-amzn-errortype": "ResourceNotFoundException",
      });
      res.end(JSON.stringify({ Type: "User", message: `Function not found: ${functionName}` }));
      return;
    }
    const text = Buffer.concat(chunks).toString("utf8");
    const payload: unknown = text === "" ? {} : JSON.parse(text);
    const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? "");
    this.invocations.push({ functionName, payload, signedFor: scope?.[1] });
    const context = {
      functionName,
      awsRequestId: "00000000-0000-4000-8000-000000000000",
      // Lambda's longest timeout: a planner keeps two minutes back before it reads tags.
      getRemainingTimeInMillis: () => 900_000,
    } as unknown as Context;
    try {
      const result = await handler(payload, context);
      res.writeHead(200, {
        "content-type": "application/json",
        "x-amz-executed-version": "$LATEST",
      });
      res.end(JSON.stringify(result ?? null));
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      res.writeHead(200, {
        "content-type": "application/json",
        "x-amz-function-error": "Unhandled",
      });
      res.end(JSON.stringify({ errorType: error.name, errorMessage: error.message }));
    }
  }
}
