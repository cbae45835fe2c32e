/**
 * Invokes a deployed function and returns its JSON answer: how `issue
 * --remote` reaches the planner and `sync` a tenant's syncer. RequestResponse,
 * so the command can print the function's own summary; a function error
 * (`X-Amz-Function-Error`) becomes a {@link CliError} with its type and message.
 */
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { CliError, CliReason } from "./errors.ts";

/**
 * @throws {CliError} `INVOKE_FAILED` when the function failed, `INVOKE_UNREADABLE` when its answer is not JSON.
 * @example
 * const report = await invokeJson(new LambdaClient({}), "lambda-svid-issuer-prod", { action: "reissue" });
 */
export async function invokeJson(
  client: LambdaClient,
  functionName: string,
  payload: unknown,
): Promise<unknown> {
  const out = await client.send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: "RequestResponse",
      Payload: Buffer.from(JSON.stringify(payload)),
    }),
  );
  const text = out.Payload === undefined ? "" : Buffer.from(out.Payload).toString("utf8");
  let body: unknown;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    throw new CliError(CliReason.INVOKE_UNREADABLE, `${functionName}: ${text.length} bytes`);
  }
  if (out.FunctionError !== undefined) {
    const error = (body ?? {}) as { errorType?: unknown; errorMessage?: unknown };
    throw new CliError(
      CliReason.INVOKE_FAILED,
      `${functionName}: ${String(error.errorType ?? out.FunctionError)}: ${String(error.errorMessage ?? "")}`,
    );
  }
  return body;
}
