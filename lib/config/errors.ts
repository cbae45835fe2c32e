import { LambdaSvidError } from "../errors/index.ts";

/** Reasons a configuration is refused. */
export const ConfigReason = {
  /**
   * A variable is missing or malformed. The prefix alone: the detail is
   * `<VARIABLE> is "<value>"; expected <form>`, the form operators and the
   * packaging checks already read.
   */
  INVALID: "config",
} as const;
export type ConfigReason = (typeof ConfigReason)[keyof typeof ConfigReason];

/**
 * A configuration value that is missing or malformed; the message names the variable and what was expected.
 *
 * @example
 * new ConfigError("LAMBDA_SVID_CONCURRENCY", "an integer from 1 to 256", "lots").message;
 * // 'config: LAMBDA_SVID_CONCURRENCY is "lots"; expected an integer from 1 to 256'
 */
export class ConfigError extends LambdaSvidError {
  declare readonly reason: ConfigReason;
  readonly variable: string;

  /**
   * @param shown the offending value as it may appear in logs, or `undefined`
   *   for variables whose value must not be echoed.
   */
  constructor(variable: string, expected: string, shown?: string) {
    super(
      ConfigReason.INVALID,
      `${variable} ${shown === undefined ? "is invalid" : `is ${JSON.stringify(shown)}`}; expected ${expected}`,
    );
    this.name = "ConfigError";
    this.variable = variable;
  }
}
