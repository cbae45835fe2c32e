/**
 * A slower AWS Private CA in front of moto's, which answers at once: SDK
 * middleware on a real ACM PCA client that holds every request back for
 * `answerMs`, and answers GetCertificate with AWS's RequestInProgressException
 * until `readyAfterMs` have passed since IssueCertificate returned that
 * certificate. The SDK's own deserializer and waiter see AWS-shaped responses,
 * so the adapter's polling and rate limits run as they would against AWS.
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type {
  DeserializeHandler,
  DeserializeHandlerArguments,
  HandlerExecutionContext,
  HttpResponse,
  MetadataBearer,
} from "@smithy/types";
import type { MiddlewareClient } from "../emulator/faults.ts";

export interface CaLatency {
  /** How long every ACM PCA request takes to be answered. */
  answerMs: number;
  /** How long after IssueCertificate returns its certificate can be fetched. */
  readyAfterMs: number;
}

let installed = 0;

/**
 * Makes `client` (an ACM PCA client on the emulator) answer like a CA with the given latency.
 *
 * @example
 * const pca = modelCaLatency(new ACMPCAClient(config), { answerMs: 100, readyAfterMs: 500 });
 */
export function modelCaLatency<C extends MiddlewareClient>(client: C, latency: CaLatency): C {
  const issuedAt = new Map<string, number>();
  const id = ++installed;
  // Above the deserializer: sees IssueCertificate's parsed answer, so it knows the certificate's ARN.
  const noteIssued =
    (next: DeserializeHandler<object, MetadataBearer>, context: HandlerExecutionContext) =>
    async (args: DeserializeHandlerArguments<object>) => {
      const out = await next(args);
      if (context.commandName === "IssueCertificateCommand") {
        const arn = (out.output as { CertificateArn?: string }).CertificateArn;
        if (arn !== undefined) issuedAt.set(arn, performance.now());
      }
      return out;
    };
  // Below the deserializer: answers with raw HTTP, as AWS would.
  const answer =
    (next: DeserializeHandler<object, MetadataBearer>, context: HandlerExecutionContext) =>
    async (args: DeserializeHandlerArguments<object>) => {
      await sleep(latency.answerMs);
      if (context.commandName === "GetCertificateCommand") {
        const arn = (args.input as { CertificateArn?: string }).CertificateArn ?? "";
        const at = issuedAt.get(arn);
        if (at !== undefined && performance.now() - at < latency.readyAfterMs)
          return { response: inProgress(arn) };
      }
      return next(args);
    };
  client.middlewareStack.addRelativeTo(noteIssued, {
    name: `lambda-svid-bench-ca-issued-${id}`,
    relation: "before",
    toMiddleware: "deserializerMiddleware",
  });
  client.middlewareStack.addRelativeTo(answer, {
    name: `lambda-svid-bench-ca-latency-${id}`,
    relation: "after",
    toMiddleware: "deserializerMiddleware",
  });
  return client;
}

/** ACM PCA's answer to GetCertificate while the certificate is still being issued (JSON 1.1). */
function inProgress(arn: string): HttpResponse {
  const code = "RequestInProgressException";
  const body = JSON.stringify({ __type: code, Message: `The request for ${arn} is in progress.` });
  return {
    statusCode: 400,
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amzn-errortype": code,
      "x-amzn-requestid": randomUUID(),
    },
    body: Readable.from([Buffer.from(body)]),
  };
}
