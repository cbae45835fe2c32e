/**
 * Configuration from environment variables, shared by the functions, the
 * layer's agent, the CLI and the deployment tooling: validated once at start,
 * and a bad value stops the process with a message that names the variable and
 * what was expected. Each part declares its variables once, as a
 * {@link Catalogue} of {@link VariableSpec}s (type, default, range, meaning),
 * and reads them only through it; {@link renderReference} prints the
 * catalogues as `docs/configuration.md` (`npm run docs:config`), so the
 * reference cannot drift from the code. {@link EnvReader} is the typed
 * primitive the catalogue reader is built on.
 *
 * Plumbing that knows no product part: imports Node only, nothing from
 * functions/, layers/ or cli/.
 *
 * @example
 * import { Catalogue, variable } from "../../lib/config/index.ts";
 * const PORT = variable({
 *   name: "LAMBDA_SVID_PORT", kind: "integer", default: 2777, min: 0, max: 65_535,
 *   description: "proxy port on 127.0.0.1",
 * });
 * const AGENT = new Catalogue("agent", "the Lambda extension", [PORT]);
 * const port = AGENT.reader(process.env).read("LAMBDA_SVID_PORT"); // ConfigError names a bad value
 *
 * @module
 */
export { formatDuration, parseDuration } from "./duration.ts";
export { type Env, EnvReader } from "./env.ts";
export {
  ConfigError,
  ConfigReason,
  ConfigSchemaError,
  ConfigSchemaReason,
} from "./errors.ts";
export { renderReference } from "./reference.ts";
export {
  type BooleanSpec,
  Catalogue,
  CatalogueReader,
  type Derived,
  type DurationSpec,
  defaultText,
  expectedText,
  type IntegerSpec,
  type NumberSpec,
  type OneOfSpec,
  type ReadOptions,
  type RequiredSpec,
  readVariable,
  type StringSpec,
  type ValueOf,
  type VariableSpec,
  variable,
} from "./schema.ts";
