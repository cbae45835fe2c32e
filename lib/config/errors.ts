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

/** Reasons a catalogue or a read from it is a programming error (never a bad value). */
export const ConfigSchemaReason = {
  /** A part read a variable its catalogue does not declare. */
  UNDECLARED: "config: variable not declared in the catalogue",
  /** A catalogue declares one name twice. */
  DUPLICATE: "config: variable declared twice",
  /** Two parts declare one variable with different declarations instead of sharing one. */
  CONFLICT: "config: variable declared differently by two parts",
  /** A derived default or bound was not supplied by the call. */
  DERIVED_MISSING: "config: derived value not supplied",
  /** A call supplied a default or bound the catalogue declares as fixed. */
  NOT_DERIVED: "config: declared value overridden",
} as const;
export type ConfigSchemaReason = (typeof ConfigSchemaReason)[keyof typeof ConfigSchemaReason];

/**
 * A part's code disagrees with its own catalogue: a bug, found by the part's
 * tests, never by an operator's value.
 *
 * @example
 * new ConfigSchemaError(ConfigSchemaReason.UNDECLARED, "agent: LAMBDA_SVID_PROT").message;
 * // "config: variable not declared in the catalogue: agent: LAMBDA_SVID_PROT"
 */
export class ConfigSchemaError extends LambdaSvidError {
  declare readonly reason: ConfigSchemaReason;

  constructor(reason: ConfigSchemaReason, detail: string) {
    super(reason, detail);
    this.name = "ConfigSchemaError";
  }
}
