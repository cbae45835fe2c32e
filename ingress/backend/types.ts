import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The contract between the ingress's front (mTLS server, route table, ACL)
 * and its back (SigV4 signing, credentials, forwarding to AWS). The front
 * authorises first and only then hands a request to a {@link Forwarder}.
 *
 * @example
 * const target: BackendTarget = {
 *   kind: "execute-api",
 *   region: "eu-west-1",
 *   host: "abc123.execute-api.eu-west-1.amazonaws.com",
 * };
 */
export interface BackendTarget {
  /** `execute-api`: API Gateway; `lambda`: a function URL with IAM auth; `s3`: a bucket. */
  kind: "execute-api" | "lambda" | "s3";
  region: string;
  /** The backend's host name, signed as the `host` header. */
  host: string;
  /** Optional role the ingress assumes for this route (session name from the caller's SPIFFE ID). */
  roleArn?: string;
  /**
   * Where requests are sent, when that is not `https://<host>` (a VPC endpoint,
   * or a local emulator in tests); the signed `host` header stays {@link host}.
   */
  endpoint?: string;
  /** For `s3`: the bucket (virtual-hosted on `host`, or path-style when {@link endpoint} is set). */
  bucket?: string;
}

/** One authorised request, handed from the front to the back. */
export interface ForwardRequest {
  target: BackendTarget;
  /** The caller's SPIFFE ID, already authorised by the route's ACL. */
  callerId: string;
  /** The route's name, for logs and metrics. */
  route: string;
  /** The path (and query) to send to the backend, after the route's prefix is applied. */
  path: string;
  req: IncomingMessage;
  res: ServerResponse;
}

/** What a forward did, for the front's structured log line and metrics. */
export interface ForwardOutcome {
  status: number;
  /** Bytes of request body sent to the backend. */
  bytesIn: number;
  bytesOut: number;
}

/** The back: signs with the SDK's signer and sends; answers 413 beyond its body limit. */
export interface Forwarder {
  forward(request: ForwardRequest): Promise<ForwardOutcome>;
  close(): Promise<void>;
}
