/**
 * The back of the ingress: SigV4 with the AWS SDK's own signer and credential
 * chain, and forwarding to API Gateway (`execute-api`), Lambda function URLs
 * (`lambda`) and S3. The front (mTLS, routes, ACL) authorises a request and
 * hands it to a {@link Forwarder} made by {@link createForwarder}.
 *
 * - Credentials: the SDK's default chain (environment, web identity / IRSA,
 *   ECS, instance metadata), cached and fetched again before expiry; with a
 *   route role, one AssumeRole session per (role, caller) named after the
 *   caller's SPIFFE ID ({@link sessionNameFor}), in a bounded cache.
 * - Bodies: S3 bodies of declared length stream as `UNSIGNED-PAYLOAD`; other
 *   bodies are buffered up to the backend's own limit ({@link DEFAULT_MAX_BODY_BYTES}:
 *   6 MB for a function URL, 10 MB for API Gateway) and refused with 413 beyond
 *   it, before AWS is contacted.
 * - Headers: hop-by-hop fields and any signature material of the caller's
 *   are dropped; only an allow-list is signed (`host`, `content-type`,
 *   `content-md5`, `content-encoding`, `content-language`, `x-amz-*`, and
 *   {@link CALLER_ID_HEADER}, which the back sets from the authorised caller).
 *
 * Imports the AWS SDK, `lib/errors` and `lib/http`; nothing else of the project.
 *
 * @example
 * import { createForwarder } from "./backend/index.ts";
 * const forwarder = createForwarder();
 * await forwarder.forward({ target, callerId, route: "orders", path: "/prod/orders", req, res });
 *
 * @module
 */
export { AssumedRoles, type AssumedRolesOptions, DEFAULT_MAX_SESSIONS } from "./assumed-roles.ts";
export { DEFAULT_MAX_BODY_BYTES } from "./body.ts";
export {
  DEFAULT_REFRESH_BEFORE_MS,
  defaultCredentials,
  refreshingCredentials,
} from "./credentials.ts";
export { BACKEND_STATUS, BackendError, BackendReason, ERROR_HEADER } from "./errors.ts";
export {
  type BackendLogger,
  createForwarder,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  type ForwarderOptions,
} from "./forwarder.ts";
export { CALLER_ID_HEADER } from "./headers.ts";
export { sessionNameFor } from "./session-name.ts";
export { UNSIGNED_PAYLOAD } from "./signer.ts";
export type { BackendTarget, Forwarder, ForwardOutcome, ForwardRequest } from "./types.ts";
