import { describe, expect, it } from "vitest";
import { IdTemplateError, IdTemplateReason } from "../../functions/issuer/errors.ts";
import { IdTemplate } from "../../functions/issuer/identity.ts";
import { parseTrustDomain } from "../../layers/spiffe/index.ts";
import { thrown } from "../support/thrown.ts";

const td = parseTrustDomain("example.org");
const parseError = (text: string) => thrown(() => IdTemplate.parse(text, td), IdTemplateError);

describe("ID template", () => {
  it.each([
    [
      "spiffe://{trustDomain}/{region}/{service}",
      IdTemplateReason.UNKNOWN_PLACEHOLDER,
      "issuer: ID template has an unknown placeholder: {region}",
    ],
    [
      "spiffe://{trustDomain}/{environment}",
      IdTemplateReason.NO_SERVICE,
      'issuer: ID template must contain {service}: "spiffe://{trustDomain}/{environment}"',
    ],
    [
      "spiffe://other.org/{service}",
      IdTemplateReason.OUTSIDE_TRUST_DOMAIN,
      'issuer: ID template makes IDs outside the trust domain: "spiffe://other.org/{service}" in example.org',
    ],
    [
      "spiffe://{trustDomain}/{environment}-{service}",
      IdTemplateReason.NOT_SEPARATED,
      'issuer: ID template placeholders must be separated by "/", which their values cannot contain: {environment} and {service}',
    ],
  ])("refuses %s with its reason and an exact message", (text, reason, message) => {
    const err = parseError(text);
    expect(err.reason).toBe(reason);
    expect(err.message).toBe(message);
    expect(err.name).toBe("IdTemplateError");
  });

  it.each([
    [{ service: "bad name", environment: "prod" }, 'service "bad name"'],
    [{ service: "svc", environment: ".." }, 'environment ".."'],
  ])("refuses to render %j: a value that is not one path segment", (fields, detail) => {
    const template = IdTemplate.parse(IdTemplate.DEFAULT, td);
    const err = thrown(
      () => template.render({ ...fields, accountId: "111122223333" }),
      IdTemplateError,
    );
    expect(err.reason).toBe(IdTemplateReason.BAD_SEGMENT);
    expect(err.message).toBe(`${IdTemplateReason.BAD_SEGMENT}: ${detail}`);
  });
});
