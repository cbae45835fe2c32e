/** A configuration value that is missing or malformed; the message names the variable and what was expected. */
export class ConfigError extends Error {
  readonly variable: string;

  /**
   * @param shown the offending value as it may appear in logs, or `undefined`
   *   for variables whose value must not be echoed.
   */
  constructor(variable: string, expected: string, shown?: string) {
    super(
      `config: ${variable} ${shown === undefined ? "is invalid" : `is ${JSON.stringify(shown)}`}; expected ${expected}`,
    );
    this.name = "ConfigError";
    this.variable = variable;
  }
}
