/**
 * An S3-shaped HTTP server for benchmarks: it serves one object's GetObject
 * over keep-alive connections and costs a few microseconds a request, so a
 * benchmark against it measures its client, not the backend (moto answers
 * about 120 requests a second and closes every connection).
 *
 * It answers as S3 does for a path-style GET of the object (status, headers,
 * body) and refuses, with S3's XML error, a request that is not SigV4-signed
 * for the bucket's access key ID; it does not recompute the signature (the
 * ingress's tests have real verifiers: moto's S3 and botocore).
 */
import { createHash, randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface S3StandInOptions {
  bucket: string;
  key: string;
  body: Buffer;
  /** The access key ID a request's `Credential=` must name. */
  accessKeyId: string;
}

export interface S3StandIn {
  /** `http://127.0.0.1:<port>`, for an SDK client's `endpoint` or a route's. */
  endpoint: string;
  /** TCP connections accepted and requests answered so far. */
  counts(): { connections: number; requests: number };
  close(): Promise<void>;
}

/**
 * Starts the stand-in on a free loopback port.
 *
 * @example
 * const s3 = await startS3StandIn({ bucket: "b", key: "k", body: Buffer.alloc(1024), accessKeyId: "AKIA..." });
 * const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true });
 * await client.send(new GetObjectCommand({ Bucket: "b", Key: "k" }));
 * await s3.close();
 */
export async function startS3StandIn(options: S3StandInOptions): Promise<S3StandIn> {
  const path = `/${options.bucket}/${options.key}`;
  const credential = `AWS4-HMAC-SHA256 Credential=${options.accessKeyId}/`;
  const objectHeaders = {
    "content-type": "application/octet-stream",
    "content-length": String(options.body.length),
    etag: `"${createHash("md5").update(options.body).digest("hex")}"`,
    "last-modified": new Date().toUTCString(),
    "accept-ranges": "bytes",
    server: "AmazonS3",
  };
  let connections = 0;
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    const signed =
      req.headers.authorization?.startsWith(credential) === true &&
      req.headers["x-amz-date"] !== undefined &&
      req.headers["x-amz-content-sha256"] !== undefined;
    res.setHeader("x-amz-request-id", randomBytes(8).toString("hex").toUpperCase());
    if (!signed) return error(res, 403, "AccessDenied", "Access Denied");
    // The SDK adds `?x-id=GetObject`; the path alone names the object.
    if (req.method !== "GET" || req.url?.split("?", 1)[0] !== path) {
      return error(res, 404, "NoSuchKey", "The specified key does not exist.");
    }
    res.writeHead(200, objectHeaders);
    res.end(options.body);
  });
  server.on("connection", () => connections++);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ connections, requests }),
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

function error(res: http.ServerResponse, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, {
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(xml),
  });
  res.end(xml);
}
