import { describe, expect, it } from "vitest";
import { monthlyCost } from "./cost.ts";

const idle = {
  days: 30,
  identities: 1,
  certificates: 0,
  secrets: 0,
  secretsManagerCalls: 0,
  sqsRequests: 0,
  dynamodbWriteUnits: 0,
  dynamodbReadUnits: 0,
  lambdaInvocations: 0,
  lambdaGbSeconds: 0,
};

describe("monthlyCost", () => {
  it("prices general-purpose certificates by tier and short-lived ones flat, each beside its CA's monthly fee", () => {
    const cost = monthlyCost({ ...idle, certificates: 20_000 });
    expect(cost.generalPurposeCa).toBeCloseTo(
      400 + 1_000 * 0.75 + 9_000 * 0.35 + 10_000 * 0.001,
      6,
    );
    expect(cost.shortLivedCa).toBeCloseTo(50 + 20_000 * 0.058, 6);
  });

  it("scales a shorter period to 30 days; secrets are a monthly count, not scaled", () => {
    const cost = monthlyCost({
      ...idle,
      days: 2,
      secrets: 10,
      secretsManagerCalls: 20_000,
      sqsRequests: 2e6,
      dynamodbWriteUnits: 1e6,
      dynamodbReadUnits: 2e6,
      lambdaInvocations: 1e6,
      lambdaGbSeconds: 1_000,
    });
    expect(cost.secretsManager).toBeCloseTo(10 * 0.4 + 30 * 0.05, 6);
    expect(cost.sqs).toBeCloseTo(15 * 2 * 0.4, 6);
    expect(cost.dynamodb).toBeCloseTo(15 * (0.625 + 2 * 0.125), 6);
    expect(cost.lambda).toBeCloseTo(15 * (1_000 * 0.0000133334 + 0.2), 6);
    expect(cost.totalShortLived - cost.totalGeneralPurpose).toBeCloseTo(50 - 400, 6);
  });
});
