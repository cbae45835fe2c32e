import { parseDuration } from "./duration.ts";
import { ConfigError } from "./errors.ts";

/** The environment to read; tests pass their own object instead of mutating process.env. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads typed values from environment variables, throwing {@link ConfigError}
 * that names the variable and the expected form on the first bad value.
 */
export class EnvReader {
  constructor(private readonly env: Env) {}

  /** The trimmed value, or `undefined` when unset or empty. */
  optional(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  }

  required(name: string, expected: string): string {
    const value = this.optional(name);
    if (value === undefined) throw new ConfigError(name, expected, "");
    return value;
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  /** A value from a fixed set. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(name, `one of ${allowed.join(", ")}`, value);
    }
    return value as T;
  }

  /** An integer in `[min, max]`. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new ConfigError(name, `an integer from ${min} to ${max}`, value);
    }
    return n;
  }

  /** A positive number in `[min, max]` (fractions allowed, e.g. a rate of 0.5 per second). */
  number(name: string, fallback: number, min: number, max: number): number {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new ConfigError(name, `a number from ${min} to ${max}`, value);
    }
    return n;
  }

  /** A duration such as `24h` or `90m`, in milliseconds, within `[minMs, maxMs]`. */
  duration(
    name: string,
    fallbackMs: number,
    minMs: number,
    maxMs: number,
    expected: string,
  ): number {
    const value = this.optional(name);
    if (value === undefined) return fallbackMs;
    const ms = parseDuration(value);
    if (ms === undefined || ms < minMs || ms > maxMs) throw new ConfigError(name, expected, value);
    return ms;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    if (value === "true") return true;
    if (value === "false") return false;
    throw new ConfigError(name, "true or false", value);
  }
}
