/**
 * The configuration schema: each part declares its environment variables once,
 * as a {@link Catalogue} of {@link VariableSpec}s, and reads them only through
 * that catalogue. The default, the accepted range and the text a refusal names
 * are the same values the generated reference (`docs/configuration.md`) prints,
 * so the code and the documentation cannot disagree.
 */
import { formatDuration } from "./duration.ts";
import { type Env, EnvReader } from "./env.ts";
import { ConfigError, ConfigSchemaError, ConfigSchemaReason } from "./errors.ts";

/**
 * A default or bound that depends on another variable: the catalogue documents
 * it in words and the reader is given its value at the call.
 */
export interface Derived {
  readonly derived: string;
}

interface Described {
  /** The variable, e.g. `LAMBDA_SVID_PORT`. */
  readonly name: string;
  /** One line for the reference: what the value is used for. */
  readonly description: string;
}

/** Free text; without `default` an unset variable reads as `undefined`. */
export interface StringSpec extends Described {
  readonly kind: "string";
  readonly default?: string;
  /** The form the value must take, and the text a refusal names. */
  readonly pattern?: { readonly test: RegExp; readonly expected: string };
  /** The form in words, for values the part parses itself (a URL, routes). */
  readonly expected?: string;
  /** What an unset variable means, for the reference (e.g. `the issuer runs direct`). */
  readonly whenUnset?: string;
  /** Never echoed in a refusal. */
  readonly secret?: boolean;
}

/** Free text that must be set; `expected` is what a missing value's refusal names. */
export interface RequiredSpec extends Described {
  readonly kind: "required";
  readonly expected: string;
  readonly pattern?: { readonly test: RegExp; readonly expected: string };
  readonly secret?: boolean;
}

/** One of a fixed set of words. */
export interface OneOfSpec extends Described {
  readonly kind: "oneOf";
  readonly allowed: readonly string[];
  readonly default: string;
}

/** A whole number in `[min, max]`. */
export interface IntegerSpec extends Described {
  readonly kind: "integer";
  readonly default: number | Derived;
  readonly min: number;
  readonly max: number;
}

/** A number in `[min, max]`, fractions allowed. */
export interface NumberSpec extends Described {
  readonly kind: "number";
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

/** A duration such as `90m` or `1h30m`, in milliseconds within `[min, max]`. */
export interface DurationSpec extends Described {
  readonly kind: "duration";
  readonly default: number | Derived;
  readonly min: number;
  readonly max: number | Derived;
  /** The text a refusal names, e.g. `a duration from 1m to 7d, such as 24h`. */
  readonly expected: string;
}

/** `true` or `false`. */
export interface BooleanSpec extends Described {
  readonly kind: "boolean";
  readonly default: boolean;
}

/** One environment variable: its name, type, default, accepted values and meaning. */
export type VariableSpec =
  | StringSpec
  | RequiredSpec
  | OneOfSpec
  | IntegerSpec
  | NumberSpec
  | DurationSpec
  | BooleanSpec;

/** What {@link CatalogueReader.read} returns for a spec. */
export type ValueOf<S extends VariableSpec> = S extends OneOfSpec
  ? S["allowed"][number]
  : S extends RequiredSpec
    ? string
    : S extends StringSpec
      ? S extends { readonly default: string }
        ? string
        : string | undefined
      : S extends BooleanSpec
        ? boolean
        : number;

/** What a call supplies for a {@link Derived} default or bound. */
export interface ReadOptions {
  fallback?: number;
  max?: number;
}

/**
 * Declares one variable, keeping its literal name and kind for typed reads.
 *
 * @example
 * export const PORT = variable({
 *   name: "LAMBDA_SVID_PORT", kind: "integer", default: 2777, min: 0, max: 65_535,
 *   description: "proxy port on 127.0.0.1",
 * });
 */
export function variable<const S extends VariableSpec>(spec: S): S {
  return spec;
}

/**
 * One part's variables, declared once. The reader it makes reads only these,
 * by the declared rules.
 *
 * @example
 * const AGENT = new Catalogue("agent", "the Lambda extension", [PORT]);
 * const port = AGENT.reader(process.env).read("LAMBDA_SVID_PORT"); // number
 */
export class Catalogue<S extends VariableSpec = VariableSpec> {
  private readonly byName: ReadonlyMap<string, S>;

  /**
   * @param part the part's short name, e.g. `issuer`.
   * @param title what the part is, for the reference's heading.
   * @throws {ConfigSchemaError} when a name is declared twice.
   */
  constructor(
    readonly part: string,
    readonly title: string,
    readonly variables: readonly S[],
  ) {
    const byName = new Map<string, S>();
    for (const spec of variables) {
      if (byName.has(spec.name))
        throw new ConfigSchemaError(ConfigSchemaReason.DUPLICATE, `${part}: ${spec.name}`);
      byName.set(spec.name, spec);
    }
    this.byName = byName;
  }

  /** The declaration of `name`. @throws {ConfigSchemaError} when this part does not declare it. */
  spec(name: string): S {
    const spec = this.byName.get(name);
    if (spec === undefined)
      throw new ConfigSchemaError(ConfigSchemaReason.UNDECLARED, `${this.part}: ${name}`);
    return spec;
  }

  /** A reader of `env` that knows only this catalogue's variables. */
  reader(env: Env): CatalogueReader<S> {
    return new CatalogueReader(this, new EnvReader(env));
  }
}

/**
 * Reads one part's variables by their declarations: a value outside the
 * declared form throws {@link ConfigError} naming the variable and the
 * declared expectation; a name the catalogue lacks throws {@link ConfigSchemaError}.
 *
 * @example
 * const r = ISSUER_CATALOGUE.reader(process.env);
 * const workers = r.read("LAMBDA_SVID_WORKERS");
 */
export class CatalogueReader<S extends VariableSpec> {
  constructor(
    private readonly catalogue: Catalogue<S>,
    private readonly env: EnvReader,
  ) {}

  /** The validated value of `name`, or its default. */
  read<N extends S["name"]>(name: N, options?: ReadOptions): ValueOf<Extract<S, { name: N }>> {
    return readVariable(this.env, this.catalogue.spec(name), options) as ValueOf<
      Extract<S, { name: N }>
    >;
  }

  /**
   * The validated value of `name` when it is set, `undefined` when it is unset
   * or blank: a variable one part requires, read by another that uses it only
   * when given (the command line's `verify` and the issuer's trust domain).
   *
   * @example
   * const td = ISSUER_CATALOGUE.reader(process.env).readIfSet("LAMBDA_SVID_TRUST_DOMAIN");
   */
  readIfSet<N extends S["name"]>(
    name: N,
    options?: ReadOptions,
  ): ValueOf<Extract<S, { name: N }>> | undefined {
    if (this.env.optional(name) === undefined) return undefined;
    return this.read(name, options);
  }

  /**
   * The refusal of a value the part parsed itself and found wanting: names the
   * variable and, unless told otherwise, the declared expectation. A secret
   * variable's value is never shown.
   *
   * @example
   * throw r.refuse("LAMBDA_SVID_REGISTRY", text);
   */
  refuse(name: S["name"], shown: string | undefined, expected?: string): ConfigError {
    const spec = this.catalogue.spec(name);
    return new ConfigError(
      name,
      expected ?? expectedText(spec),
      isSecret(spec) ? undefined : shown,
    );
  }
}

/**
 * Reads one declared variable from `r`: the rule {@link CatalogueReader.read}
 * applies, usable where a single shared declaration is read on its own.
 *
 * @throws {ConfigError} naming the variable at fault.
 * @throws {ConfigSchemaError} when a derived default or bound is not supplied.
 * @example
 * readVariable(new EnvReader(process.env), SVID_SECRET_NAME); // "lambda-svid/svid"
 */
export function readVariable(r: EnvReader, spec: VariableSpec, options: ReadOptions = {}): unknown {
  switch (spec.kind) {
    case "string": {
      const value =
        spec.default === undefined ? r.optional(spec.name) : r.string(spec.name, spec.default);
      if (value !== undefined) checkPattern(spec, value);
      return value;
    }
    case "required": {
      const value = r.required(spec.name, spec.expected);
      checkPattern(spec, value);
      return value;
    }
    case "oneOf":
      return r.oneOf(spec.name, spec.allowed, spec.default);
    case "integer":
      return r.integer(
        spec.name,
        resolve(spec, "default", spec.default, options.fallback),
        spec.min,
        spec.max,
      );
    case "number":
      return r.number(spec.name, spec.default, spec.min, spec.max);
    case "duration":
      return r.duration(
        spec.name,
        resolve(spec, "default", spec.default, options.fallback),
        spec.min,
        resolve(spec, "max", spec.max, options.max),
        spec.expected,
      );
    case "boolean":
      return r.boolean(spec.name, spec.default);
  }
}

function checkPattern(spec: StringSpec | RequiredSpec, value: string): void {
  if (spec.pattern !== undefined && !spec.pattern.test.test(value))
    throw new ConfigError(spec.name, spec.pattern.expected, spec.secret ? undefined : value);
}

/** A declared number, or the one the call supplies for a derived one (and only then). */
function resolve(
  spec: VariableSpec,
  field: string,
  declared: number | Derived,
  supplied: number | undefined,
): number {
  if (typeof declared === "number") {
    if (supplied !== undefined)
      throw new ConfigSchemaError(ConfigSchemaReason.NOT_DERIVED, `${spec.name} ${field}`);
    return declared;
  }
  if (supplied === undefined)
    throw new ConfigSchemaError(ConfigSchemaReason.DERIVED_MISSING, `${spec.name} ${field}`);
  return supplied;
}

function isSecret(spec: VariableSpec): boolean {
  return (spec.kind === "string" || spec.kind === "required") && spec.secret === true;
}

/**
 * What the variable accepts, in words: the text a refusal names and the
 * reference's "accepts" column.
 *
 * @example
 * expectedText({ name: "N", kind: "integer", default: 3, min: 1, max: 20, description: "" });
 * // "an integer from 1 to 20"
 */
export function expectedText(spec: VariableSpec): string {
  switch (spec.kind) {
    case "string":
      return spec.pattern?.expected ?? spec.expected ?? "any text";
    case "required":
      return spec.pattern?.expected ?? spec.expected;
    case "oneOf":
      return `one of ${spec.allowed.join(", ")}`;
    case "integer":
      return `an integer from ${spec.min} to ${spec.max}`;
    case "number":
      return `a number from ${spec.min} to ${spec.max}`;
    case "duration":
      return spec.expected;
    case "boolean":
      return "true or false";
  }
}

/**
 * The default as the reference prints it: durations in units, derived ones
 * in words, `required` or the meaning of an unset variable.
 *
 * @example
 * defaultText({ name: "D", kind: "duration", default: 5_400_000, min: 0, max: 86_400_000, expected: "", description: "" });
 * // "1h30m"
 */
export function defaultText(spec: VariableSpec): string {
  switch (spec.kind) {
    case "string":
      return spec.default ?? `unset: ${spec.whenUnset ?? "none"}`;
    case "required":
      return "required";
    case "oneOf":
      return spec.default;
    case "boolean":
      return String(spec.default);
    case "integer":
    case "number":
      return typeof spec.default === "number" ? String(spec.default) : spec.default.derived;
    case "duration":
      return typeof spec.default === "number" ? formatDuration(spec.default) : spec.default.derived;
  }
}
