import { ResourceNotFoundException } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { SvidSecretError, SvidSecretReason } from "../../layers/spiffe/index.ts";
import { causeText, LambdaSvidError } from "../../lib/errors/index.ts";

const SECRET = "hunter2-correct-horse";

function parserError(): Error {
  try {
    JSON.parse(`{"password": ${SECRET}}`);
  } catch (err) {
    return err as Error;
  }
  throw new Error("JSON.parse accepted a torn document");
}

describe("LambdaSvidError", () => {
  it("is `<reason>: <detail>: <cause>`, keeps the cause and the fixed reason", () => {
    const cause = new LambdaSvidError("inner: failed", "x");
    const err = new LambdaSvidError("outer: failed", '"name"', { cause });
    expect(err.reason).toBe("outer: failed");
    expect(err.message).toBe('outer: failed: "name": inner: failed: x');
    expect(err.cause).toBe(cause);
    expect(new LambdaSvidError("only: reason").message).toBe("only: reason");
  });
});

describe("causeText chains only what cannot hold a secret", () => {
  it.each([
    ["a typed error of this project", new LambdaSvidError("syncer: x", "y"), ": syncer: x: y"],
    [
      "a SPIFFE library error",
      new SvidSecretError(SvidSecretReason.NOT_JSON),
      `: ${SvidSecretReason.NOT_JSON}`,
    ],
    [
      "an AWS SDK service error",
      new ResourceNotFoundException({ message: "Secrets Manager can't find it", $metadata: {} }),
      ": ResourceNotFoundException: Secrets Manager can't find it",
    ],
    [
      "a socket error",
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), {
        code: "ECONNREFUSED",
        syscall: "connect",
      }),
      ": connect ECONNREFUSED 127.0.0.1:9",
    ],
    [
      "a TLS verification error",
      Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
      ": self-signed certificate",
    ],
  ])("%s: its message", (_what, cause, text) => {
    expect(causeText(cause)).toBe(text);
  });

  it("a JSON parser's message quotes what it read: only its name", () => {
    const cause = parserError();
    expect(cause.message).toContain("hunter2");
    expect(causeText(cause)).toBe(": SyntaxError");
    expect(new LambdaSvidError("x: y", undefined, { cause }).message).toBe("x: y: SyntaxError");
  });

  it("a YAML parser's error carries a code of its own and quotes the text: only its name", () => {
    const cause = parseDocument(`key: [${SECRET}`).errors[0] as Error;
    expect(cause.message).toContain(SECRET);
    expect(causeText(cause)).toBe(`: ${cause.name}`);
  });

  it("Node's argument errors quote the value: only their name", () => {
    let cause: Error | undefined;
    try {
      Buffer.from(42 as unknown as string);
    } catch (err) {
      cause = err as Error;
    }
    expect((cause as NodeJS.ErrnoException).code).toBe("ERR_INVALID_ARG_TYPE");
    expect(causeText(cause)).toBe(": TypeError");
  });

  it("a non-error adds nothing", () => {
    expect(causeText(SECRET)).toBe("");
    expect(causeText(undefined)).toBe("");
  });
});
