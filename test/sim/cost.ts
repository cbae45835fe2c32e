/**
 * The monthly bill of a simulated fleet at AWS list prices (us-east-1): the
 * Private CA in either usage mode, Secrets Manager, SQS, DynamoDB on demand
 * and Lambda on arm64, from what a simulated period used, scaled to 30 days.
 * The CA and per-secret prices are those the 7-day simulation in
 * test/bench/issuer.ts used.
 */

/** List prices, USD. */
export const PRICES = {
  shortLivedCertificate: 0.058,
  shortLivedCaMonth: 50,
  generalPurposeCaMonth: 400,
  /** General-purpose certificates per month: the first 1,000, up to 10,000, above. */
  generalPurposeTiers: [
    { upTo: 1_000, each: 0.75 },
    { upTo: 10_000, each: 0.35 },
    { upTo: Number.POSITIVE_INFINITY, each: 0.001 },
  ],
  secretMonth: 0.4,
  secretsPer10kCalls: 0.05,
  sqsPerMillionRequests: 0.4,
  dynamodbPerMillionWriteUnits: 0.625,
  dynamodbPerMillionReadUnits: 0.125,
  lambdaPerGbSecondArm: 0.000_013_333_4,
  lambdaPerMillionRequests: 0.2,
} as const;

const MONTH_DAYS = 30;

/** What a simulated period of `days` used. */
export interface Usage {
  days: number;
  identities: number;
  certificates: number;
  secrets: number;
  secretsManagerCalls: number;
  sqsRequests: number;
  dynamodbWriteUnits: number;
  dynamodbReadUnits: number;
  /** Lambda invocations and their billed GB-seconds (duration × memory). */
  lambdaInvocations: number;
  lambdaGbSeconds: number;
}

export interface MonthlyCost {
  shortLivedCa: number;
  generalPurposeCa: number;
  secretsManager: number;
  sqs: number;
  dynamodb: number;
  lambda: number;
  /** Everything, with the CA in short-lived mode. */
  totalShortLived: number;
  /** Everything, with the CA in general-purpose mode. */
  totalGeneralPurpose: number;
}

/**
 * Scales a period's usage to 30 days and prices it, for the fleet.
 *
 * @example
 * const fleet = monthlyCost({ days: 1, identities: 100_000, certificates: 200_000, ... });
 * console.log(fleet.totalShortLived / 100_000); // per identity
 */
export function monthlyCost(usage: Usage): MonthlyCost {
  const scale = MONTH_DAYS / usage.days;
  const certificates = usage.certificates * scale;
  let tiered = 0;
  let below = 0;
  for (const tier of PRICES.generalPurposeTiers) {
    const inTier = Math.max(0, Math.min(certificates, tier.upTo) - below);
    tiered += inTier * tier.each;
    below = tier.upTo;
  }
  const shortLivedCa = PRICES.shortLivedCaMonth + certificates * PRICES.shortLivedCertificate;
  const generalPurposeCa = PRICES.generalPurposeCaMonth + tiered;
  const secretsManager =
    usage.secrets * PRICES.secretMonth +
    ((usage.secretsManagerCalls * scale) / 10_000) * PRICES.secretsPer10kCalls;
  const sqs = ((usage.sqsRequests * scale) / 1e6) * PRICES.sqsPerMillionRequests;
  const dynamodb =
    ((usage.dynamodbWriteUnits * scale) / 1e6) * PRICES.dynamodbPerMillionWriteUnits +
    ((usage.dynamodbReadUnits * scale) / 1e6) * PRICES.dynamodbPerMillionReadUnits;
  const lambda =
    usage.lambdaGbSeconds * scale * PRICES.lambdaPerGbSecondArm +
    ((usage.lambdaInvocations * scale) / 1e6) * PRICES.lambdaPerMillionRequests;
  const rest = secretsManager + sqs + dynamodb + lambda;
  return {
    shortLivedCa,
    generalPurposeCa,
    secretsManager,
    sqs,
    dynamodb,
    lambda,
    totalShortLived: shortLivedCa + rest,
    totalGeneralPurpose: generalPurposeCa + rest,
  };
}
