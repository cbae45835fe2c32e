/**
 * SigV4 with the AWS SDK's own signer (`@smithy/signature-v4`, hashing with
 * the SDK's `Sha256`): the canonical request, query order and encoding are
 * the SDK's, never this project's. Only the service's rules differ: S3 signs
 * its path as sent and accepts an unsigned, streamed payload; API Gateway and
 * function URLs have their path double-encoded. A buffered payload's hash is
 * computed here in one call (Node's SHA-256), signed and sent in
 * `x-amz-content-sha256`. One signer serves every request of the same
 * credentials, kind and Region.
 */
import { createHash } from "node:crypto";
import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import type { QueryBag } from "./target.ts";
import type { BackendTarget } from "./types.ts";

/** The payload hash S3 accepts for a body the signer does not read. */
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

/** SHA-256 of no bytes, the payload hash of a request without a body. */
const EMPTY_PAYLOAD_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

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
 * One signer per (credentials, backend kind, Region): the SDK's signer takes
 * its credentials when it is made, and a route's credentials stay the same
 * object until they are refreshed, so a refresh starts new signers and the
 * old ones go with the old credentials.
 */
const signers = new WeakMap<AwsCredentialIdentity, Map<string, SignatureV4>>();

function signerFor(target: BackendTarget, credentials: AwsCredentialIdentity): SignatureV4 {
  let mine = signers.get(credentials);
  if (mine === undefined) {
    mine = new Map();
    signers.set(credentials, mine);
  }
  const key = `${target.kind} ${target.region}`;
  let signer = mine.get(key);
  if (signer === undefined) {
    signer = new SignatureV4({
      credentials,
      region: target.region,
      service: SIGNING_NAME[target.kind],
      sha256: Sha256,
      uriEscapePath: target.kind !== "s3",
      // x-amz-content-sha256 on every request: S3 requires it, and a function URL
      // reached through CloudFront accepts a body only with its hash in it.
      applyChecksum: true,
    });
    mine.set(key, signer);
  }
  return signer;
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
  const headers: Record<string, string> = { ...request.headers, host: request.host };
  // The signer takes the payload hash from this header when it is there; one
  // call here costs less than its incremental hash, and the empty body's is a constant.
  headers["x-amz-content-sha256"] =
    request.body === undefined
      ? UNSIGNED_PAYLOAD
      : request.body.length === 0
        ? EMPTY_PAYLOAD_SHA256
        : createHash("sha256").update(request.body).digest("hex");
  const signed = await signerFor(target, credentials).sign(
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
