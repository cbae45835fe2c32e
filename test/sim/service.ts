/**
 * What every service model shares: how its requests are framed, its latency
 * per operation, its quotas and the error it throttles with, and a table of
 * operations that answer a parsed input for a calling account.
 */
import { CpuMeter } from "./cpu.ts";
import { AwsError, SimError, SimReason } from "./errors.ts";
import { type Quota, Quotas } from "./quota.ts";

/** How a service's requests and answers are framed on the wire. */
export type Protocol =
  | {
      kind: "json";
      /** The `X-Amz-Target` prefix before the operation, e.g. `secretsmanager`. */
      target: string;
      version: "1.0" | "1.1";
      /** SQS: errors also carry the awsQuery code in `x-amzn-query-error`. */
      queryCompatible?: boolean;
    }
  | { kind: "query" /** First label of the endpoint's host name. */; host: string; xmlns: string };

/**
 * One operation: the parsed input and the calling account in, the output object out (or an
 * {@link AwsError} thrown); one that waits answers a promise and meters what it runs after
 * its awaits in {@link ServiceModel.cpu}.
 */
export type Operation = (input: Record<string, unknown>, account: string) => unknown;

/** Latency (ms) and quota per operation; `default` applies to operations not named. */
export interface ServiceBehaviour {
  latencyMs: Readonly<Record<string, number>> & { default: number };
  quotas: Readonly<Record<string, Quota | undefined>>;
  /** Quotas counted per calling account (Secrets Manager, STS) rather than once for the service. */
  perAccount?: boolean;
}

/**
 * A modelled AWS service.
 *
 * @example
 * class Sts extends ServiceModel {
 *   constructor() {
 *     super("STS", { kind: "query", host: "sts", xmlns }, { code: "Throttling", message: "Rate exceeded" },
 *       { latencyMs: { default: 50 }, quotas: { AssumeRole: { ratePerSecond: 600 } } });
 *   }
 * }
 */
export abstract class ServiceModel {
  private readonly quotas: Quotas;
  /**
   * Where the model's CPU is counted; the handler that serves this model gives it its own.
   * An operation that awaits measures its stretches after an await here itself.
   */
  cpu = new CpuMeter();
  protected abstract readonly operations: Readonly<Record<string, Operation>>;

  constructor(
    /** The SDK client's name without `Client`: `SecretsManager`, `ACMPCA`. */
    readonly name: string,
    readonly protocol: Protocol,
    /** The error the service answers when a quota is exceeded. */
    readonly throttling: { code: string; message: string },
    protected readonly behaviour: ServiceBehaviour,
  ) {
    this.quotas = new Quotas(behaviour.quotas);
  }

  latencyMs(operation: string): number {
    return this.behaviour.latencyMs[operation] ?? this.behaviour.latencyMs.default;
  }

  admit(operation: string, account: string): boolean {
    return this.quotas.admit(operation, this.behaviour.perAccount ? account : "");
  }

  call(operation: string, input: Record<string, unknown>, account: string): unknown {
    const op = this.operations[operation];
    if (op === undefined) {
      throw new SimError(SimReason.UNKNOWN_OPERATION, `${this.name} ${operation}`);
    }
    return op(input, account);
  }

  /** The quota bucket of `operation`, for operations that admit part of a request (BatchWriteItem). */
  protected bucket(operation: string, account: string) {
    return this.quotas.bucket(operation, this.behaviour.perAccount ? account : "");
  }
}

/**
 * The `ValidationException` (or the service's own code) a JSON service answers a malformed input with.
 *
 * @example
 * if (entries.length > 25) throw invalid("Too many items requested for the BatchWriteItem call");
 */
export function invalid(message: string, code = "ValidationException"): AwsError {
  return new AwsError(code, message);
}

/**
 * A required string member, or the service's validation error naming it.
 *
 * @example
 * const queueUrl = requireString(input, "QueueUrl", "MissingParameter");
 */
export function requireString(
  input: Record<string, unknown>,
  member: string,
  code = "ValidationException",
): string {
  const value = input[member];
  if (typeof value !== "string" || value === "") {
    throw invalid(
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must not be null`,
      code,
    );
  }
  return value;
}
