/**
 * The benchmarks' AWS call recorder: SDK middleware on every client a run
 * builds, below the retry middleware so each attempt counts as AWS bills and
 * throttles it. It keeps only the service and operation names and when each
 * was first sent; never a command's input or output, so no secret value,
 * key or credential can end up in it or in a benchmark's output.
 */
import type {
  FinalizeHandler,
  FinalizeHandlerArguments,
  HandlerExecutionContext,
  MetadataBearer,
} from "@smithy/types";
import type { MiddlewareClient } from "../emulator/faults.ts";

/** `"SecretsManager PutSecretValue"`: the service and operation of one request. */
export type CallKey = `${string} ${string}`;

/** What a window saw: requests per call key, and when each key was first sent (ms after the window opened). */
export interface CallWindow {
  readonly calls: ReadonlyMap<CallKey, number>;
  readonly firstAtMs: ReadonlyMap<CallKey, number>;
  /** When each key was last sent, ms after the window opened. */
  readonly lastAtMs: ReadonlyMap<CallKey, number>;
  /** Requests to one service, e.g. `total("Organizations")`, or to all when none is named. */
  total(service?: string): number;
  /** When the first request to `service` was sent, ms after the window opened. */
  firstAt(service: string): number | undefined;
}

interface OpenWindow {
  readonly openedAt: number;
  readonly calls: Map<CallKey, number>;
  readonly firstAtMs: Map<CallKey, number>;
  readonly lastAtMs: Map<CallKey, number>;
}

let installed = 0;

/**
 * Counts requests by service and operation across every client it is attached
 * to, in windows: `open()` starts one, its `close()` says what it saw.
 *
 * @example
 * const recorder = new CallRecorder();
 * const sts = recorder.attach(new STSClient({}));
 * const window = recorder.open();
 * await issuer.run(request, remainingMs, logger);
 * const seen = window.close();
 * console.log(seen.total("STS"), seen.calls.get("STS AssumeRole"));
 */
export class CallRecorder {
  private readonly windows = new Set<OpenWindow>();

  /** Records every request `client` sends from now on; returns the client. */
  attach<C extends MiddlewareClient>(client: C): C {
    const record =
      (next: FinalizeHandler<object, MetadataBearer>, context: HandlerExecutionContext) =>
      (args: FinalizeHandlerArguments<object>) => {
        this.record(callKey(context));
        return next(args);
      };
    client.middlewareStack.addRelativeTo(record, {
      name: `lambda-svid-bench-calls-${++installed}`,
      relation: "after",
      toMiddleware: "retryMiddleware",
    });
    return client;
  }

  /** Starts counting into a new window; windows may overlap. */
  open(): { close(): CallWindow } {
    const window: OpenWindow = {
      openedAt: performance.now(),
      calls: new Map(),
      firstAtMs: new Map(),
      lastAtMs: new Map(),
    };
    this.windows.add(window);
    return {
      close: () => {
        this.windows.delete(window);
        return seen(window);
      },
    };
  }

  private record(key: CallKey): void {
    const now = performance.now();
    for (const window of this.windows) {
      window.calls.set(key, (window.calls.get(key) ?? 0) + 1);
      if (!window.firstAtMs.has(key)) window.firstAtMs.set(key, now - window.openedAt);
      window.lastAtMs.set(key, now - window.openedAt);
    }
  }
}

function seen(window: OpenWindow): CallWindow {
  const calls = new Map(window.calls);
  const firstAtMs = new Map(window.firstAtMs);
  const lastAtMs = new Map(window.lastAtMs);
  const ofService = (service: string) =>
    [...calls.keys()].filter((key) => key.startsWith(`${service} `));
  return {
    calls,
    firstAtMs,
    lastAtMs,
    total: (service) =>
      (service === undefined ? [...calls.keys()] : ofService(service)).reduce(
        (sum, key) => sum + (calls.get(key) ?? 0),
        0,
      ),
    firstAt: (service) => {
      const times = ofService(service).map((key) => firstAtMs.get(key) as number);
      return times.length === 0 ? undefined : Math.min(...times);
    },
  };
}

/** `"ACMPCA IssueCertificate"` for an `IssueCertificateCommand` sent by an `ACMPCAClient`. */
function callKey(context: HandlerExecutionContext): CallKey {
  const service = (context.clientName ?? "unknown").replace(/Client$/, "");
  const operation = (context.commandName ?? "unknown").replace(/Command$/, "");
  return `${service} ${operation}`;
}
