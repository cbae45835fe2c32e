/**
 * SigV4 with the AWS SDK's own signer (`@smithy/signature-v4`, hashing with
 * the SDK's `Sha256`): the canonical request, query order and encoding are
 * the SDK's, never this project's. Only the service's rules differ: S3 signs
 * its path as sent and accepts an unsigned, streamed payload; API Gateway and
 * function URLs have their path double-encoded. A buffered payload's hash is
 * signed and sent in `x-amz-content-sha256`.
 */
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import type { QueryBag } from "./target.ts";
import type { BackendTarget } from "./types.ts";

/** The payload hash S3 accepts for a body the signer does not read. */
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

/** The SigV4 signing name of each backend kind. */
const SIGNING_NAME: Readonly<Record<BackendTarget["kind"], string>> = {
  "execute-api": "execute-api",
  lambda: "lambda",
  s3: "s3",
};

/** What is signed: the request as it will be sent, with only the headers to sign. */
export interface Unsigned {
  method: string;
  host: string;
  path: string;
  query: QueryBag;
  /** Headers to sign, lower-case names; `host` is added. */
  headers: Record<string, string>;
  /** The buffered body, or `undefined` for a streamed (S3) body sent as UNSIGNED-PAYLOAD. */
  body: Buffer | undefined;
}

/**
 * Signs `request` for `target` and returns the headers to send: the signed
 * ones plus `authorization`, `x-amz-date`, `x-amz-content-sha256` and
 * `x-amz-security-token`.
 *
 * @example
 * const headers = await signRequest(target, credentials, new Date(), {
 *   method: "GET", host: target.host, path: "/prod/items", query: { a: "1" }, headers: {}, body: Buffer.alloc(0),
 * });
 */
export async function signRequest(
  target: BackendTarget,
  credentials: AwsCredentialIdentity,
  signingDate: Date,
  request: Unsigned,
): Promise<Record<string, string>> {
  const s3 = target.kind === "s3";
  const signer = new SignatureV4({
    credentials,
    region: target.region,
    service: SIGNING_NAME[target.kind],
    sha256: Sha256,
    uriEscapePath: !s3,
    // x-amz-content-sha256 on every request: S3 requires it, and a function URL
    // reached through CloudFront accepts a body only with its hash in it.
    applyChecksum: true,
  });
  const headers: Record<string, string> = { ...request.headers, host: request.host };
  if (s3 && request.body === undefined) headers["x-amz-content-sha256"] = UNSIGNED_PAYLOAD;
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: "https:",
      hostname: request.host,
      path: request.path,
      query: request.query,
      headers,
      body: request.body,
    },
    { signingDate },
  );
  return signed.headers;
}
