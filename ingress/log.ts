/**
 * Structured JSON log lines, one per line on stdout: one per request (caller,
 * route, method, path without its query, status, latency, bytes) and one per
 * lifecycle event. Only the fields named here are ever written: no header, no
 * query string (a presigned URL carries its signature there), no credential.
 */

/** Fields of one request's line. */
export interface RequestLogEntry {
  /** The caller's verified SPIFFE ID. */
  callerId: string;
  /** The route's name, or `undefined` when none matched. */
  route: string | undefined;
  method: string;
  /** The request's path as sent, without its query. */
  path: string;
  status: number;
  latencyMs: number;
  bytesIn: number;
  bytesOut: number;
  /** The ACL's denial reason, for a 403. */
  denied?: string;
  /** The error's name, when forwarding failed. */
  error?: string;
}

/** Where the ingress writes its lines; tests and the bench pass their own. */
export interface IngressLogger {
  request(entry: RequestLogEntry): void;
  /** A lifecycle event (listening, SVID rotated, draining); `fields` hold public facts only. */
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/**
 * A logger that writes JSON lines with `time` and `level` through `write`
 * (stdout by default).
 *
 * @example
 * const log = jsonLogger();
 * log.info("listening", { port: 8443 });
 * // {"time":"2026-11-24T21:00:00.000Z","level":"info","message":"listening","port":8443}
 */
export function jsonLogger(
  write: (line: string) => void = (line) => process.stdout.write(line),
): IngressLogger {
  const line = (level: string, message: string, fields: object) =>
    write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  return {
    request: (entry) => line("info", "request", entry),
    info: (message, fields = {}) => line("info", message, fields),
    warn: (message, fields = {}) => line("warn", message, fields),
  };
}
