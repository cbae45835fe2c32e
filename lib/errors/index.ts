/**
 * The base of every typed error the product parts throw (issuer, syncer,
 * agent, configuration, shared plumbing), on the SPIFFE library's model: a
 * fixed `reason` per failure, declared as a named constant in the part's own
 * `errors.ts` and starting with the part's prefix (`issuer: `, `syncer: `...),
 * and a message `<reason>: <detail>: <cause>`. Callers and tests branch on
 * `reason`, never on the text.
 *
 * Imports nothing of the project: the SPIFFE library keeps its own base
 * (`SpiffeError`) because it knows no product part.
 */

/**
 * A failure with a fixed reason. A cause is always kept as `cause`; its text
 * joins the message only when it cannot hold a secret (see {@link causeText}).
 *
 * @example
 * export const CaReason = { NOT_ISSUED: "issuer: acm-pca: certificate was not issued" } as const;
 * export class CaError extends LambdaSvidError {
 *   constructor(reason: (typeof CaReason)[keyof typeof CaReason], detail?: string) {
 *     super(reason, detail);
 *     this.name = "CaError";
 *   }
 * }
 */
export class LambdaSvidError extends Error {
  /** The fixed reason, one of the part's `*Reason` constants. */
  readonly reason: string;

  constructor(reason: string, detail?: string, options?: { cause?: unknown }) {
    super(
      `${reason}${detail === undefined ? "" : `: ${detail}`}${causeText(options?.cause)}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "LambdaSvidError";
    this.reason = reason;
  }
}

/**
 * The text a cause adds to a message. Errors with a fixed `reason` (this
 * project's and the SPIFFE library's) promise messages without secret
 * content, AWS SDK service errors name resources, never values, and Node's
 * socket and TLS errors name addresses and paths: their messages are chained. Any
 * other error (a JSON or YAML parser quoting the text it read, which may be a
 * secret) adds only its name.
 *
 * @example
 * causeText(new SyntaxError("Unexpected token h in \"hunter2\"")); // ": SyntaxError"
 */
export function causeText(cause: unknown): string {
  if (!(cause instanceof Error)) return "";
  if (typeof (cause as { reason?: unknown }).reason === "string") return `: ${cause.message}`;
  if ("$metadata" in cause || "$fault" in cause) return `: ${cause.name}: ${cause.message}`;
  if (isNetworkError(cause)) return `: ${cause.message}`;
  return `: ${cause.name}`;
}

/**
 * Node's own plain `Error` with a socket error (it has a `syscall`), a TLS
 * error or an OpenSSL verification code. Node's other `ERR_*` codes are left
 * out (argument errors quote the value), and so are other libraries' errors
 * with codes of their own (a YAML parser's quotes the text).
 */
function isNetworkError(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  if (err.name !== "Error" || typeof code !== "string") return false;
  return "syscall" in err || /^ERR_(TLS|SSL)_/.test(code) || !code.startsWith("ERR_");
}
