/**
 * Reading a request body into memory, up to a limit. Services that need the
 * payload hashed into the signature (API Gateway, function URLs) get a
 * buffered body; the limit keeps one caller from holding the ingress's memory.
 */
import type { IncomingMessage } from "node:http";
import { BackendError, BackendReason } from "./errors.ts";

/**
 * The largest body each kind of backend itself accepts, buffered up to that
 * by default: a function URL is bound by Lambda's synchronous invocation
 * payload (6 MB), API Gateway by its own payload limit (10 MB). S3 bodies of
 * declared length stream and are not buffered; a chunked one is held to the
 * larger limit.
 */
export const DEFAULT_MAX_BODY_BYTES: Readonly<Record<"execute-api" | "lambda" | "s3", number>> = {
  lambda: 6 * 1024 * 1024,
  "execute-api": 10 * 1024 * 1024,
  s3: 10 * 1024 * 1024,
};

/**
 * The declared `content-length`, or `undefined` for a chunked or empty body.
 *
 * @example
 * const declared = declaredLength(req); // 1024
 */
export function declaredLength(req: IncomingMessage): number | undefined {
  const value = req.headers["content-length"];
  return value === undefined ? undefined : Number(value);
}

/**
 * Whether the request has a body at all: HTTP/1.1 frames one only with
 * `content-length` or `transfer-encoding` (RFC 9112 section 6.3).
 *
 * @example
 * const body = hasBody(req) ? await readBody(req, limit) : Buffer.alloc(0);
 */
export function hasBody(req: IncomingMessage): boolean {
  return (
    req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined
  );
}

/**
 * Reads the whole body, refusing beyond `maxBytes` before reading any of it
 * when the length is declared, and as soon as the limit is passed otherwise.
 * The rest of a refused body is left unread: the caller closes the connection.
 *
 * @throws {BackendError} `BODY_TOO_LARGE`, or `BODY_ABORTED` when the caller went away.
 * @example
 * const body = await readBody(req, DEFAULT_MAX_BODY_BYTES.lambda);
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > maxBytes) {
    return Promise.reject(tooLarge(`declared ${declared} bytes`, maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error: BackendError) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return stop(tooLarge(`more than ${maxBytes} bytes sent`, maxBytes));
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (req.complete) resolve(Buffer.concat(chunks, size));
      else stop(new BackendError(BackendReason.BODY_ABORTED));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.once("error", (cause) =>
      stop(new BackendError(BackendReason.BODY_ABORTED, undefined, { cause })),
    );
    req.once("close", () => {
      if (!req.complete) stop(new BackendError(BackendReason.BODY_ABORTED));
    });
  });
}

function tooLarge(detail: string, maxBytes: number): BackendError {
  return new BackendError(BackendReason.BODY_TOO_LARGE, `${detail}, limit ${maxBytes}`);
}
