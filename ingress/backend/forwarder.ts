/**
 * The back of the ingress: takes a request the front has authorised, signs it
 * for its backend with the SDK's signer and the route's credentials, sends it
 * and streams the answer back. It answers by itself only when it cannot
 * forward: 400 for a target it will not send, 413 for a body beyond the
 * limit (before any byte reaches AWS), 502 when credentials or the backend
 * fail, 504 on a timeout, each with its reason in {@link ERROR_HEADER} and
 * no credential detail.
 */
import * as http from "node:http";
import * as https from "node:https";
import { STSClient } from "@aws-sdk/client-sts";
import { escapeUri } from "@smithy/core/protocols";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { AssumedRoles, DEFAULT_MAX_SESSIONS } from "./assumed-roles.ts";
import { DEFAULT_MAX_BODY_BYTES, declaredLength, hasBody, readBody } from "./body.ts";
import {
  DEFAULT_REFRESH_BEFORE_MS,
  defaultCredentials,
  refreshingCredentials,
} from "./credentials.ts";
import { BackendError, BackendReason, ERROR_HEADER } from "./errors.ts";
import { forwardedHeaders, responseHeaders } from "./headers.ts";
import { signRequest } from "./signer.ts";
import { type RequestTarget, requestTarget } from "./target.ts";
import type { BackendTarget, Forwarder, ForwardOutcome, ForwardRequest } from "./types.ts";

/** How long the back waits for a backend's response head or its next bytes. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;

/** Where the back reports what it answered by itself; Powertools' `Logger` fits. */
export interface BackendLogger {
  warn(message: string, fields: Record<string, unknown>): void;
}

export interface ForwarderOptions {
  /**
   * The ingress's own credentials. Default: the SDK's default chain
   * (`fromNodeProviderChain`: environment, web identity / IRSA, ECS, instance
   * metadata). Either way cached and fetched again {@link refreshBeforeMs}
   * before expiry.
   */
  credentials?: AwsCredentialIdentityProvider;
  /** Default 5 minutes, the SDK's own margin. */
  refreshBeforeMs?: number;
  /**
   * Largest request body buffered for a service whose signature covers the
   * payload (`execute-api`, `lambda`; S3 bodies of declared length stream).
   * Default: the backend kind's own limit, {@link DEFAULT_MAX_BODY_BYTES}.
   */
  maxBodyBytes?: number;
  /** The STS client that assumes route roles in a Region. Default: one per Region with {@link credentials}. */
  stsClient?: (region: string) => STSClient;
  /** Most (role, caller) sessions kept. Default {@link DEFAULT_MAX_SESSIONS}. */
  maxSessions?: number;
  /** Default {@link DEFAULT_UPSTREAM_TIMEOUT_MS}. */
  upstreamTimeoutMs?: number;
  /** Default: one JSON line on stderr per answer the back gives itself. */
  logger?: BackendLogger;
  /** The signing clock; default `Date.now`. */
  now?: () => number;
}

/**
 * Makes the back of the ingress.
 *
 * @example
 * const forwarder = createForwarder({ maxBodyBytes: 6 * 1024 * 1024 });
 * const outcome = await forwarder.forward({
 *   target: { kind: "execute-api", region: "eu-west-1", host: "abc123.execute-api.eu-west-1.amazonaws.com" },
 *   callerId: "spiffe://example.org/web", route: "orders", path: "/prod/orders?id=7", req, res,
 * });
 * await forwarder.close();
 */
export function createForwarder(options: ForwarderOptions = {}): Forwarder {
  const refreshBeforeMs = options.refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS;
  const timeoutMs = options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  const logger = options.logger ?? stderrLogger;
  const now = options.now ?? Date.now;
  const ownCredentials = refreshingCredentials(
    options.credentials ?? defaultCredentials(),
    refreshBeforeMs,
  );
  const stsClients = new Map<string, STSClient>();
  const sts =
    options.stsClient ??
    ((region: string) => {
      let client = stsClients.get(region);
      if (client === undefined) {
        client = new STSClient({ region, credentials: ownCredentials });
        stsClients.set(region, client);
      }
      return client;
    });
  const roles = new AssumedRoles({
    sts,
    maxSessions: options.maxSessions ?? DEFAULT_MAX_SESSIONS,
    refreshBeforeMs,
    now,
    onRenewalFailure: (error) => logger.warn(error.reason, { error: error.message }),
  });
  const agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  // Parsed once per target: a route table holds its targets until a reload replaces them.
  const endpoints = new WeakMap<BackendTarget, Endpoint>();
  function endpointOf(target: BackendTarget): Endpoint {
    let endpoint = endpoints.get(target);
    if (endpoint === undefined) {
      endpoint = parseEndpoint(target, agents);
      endpoints.set(target, endpoint);
    }
    return endpoint;
  }

  async function credentialsFor(
    target: BackendTarget,
    callerId: string,
  ): Promise<AwsCredentialIdentity> {
    if (target.roleArn !== undefined) {
      return roles.credentialsFor(target.roleArn, target.region, callerId);
    }
    try {
      return await ownCredentials();
    } catch (cause) {
      throw new BackendError(BackendReason.CREDENTIALS, undefined, { cause });
    }
  }

  async function forward(request: ForwardRequest): Promise<ForwardOutcome> {
    const { target, req } = request;
    try {
      const s3 = target.kind === "s3";
      const where = requestTarget(request.path, {
        keepEmptySegments: s3,
        prefix: s3 && isPathStyle(target) ? `/${escapeUri(target.bucket ?? "")}` : undefined,
      });
      const headers = forwardedHeaders(req.headers, request.callerId);
      const declared = declaredLength(req);
      // S3 takes an unsigned payload, so a body of known length streams; any other is read
      // first, except none at all (a GET): nothing to wait for.
      const body =
        s3 && declared !== undefined
          ? undefined
          : hasBody(req)
            ? await readBody(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES[target.kind])
            : NO_BODY;
      const credentials = await credentialsFor(target, request.callerId);
      const method = req.method ?? "GET";
      const signed = await signRequest(target, credentials, new Date(now()), {
        method,
        host: target.host,
        path: where.path,
        query: where.query,
        headers: headers.signed,
        body,
      });
      const length = body === undefined ? declared : body.length;
      const sent: Record<string, string> = { ...headers.unsigned, ...signed };
      if (length !== undefined && (length > 0 || declared !== undefined)) {
        sent["content-length"] = String(length);
      }
      return await send(request, where, method, sent, body);
    } catch (error) {
      return answer(request, error);
    }
  }

  function send(
    request: ForwardRequest,
    where: RequestTarget,
    method: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
  ): Promise<ForwardOutcome> {
    const { req, res, target } = request;
    const endpoint = endpointOf(target);
    return new Promise((resolve, reject) => {
      let bytesIn = 0;
      let bytesOut = 0;
      const upstream = endpoint.request(
        {
          agent: endpoint.agent,
          protocol: endpoint.protocol,
          hostname: endpoint.hostname,
          port: endpoint.port,
          method,
          path: where.search === "" ? where.path : `${where.path}?${where.search}`,
          headers,
          timeout: timeoutMs,
        },
        (answer) => {
          res.writeHead(
            answer.statusCode ?? 502,
            answer.statusMessage,
            responseHeaders(answer.headers),
          );
          answer.on("data", (chunk: Buffer) => {
            bytesOut += chunk.length;
          });
          answer.on("error", () => res.destroy());
          answer.pipe(res);
          res.once("close", () => resolve({ status: answer.statusCode ?? 502, bytesIn, bytesOut }));
        },
      );
      upstream.on("timeout", () =>
        upstream.destroy(new BackendError(BackendReason.UPSTREAM_TIMEOUT)),
      );
      upstream.on("error", (cause) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        reject(
          cause instanceof BackendError
            ? cause
            : new BackendError(BackendReason.UPSTREAM_FAILED, target.host, { cause }),
        );
      });
      res.once("close", () => {
        if (!res.writableFinished) upstream.destroy();
      });
      if (body !== undefined) {
        bytesIn = body.length;
        upstream.end(body);
        return;
      }
      req.on("data", (chunk: Buffer) => {
        bytesIn += chunk.length;
      });
      req.once("error", () => upstream.destroy());
      req.pipe(upstream);
    });
  }

  function answer(request: ForwardRequest, error: unknown): ForwardOutcome {
    const { res } = request;
    const failure =
      error instanceof BackendError
        ? error
        : new BackendError(BackendReason.UPSTREAM_FAILED, undefined, { cause: error });
    logger.warn(failure.reason, {
      route: request.route,
      callerId: request.callerId,
      status: failure.status,
      error: failure.message,
    });
    if (res.headersSent) {
      res.destroy();
      return { status: failure.status, bytesIn: 0, bytesOut: 0 };
    }
    // A refused body is left unread: the connection cannot carry another request.
    if (failure.reason === BackendReason.BODY_TOO_LARGE || !request.req.complete) {
      res.shouldKeepAlive = false;
    }
    const text = `${failure.reason}\n`;
    res.writeHead(failure.status, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(text),
      [ERROR_HEADER]: failure.reason,
    });
    res.end(text);
    return { status: failure.status, bytesIn: 0, bytesOut: 0 };
  }

  return {
    forward,
    async close() {
      agents.http.destroy();
      agents.https.destroy();
      for (const client of stsClients.values()) client.destroy();
    },
  };
}

/** The body of a request that has none: no `content-length`, no `transfer-encoding`. */
const NO_BODY = Buffer.alloc(0);

/** Where a target's requests go, and with which module and keep-alive agent. */
interface Endpoint {
  request: typeof http.request;
  agent: http.Agent;
  protocol: string;
  hostname: string;
  port: number;
}

function parseEndpoint(
  target: BackendTarget,
  agents: { http: http.Agent; https: https.Agent },
): Endpoint {
  const url = new URL(target.endpoint ?? `https://${target.host}`);
  const secure = url.protocol === "https:";
  return {
    request: secure ? https.request : http.request,
    agent: secure ? agents.https : agents.http,
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port === "" ? (secure ? 443 : 80) : Number(url.port),
  };
}

/** With an endpoint of its own (a VPC endpoint, an emulator) the bucket goes in the path. */
function isPathStyle(target: BackendTarget): boolean {
  return target.bucket !== undefined && target.endpoint !== undefined;
}

const stderrLogger: BackendLogger = {
  warn(message, fields) {
    process.stderr.write(`${JSON.stringify({ level: "WARN", message, ...fields })}\n`);
  },
};
