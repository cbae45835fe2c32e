/**
 * Typed errors of the ingress's back. Each carries a fixed `reason` and an
 * HTTP status the forwarder answers with; none ever holds a credential, a
 * session token, a signature or a request body. The caller sees the reason in
 * {@link ERROR_HEADER}; the cause stays in the log.
 */
import { LambdaSvidError } from "../../lib/errors/index.ts";

/** Why the back answered a request itself instead of relaying the backend's answer. */
export const BackendReason = {
  BAD_TARGET: "ingress: backend: request target is not a valid path and query",
  DOT_SEGMENT: 'ingress: backend: request path must not contain "." or ".." segments',
  BODY_TOO_LARGE: "ingress: backend: request body exceeds the buffered body limit",
  BODY_ABORTED: "ingress: backend: request body was not received in full",
  CREDENTIALS: "ingress: backend: AWS credentials unavailable",
  ASSUME_ROLE: "ingress: backend: could not assume the route's role",
  UPSTREAM_FAILED: "ingress: backend: request to AWS failed",
  UPSTREAM_TIMEOUT: "ingress: backend: AWS did not answer in time",
} as const;
export type BackendReason = (typeof BackendReason)[keyof typeof BackendReason];

/** The HTTP status answered for each {@link BackendReason}. */
export const BACKEND_STATUS: Readonly<Record<BackendReason, number>> = {
  [BackendReason.BAD_TARGET]: 400,
  [BackendReason.DOT_SEGMENT]: 400,
  [BackendReason.BODY_TOO_LARGE]: 413,
  [BackendReason.BODY_ABORTED]: 400,
  [BackendReason.CREDENTIALS]: 502,
  [BackendReason.ASSUME_ROLE]: 502,
  [BackendReason.UPSTREAM_FAILED]: 502,
  [BackendReason.UPSTREAM_TIMEOUT]: 504,
};

/** Response header naming the {@link BackendReason} of an answer the back gave itself. */
export const ERROR_HEADER = "x-lambda-svid-ingress-error";

/**
 * A request the back could not forward.
 *
 * @example
 * throw new BackendError(BackendReason.BODY_TOO_LARGE, "6291457 bytes > 6291456");
 */
export class BackendError extends LambdaSvidError {
  declare readonly reason: BackendReason;

  constructor(reason: BackendReason, detail?: string, options?: { cause?: unknown }) {
    super(reason, detail, options);
    this.name = "BackendError";
  }

  /** The HTTP status this failure is answered with. */
  get status(): number {
    return BACKEND_STATUS[this.reason];
  }
}
