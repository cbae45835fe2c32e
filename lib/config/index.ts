/**
 * Configuration from environment variables, shared by the functions, the
 * layer's agent, the CLI and the deployment tooling: validated once at start,
 * and a bad value stops the process with a message that names the variable and
 * what was expected. Each part's own variables are read by that part's config
 * module through {@link EnvReader}.
 *
 * Plumbing that knows no product part: imports Node only, nothing from
 * functions/, layers/ or cli/.
 *
 * @example
 * import { ConfigError, EnvReader } from "../../lib/config/index.ts";
 * const r = new EnvReader(process.env);
 * const port = r.integer("LAMBDA_SVID_PORT", 2777, 0, 65_535); // ConfigError names a bad value
 *
 * @module
 */
export { formatDuration, parseDuration } from "./duration.ts";
export { type Env, EnvReader } from "./env.ts";
export { ConfigError, ConfigReason } from "./errors.ts";
