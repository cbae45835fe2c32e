/**
 * Middleware on a real AWS SDK v3 client talking to the real emulator: counting
 * the requests it sends, and making some of them fail the way AWS fails them.
 *
 * Both sit below the SDK's retry middleware, so every attempt is seen: a call
 * retried twice counts three times, as AWS bills and throttles it. A fault sits
 * where the HTTP handler is, below signing and the deserializer: a throttle, an
 * access denial or a 5xx is an HTTP response shaped like AWS's own, which the
 * client's own deserializer turns into the service's real exception; a timeout
 * is the error the Node HTTP handler throws. The SDK's retry strategy therefore
 * decides exactly as it would against AWS, and retries against the emulator.
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type {
  DeserializeHandler,
  DeserializeHandlerArguments,
  FinalizeHandler,
  FinalizeHandlerArguments,
  HandlerExecutionContext,
  HttpRequest,
  HttpResponse,
  MetadataBearer,
  MiddlewareType,
  RelativeMiddlewareOptions,
} from "@smithy/types";

/**
 * The part of an AWS SDK v3 client these helpers use. Structural, so clients
 * built on older `@smithy/types` (the pinned ACM PCA client) fit as well.
 */
export interface MiddlewareClient {
  middlewareStack: {
    addRelativeTo(
      middleware: MiddlewareType<object, MetadataBearer>,
      options: RelativeMiddlewareOptions,
    ): void;
    remove(toRemove: string): boolean;
  };
}

export interface CallCount {
  /** Requests sent for an operation, e.g. `count("GetSecretValue")`, retries included. */
  count(operation: string): number;
  /** The command input of each request sent for an operation, in order, retries included. */
  inputs(operation: string): unknown[];
  /** All requests sent. */
  readonly total: number;
  /** Takes the middleware off the client. */
  remove(): void;
}

/**
 * `too-many-requests` is how Organizations throttles (TooManyRequestsException);
 * `not-found` is Secrets Manager's ResourceNotFoundException and `target-not-found`
 * Organizations' TargetNotFoundException; `delay` holds the request back for
 * `delayMs` before sending it on, like a slow network, and gives up when the
 * caller's `abortSignal` fires, as the SDK's HTTP handler does.
 */
export type FaultKind =
  | "throttle"
  | "too-many-requests"
  | "server-error"
  | "access-denied"
  | "not-found"
  | "target-not-found"
  | "timeout"
  | "delay";

export interface FaultOptions {
  /** Operation names to fault, e.g. `["IssueCertificate"]`. */
  commands: readonly string[];
  kind: FaultKind;
  /** Only requests whose command input this accepts are faulted. */
  when?: (input: Record<string, unknown>) => boolean;
  /** Faults to inject at most, over all listed operations. Defaults to no limit. */
  times?: number;
  /** Chance that a matching request is faulted while `times` lasts. Defaults to 1. */
  probability?: number;
  /** Source of `[0, 1)` numbers for `probability`; pass `seededRandom(seed)` for repeatable runs. */
  random?: () => number;
  /** How long a `delay` fault holds each request back. Defaults to 60 seconds. */
  delayMs?: number;
}

export interface FaultInjection extends CallCount {
  /** Faults injected so far. */
  readonly injected: number;
}

let installed = 0;

/**
 * Starts counting the requests `client` sends, by operation. Tests that
 * assert on what was sent keep the inputs; a benchmark passes
 * `keepInputs: false`, so no secret value is held (`inputs` is then empty).
 *
 * @example
 * const calls = countCalls(secretsClient);
 * await syncOnce(secretsClient);
 * expect(calls.count("PutSecretValue")).toBe(0);
 */
export function countCalls(
  client: MiddlewareClient,
  options: { keepInputs?: boolean } = {},
): CallCount {
  const keep = options.keepInputs ?? true;
  const seen = new Map<string, unknown[]>();
  const name = `lambda-svid-count-calls-${++installed}`;
  const counter =
    (next: FinalizeHandler<object, MetadataBearer>, context: HandlerExecutionContext) =>
    (args: FinalizeHandlerArguments<object>) => {
      const operation = operationName(context);
      const inputs = seen.get(operation) ?? [];
      inputs.push(keep ? args.input : undefined);
      seen.set(operation, inputs);
      return next(args);
    };
  client.middlewareStack.addRelativeTo(counter, {
    name,
    relation: "after",
    toMiddleware: "retryMiddleware",
  });
  return {
    count: (operation) => seen.get(operation)?.length ?? 0,
    inputs: (operation) => (keep ? [...(seen.get(operation) ?? [])] : []),
    get total() {
      return [...seen.values()].reduce((sum, inputs) => sum + inputs.length, 0);
    },
    remove: () => {
      client.middlewareStack.remove(name);
    },
  };
}

/**
 * Makes `client` fail some of its requests the way AWS does, and counts all of them.
 *
 * @example
 * const pca = new ACMPCAClient({});
 * const faults = injectFaults(pca, { commands: ["IssueCertificate"], kind: "throttle", times: 2 });
 * await pca.send(new IssueCertificateCommand(input)); // succeeds on the SDK's third attempt
 * expect(faults.count("IssueCertificate")).toBe(3);
 */
export function injectFaults(client: MiddlewareClient, options: FaultOptions): FaultInjection {
  const { kind, when, times = Number.POSITIVE_INFINITY, probability = 1 } = options;
  const { random = Math.random } = options;
  const targets = new Set(options.commands);
  const calls = countCalls(client);
  const name = `lambda-svid-fault-${++installed}`;
  let injected = 0;

  const fault =
    (next: DeserializeHandler<object, MetadataBearer>, context: HandlerExecutionContext) =>
    async (args: DeserializeHandlerArguments<object>) => {
      const matches =
        targets.has(operationName(context)) &&
        injected < times &&
        (when === undefined || when(args.input as Record<string, unknown>)) &&
        random() < probability;
      if (!matches) return next(args);
      injected++;
      if (kind === "timeout") throw timeoutError();
      if (kind === "delay") {
        await delay(options.delayMs ?? 60_000, abortSignalOf(context));
        return next(args);
      }
      return { response: faultResponse(kind, args.request as HttpRequest) };
    };
  client.middlewareStack.addRelativeTo(fault, {
    name,
    relation: "after",
    toMiddleware: "deserializerMiddleware",
  });

  return {
    count: calls.count,
    inputs: calls.inputs,
    get total() {
      return calls.total;
    },
    get injected() {
      return injected;
    },
    remove: () => {
      client.middlewareStack.remove(name);
      calls.remove();
    },
  };
}

/**
 * A small deterministic `[0, 1)` generator (mulberry32), so a benchmark with
 * `probability` faults the same requests on every run.
 *
 * @example
 * injectFaults(client, { commands: ["PutSecretValue"], kind: "server-error", probability: 0.05, random: seededRandom(42) });
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** `"GetSecretValue"` for a `GetSecretValueCommand`, as AWS names the operation. */
function operationName(context: HandlerExecutionContext): string {
  return (context.commandName ?? "unknown").replace(/Command$/, "");
}

/**
 * The signal the caller passed to `send`, where the SDK keeps it for its own
 * middleware; clients built on older Smithy versions do not, and then a delay
 * runs its full length.
 */
function abortSignalOf(context: HandlerExecutionContext): AbortSignal | undefined {
  return (context as { __smithy_context?: { abortSignal?: AbortSignal } }).__smithy_context
    ?.abortSignal;
}

/** Waits `ms`, or rejects as the SDK's HTTP handler does once `signal` aborts. */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => {
      clearTimeout(timer);
      reject(Object.assign(new Error("Request aborted"), { name: "AbortError" }));
    };
    // Unreferenced, so a test that has moved on does not wait for a delayed request.
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }, ms).unref();
    if (signal?.aborted) aborted();
    else signal?.addEventListener("abort", aborted, { once: true });
  });
}

/** As `@smithy/node-http-handler` rejects when a socket idles past its timeout. */
function timeoutError(): Error {
  return Object.assign(
    new Error(
      "@smithy/node-http-handler - the request socket timed out after 0 ms of inactivity (injected fault).",
    ),
    { name: "TimeoutError" },
  );
}

/**
 * Status and error code per protocol, as AWS sends them: JSON 1.x (Secrets Manager,
 * Organizations, ACM PCA) and query (STS).
 */
const ERRORS = {
  throttle: {
    json: [400, "ThrottlingException"],
    query: [400, "Throttling"],
    message: "Rate exceeded",
  },
  "too-many-requests": {
    json: [400, "TooManyRequestsException"],
    query: [400, "Throttling"],
    message:
      "AWS Organizations can't complete your request because another request is already in progress.",
  },
  "access-denied": {
    json: [400, "AccessDeniedException"],
    query: [403, "AccessDenied"],
    message: "User is not authorized to perform this action (injected fault).",
  },
  "not-found": {
    json: [400, "ResourceNotFoundException"],
    query: [404, "NoSuchEntity"],
    message: "Secrets Manager can't find the specified secret (injected fault).",
  },
  "target-not-found": {
    json: [400, "TargetNotFoundException"],
    query: [404, "NoSuchEntity"],
    message: "You specified a target that doesn't exist (injected fault).",
  },
  "server-error": {
    json: [500, "InternalFailure"],
    query: [500, "InternalFailure"],
    message: "An internal error occurred (injected fault).",
  },
} as const;

/** AWS's error response, in the protocol the request was sent in. */
function faultResponse(kind: keyof typeof ERRORS, request: HttpRequest): HttpResponse {
  const { message } = ERRORS[kind];
  const requestId = randomUUID();
  const contentType = header(request, "content-type") ?? "application/x-amz-json-1.1";
  if (contentType.includes("x-www-form-urlencoded")) {
    const [status, code] = ERRORS[kind].query;
    const type = status < 500 ? "Sender" : "Receiver";
    const body =
      `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message>` +
      `</Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    return response(status, { "content-type": "text/xml", "x-amzn-requestid": requestId }, body);
  }
  const [status, code] = ERRORS[kind].json;
  return response(
    status,
    { "content-type": contentType, "x-amzn-errortype": code, "x-amzn-requestid": requestId },
    JSON.stringify({ __type: code, message }),
  );
}

function response(statusCode: number, headers: Record<string, string>, body: string): HttpResponse {
  return { statusCode, headers, body: Readable.from([Buffer.from(body)]) };
}

function header(request: HttpRequest, name: string): string | undefined {
  const key = Object.keys(request.headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : request.headers[key];
}
