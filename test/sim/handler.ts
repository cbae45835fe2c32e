/**
 * The modelled AWS at the HTTP layer: a smithy `HttpHandler` given to real
 * AWS SDK v3 clients as `requestHandler`. The SDK serializes, signs, retries
 * and deserializes as it does against AWS; this handler reads the request the
 * way AWS does (JSON 1.0/1.1 with `X-Amz-Target`, or the awsQuery form for
 * STS), lets the service model answer from memory, and writes the answer in
 * the service's own shape, errors included, after the operation's latency on
 * the clock (virtual under fake timers). The caller's account comes from the
 * request's signing key, as AWS derives it from the credentials.
 */
import { randomUUID } from "node:crypto";
import type { HttpRequest } from "@smithy/types";
import { CpuMeter } from "./cpu.ts";
import { AwsError, SimError, SimReason } from "./errors.ts";
import type { Principals } from "./principals.ts";
import type { ServiceModel } from "./service.ts";

/** What a response needs: the shape both the current and the pinned ACM PCA client's smithy accept. */
interface ModelResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** What the model answered a call with: its output, or the AWS error it refused it with. */
type Outcome = { output: unknown } | { error: AwsError };

/** An {@link AwsError} is the service's answer; anything else is the model's own failure. */
function failed(err: unknown): Outcome {
  if (!(err instanceof AwsError)) throw err;
  return { error: err };
}

/** Requests seen, by `"Service Operation"`; throttled answers, and operations no model implements, counted apart. */
export interface CallCounts {
  readonly calls: Map<string, number>;
  readonly throttled: Map<string, number>;
  /** Answered UnknownOperationException: a gap in the model that a simulation must report. */
  readonly unknown: Map<string, number>;
}

/** One answered request, as an observer sees it: never the answer itself. */
export interface ObservedCall {
  service: string;
  operation: string;
  /** The calling account. */
  account: string;
  input: Readonly<Record<string, unknown>>;
  /** When the request arrived and when it was answered (virtual ms). */
  startedAt: number;
  answeredAt: number;
  /** The error code it was answered with, if any. */
  error: string | undefined;
}

/** A stretch of virtual time in which a share of some operations is throttled, whatever the quotas say. */
export interface ThrottlingBurst {
  /** `"Service Operation"` keys, e.g. `"STS AssumeRole"`. */
  operations: readonly string[];
  from: number;
  until: number;
  /** Share of matching requests refused, 0 to 1. */
  share: number;
  /** Source of `[0, 1)` numbers; `Math.random` when not given. */
  random?: () => number;
}

/**
 * Sleeps `ms` on the global clock at call time (the fake one when installed);
 * rejects with an `AbortError` as the SDK's own HTTP handlers do when `signal` aborts.
 */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0 && !signal?.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer);
      const err = new Error("Request aborted");
      err.name = "AbortError";
      reject(err);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    if (signal?.aborted) abort();
    else signal?.addEventListener("abort", abort, { once: true });
  });
}

const ACCESS_KEY = /Credential=([^/]+)\//;

/**
 * Answers every request of every client it is given to from the service models.
 *
 * @example
 * const handler = new ModelHttpHandler([secrets, pca, sts], principals);
 * const sm = new SecretsManagerClient({ region: "us-east-1", credentials, requestHandler: handler });
 */
export class ModelHttpHandler {
  readonly metadata = { handlerProtocol: "http/1.1" };
  readonly counts: CallCounts = { calls: new Map(), throttled: new Map(), unknown: new Map() };
  /** Called after each request is answered; its CPU is counted in {@link cpu}. */
  observer: ((call: ObservedCall) => void) | undefined;
  /**
   * The model's own CPU: reading requests, the services answering them (the CA's signing
   * included, also kept in `PcaModel.signingMs`), writing answers, and the observer.
   */
  readonly cpu = new CpuMeter();
  private readonly bursts: ThrottlingBurst[] = [];
  private readonly byTarget = new Map<string, ServiceModel>();
  private readonly byHost = new Map<string, ServiceModel>();
  private readonly byName = new Map<string, ServiceModel>();

  constructor(
    services: readonly ServiceModel[],
    private readonly principals: Principals,
  ) {
    for (const service of services) {
      service.cpu = this.cpu;
      this.byName.set(service.name, service);
      const p = service.protocol;
      if (p.kind === "json") this.byTarget.set(p.target, service);
      else this.byHost.set(p.host, service);
    }
  }

  async handle(
    request: HttpRequest,
    options?: { abortSignal?: AbortSignal | { aborted: boolean } },
  ): Promise<{ response: ModelResponse }> {
    const signal = options?.abortSignal as AbortSignal | undefined;
    // The model's work is metered in its synchronous stretches between the awaits (see cpu.ts):
    // reading the request, answering it, and the observer; the sleeps and the SDK are not in them.
    const { service, operation, input, account } = this.cpu.measure(() => this.read(request));
    const outcome = await this.serve(service, operation, input, account, signal);
    return {
      response: this.cpu.measure(() =>
        "error" in outcome
          ? this.error(service, outcome.error)
          : this.answer(service, operation, outcome.output),
      ),
    };
  }

  /**
   * One call made by a stand-in for AWS's own side (Lambda's SQS poller), which in AWS runs
   * on AWS's machines and costs the user no CPU: answered from the model without an SDK client
   * or the HTTP framing, its CPU counted as the model's. It is counted, throttled, delayed and
   * observed like a request; the output is the object the SDK would have deserialized.
   *
   * @example
   * const out = await handler.invoke("SQS", "ReceiveMessage", { QueueUrl, MaxNumberOfMessages: 10 }, account);
   */
  async invoke(
    serviceName: string,
    operation: string,
    input: Record<string, unknown>,
    account: string,
  ): Promise<unknown> {
    const service = this.byName.get(serviceName);
    if (service === undefined) throw new SimError(SimReason.UNKNOWN_SERVICE, serviceName);
    this.cpu.measure(() => this.count(`${service.name} ${operation}`));
    const outcome = await this.serve(service, operation, input, account, undefined);
    if ("error" in outcome) throw outcome.error;
    return outcome.output;
  }

  /** Latency, quota and the model's answer for one call, then the observer. */
  private async serve(
    service: ServiceModel,
    operation: string,
    input: Record<string, unknown>,
    account: string,
    signal: AbortSignal | undefined,
  ): Promise<Outcome> {
    const key = `${service.name} ${operation}`;
    const startedAt = Date.now();
    // Half the latency before the model answers and half after, in whole virtual milliseconds.
    const latency = service.latencyMs(operation);
    const before = Math.floor(latency / 2);
    await sleep(before, signal);
    const outcome = await this.cpu.measure(() =>
      this.respond(service, operation, input, account, key, startedAt),
    );
    await sleep(latency - before, signal);
    const observer = this.observer;
    if (observer !== undefined) {
      const call: ObservedCall = {
        service: service.name,
        operation,
        account,
        input,
        startedAt,
        answeredAt: Date.now(),
        error: "error" in outcome ? outcome.error.code : undefined,
      };
      this.cpu.measure(() => observer(call));
    }
    return outcome;
  }

  private count(key: string): void {
    this.counts.calls.set(key, (this.counts.calls.get(key) ?? 0) + 1);
  }

  /** Routes and counts the request and finds the calling account. */
  private read(request: HttpRequest): {
    service: ServiceModel;
    operation: string;
    input: Record<string, unknown>;
    account: string;
  } {
    const { service, operation, input } = this.route(request);
    this.count(`${service.name} ${operation}`);
    return { service, operation, input, account: this.callerAccount(request) };
  }

  /**
   * The answer, throttled or from the model; an operation that waits (a long poll) answers
   * through a promise whose last stretch is metered when it runs.
   */
  private respond(
    service: ServiceModel,
    operation: string,
    input: Record<string, unknown>,
    account: string,
    key: string,
    at: number,
  ): Outcome | Promise<Outcome> {
    try {
      if (this.inBurst(key, at) || !service.admit(operation, account)) {
        this.counts.throttled.set(key, (this.counts.throttled.get(key) ?? 0) + 1);
        throw new AwsError(service.throttling.code, service.throttling.message);
      }
      const output = this.call(service, operation, input, account);
      if (output instanceof Promise) {
        return output.then(
          (out: unknown) => ({ output: out }),
          (err: unknown) => this.cpu.measure(() => failed(err)),
        );
      }
      return { output };
    } catch (err) {
      return failed(err);
    }
  }

  /** The model's answer; an operation it does not implement is counted and answered as AWS answers an unknown one. */
  private call(
    service: ServiceModel,
    operation: string,
    input: Record<string, unknown>,
    account: string,
  ): unknown {
    try {
      return service.call(operation, input, account);
    } catch (err) {
      if (!(err instanceof SimError && err.reason === SimReason.UNKNOWN_OPERATION)) throw err;
      const key = `${service.name} ${operation}`;
      this.counts.unknown.set(key, (this.counts.unknown.get(key) ?? 0) + 1);
      throw new AwsError("UnknownOperationException", `The model does not implement ${key}.`);
    }
  }

  /** Throttles a share of some operations for a while, as a burst of throttling from AWS looks to a client. */
  injectThrottling(burst: ThrottlingBurst): void {
    this.bursts.push(burst);
  }

  private inBurst(key: string, at: number): boolean {
    return this.bursts.some(
      (b) =>
        at >= b.from &&
        at < b.until &&
        b.operations.includes(key) &&
        (b.random ?? Math.random)() < b.share,
    );
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}

  private route(request: HttpRequest): {
    service: ServiceModel;
    operation: string;
    input: Record<string, unknown>;
  } {
    const body = bodyText(request.body);
    const target = header(request, "x-amz-target");
    if (target !== undefined) {
      const dot = target.indexOf(".");
      const service = this.byTarget.get(target.slice(0, dot));
      if (service === undefined) throw new SimError(SimReason.UNKNOWN_SERVICE, target);
      return {
        service,
        operation: target.slice(dot + 1),
        input: body === "" ? {} : (JSON.parse(body) as Record<string, unknown>),
      };
    }
    const service = this.byHost.get(request.hostname.split(".")[0] ?? "");
    if (service === undefined) throw new SimError(SimReason.UNKNOWN_SERVICE, request.hostname);
    const form = Object.fromEntries(new URLSearchParams(body));
    const { Action: operation = "", Version: _version, ...input } = form;
    return { service, operation, input };
  }

  private callerAccount(request: HttpRequest): string {
    const accessKey = ACCESS_KEY.exec(header(request, "authorization") ?? "")?.[1] ?? "";
    return this.principals.accountOf(accessKey);
  }

  private answer(service: ServiceModel, operation: string, output: unknown): ModelResponse {
    const p = service.protocol;
    const requestId = randomUUID();
    if (p.kind === "json") {
      return {
        statusCode: 200,
        headers: {
          "content-type": `application/x-amz-json-${p.version}`,
          "x-amzn-requestid": requestId,
        },
        body: Buffer.from(JSON.stringify(output ?? {})),
      };
    }
    const xml = `<${operation}Response xmlns="${p.xmlns}"><${operation}Result>${toXml(output)}</${operation}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
    return {
      statusCode: 200,
      headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
      body: Buffer.from(xml),
    };
  }

  private error(service: ServiceModel, err: AwsError): ModelResponse {
    const p = service.protocol;
    const requestId = randomUUID();
    if (p.kind === "json") {
      return {
        statusCode: err.status,
        headers: {
          "content-type": `application/x-amz-json-${p.version}`,
          "x-amzn-requestid": requestId,
          "x-amzn-errortype": err.code,
          // SQS answers JSON for clients of its awsQuery-compatible protocol with the query code beside it.
          ...(p.queryCompatible
            ? { "x-amzn-query-error": `${err.code};${err.status < 500 ? "Sender" : "Receiver"}` }
            : {}),
        },
        body: Buffer.from(
          JSON.stringify({ __type: err.code, message: err.awsMessage, ...err.members }),
        ),
      };
    }
    const type = err.status < 500 ? "Sender" : "Receiver";
    return {
      statusCode: err.status,
      headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
      body: Buffer.from(
        `<ErrorResponse xmlns="${p.xmlns}"><Error><Type>${type}</Type><Code>${err.code}</Code><Message>${escapeXml(err.awsMessage)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      ),
    };
  }
}

function header(request: HttpRequest, name: string): string | undefined {
  for (const [k, v] of Object.entries(request.headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return "";
  if (typeof body === "string") return body;
  // A view on the bytes: Buffer.from(body) would call the SDK's body adapter's valueOf, which warns.
  if (body instanceof Uint8Array) {
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  }
  throw new SimError(SimReason.UNKNOWN_SERVICE, "a streamed request body");
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** Members as elements, in order; a Date as ISO 8601, as the awsQuery protocol writes timestamps. */
function toXml(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== "object") return escapeXml(String(value));
  return Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
    .join("");
}
