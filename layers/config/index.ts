/**
 * Configuration from environment variables, shared by the functions and the
 * layer's agent: validated once at start, and a bad value stops the process
 * with a message that names the variable and what was expected.
 */
export { formatDuration, parseDuration } from "./duration.ts";
export { type Env, EnvReader } from "./env.ts";
export { ConfigError } from "./errors.ts";
