/**
 * AWS Private CA (JSON 1.1) with one root CA that signs real certificates:
 * IssueCertificate checks the CSR's signature and signs an end-entity
 * certificate with the requested absolute Validity and ValidityNotBefore
 * (see x509.ts), GetCertificate answers RequestInProgressException until the
 * certificate is ready `readyAfterMs` after issue, an IdempotencyToken reused
 * within five minutes returns the same certificate, DescribeCertificateAuthority
 * and GetCertificateAuthorityCertificate describe the CA. The CPU the model
 * spends signing is kept apart in {@link PcaModel.signingMs}: it is AWS's
 * work, not the issuer's.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { AwsError } from "./errors.ts";
import { type Operation, requireString, type ServiceBehaviour, ServiceModel } from "./service.ts";
import { createSigningCa, issueEndEntity, readCsr, type SigningCa } from "./x509.ts";

/** ACM PCA's latency and its default request rate quotas per operation. */
export const PCA_DEFAULTS: ServiceBehaviour = {
  latencyMs: { default: 100 },
  quotas: {
    IssueCertificate: { ratePerSecond: 25 },
    GetCertificate: { ratePerSecond: 75 },
    DescribeCertificateAuthority: { ratePerSecond: 20 },
    GetCertificateAuthorityCertificate: { ratePerSecond: 20 },
  },
};

/** AWS keeps an idempotency token for five minutes. */
const IDEMPOTENCY_MS = 5 * 60_000;
const YEAR_MS = 365 * 86_400_000;

export type UsageMode = "SHORT_LIVED_CERTIFICATE" | "GENERAL_PURPOSE";

export interface PcaOptions {
  account: string;
  /** How long after IssueCertificate the certificate can be fetched. */
  readyAfterMs?: number;
  usageMode?: UsageMode;
  behaviour?: ServiceBehaviour;
}

interface Issued {
  pem: string;
  readyAt: number;
  issuedAt: number;
}

/**
 * @example
 * const pca = new PcaModel({ account: "999999999999", readyAfterMs: 500 });
 * const client = new ACMPCAClient({ ...config, requestHandler: handler });
 * await client.send(new IssueCertificateCommand({ CertificateAuthorityArn: pca.arn, ... }));
 */
export class PcaModel extends ServiceModel {
  readonly arn: string;
  /** Certificates issued so far. */
  issuedCount = 0;
  /** Process CPU (ms) spent reading CSRs and signing certificates; part of the handler's `cpu` too. */
  signingMs = 0;
  protected readonly operations: Record<string, Operation>;
  private readonly ca: SigningCa;
  /** Certificates by ARN in issue order; forgotten once they can no longer be asked for by the simulation. */
  private readonly certificates = new Map<string, Issued>();
  private readonly tokens = new Map<string, { arn: string; at: number }>();

  constructor(private readonly options: PcaOptions) {
    super(
      "ACMPCA",
      { kind: "json", target: "ACMPrivateCA", version: "1.1" },
      { code: "ThrottlingException", message: "Rate exceeded" },
      options.behaviour ?? PCA_DEFAULTS,
    );
    this.arn = `arn:aws:acm-pca:us-east-1:${options.account}:certificate-authority/${randomUUID()}`;
    this.ca = createSigningCa(
      "lambda-svid sim root",
      new Date(Date.now() - 86_400_000),
      10 * YEAR_MS,
    );
    this.operations = {
      IssueCertificate: (input) => this.issue(input),
      GetCertificate: (input) => this.get(input),
      DescribeCertificateAuthority: (input) => {
        this.requireCa(input);
        return {
          CertificateAuthority: {
            Arn: this.arn,
            Status: "ACTIVE",
            Type: "ROOT",
            UsageMode: options.usageMode ?? "SHORT_LIVED_CERTIFICATE",
            KeyStorageSecurityStandard: "FIPS_140_2_LEVEL_3_OR_HIGHER",
            CertificateAuthorityConfiguration: {
              KeyAlgorithm: "EC_prime256v1",
              SigningAlgorithm: "SHA256WITHECDSA",
              Subject: { CommonName: "lambda-svid sim root" },
            },
          },
        };
      },
      GetCertificateAuthorityCertificate: (input) => {
        this.requireCa(input);
        return { Certificate: this.ca.certificatePem };
      },
    };
  }

  /** The CA's self-signed certificate. */
  get certificatePem(): string {
    return this.ca.certificatePem;
  }

  private issue(input: Record<string, unknown>) {
    this.requireCa(input);
    const now = Date.now();
    this.forgetOld(now);
    const token = input.IdempotencyToken;
    if (typeof token === "string") {
      const seen = this.tokens.get(token);
      if (seen !== undefined) return { CertificateArn: seen.arn };
    }
    const validity = input.Validity as { Type?: string; Value?: number } | undefined;
    if (validity?.Value === undefined) {
      throw new AwsError("InvalidArgsException", "Validity is required.");
    }
    const notAfter = this.validityEnd(validity, now);
    const before = input.ValidityNotBefore as { Type?: string; Value?: number } | undefined;
    const notBefore = before?.Value === undefined ? new Date(now) : this.validityEnd(before, now);
    if (notAfter.getTime() <= now || notBefore >= notAfter) {
      throw new AwsError(
        "InvalidArgsException",
        "The certificate validity specified is not valid.",
      );
    }
    const started = process.cpuUsage();
    const csr = readCsr(Buffer.from(String(input.Csr ?? ""), "base64"));
    if (csr === undefined) {
      this.signingMs += cpuMsSince(started);
      throw new AwsError("MalformedCSRException", "The certificate signing request is invalid.");
    }
    const pem = issueEndEntity(this.ca, csr, notBefore, notAfter);
    this.signingMs += cpuMsSince(started);
    this.issuedCount++;
    const arn = `${this.arn}/certificate/${randomBytes(16).toString("hex")}`;
    this.certificates.set(arn, {
      pem,
      issuedAt: now,
      readyAt: now + (this.options.readyAfterMs ?? 500),
    });
    if (typeof token === "string") this.tokens.set(token, { arn, at: now });
    return { CertificateArn: arn };
  }

  private get(input: Record<string, unknown>) {
    this.requireCa(input);
    const arn = requireString(input, "CertificateArn", "InvalidArnException");
    const issued = this.certificates.get(arn);
    if (issued === undefined) {
      throw new AwsError("ResourceNotFoundException", `Could not find certificate ${arn}.`);
    }
    if (Date.now() < issued.readyAt) {
      throw new AwsError(
        "RequestInProgressException",
        `The request to issue certificate ${arn} is still in progress.`,
      );
    }
    return { Certificate: issued.pem, CertificateChain: this.ca.certificatePem };
  }

  private requireCa(input: Record<string, unknown>): void {
    const arn = requireString(input, "CertificateAuthorityArn", "InvalidArnException");
    if (arn !== this.arn) {
      throw new AwsError(
        "ResourceNotFoundException",
        `Could not find certificate authority ${arn}.`,
      );
    }
  }

  /** ABSOLUTE is seconds since the epoch; the relative types count from now. */
  private validityEnd(v: { Type?: string; Value?: number }, now: number): Date {
    const value = Number(v.Value);
    const unit: Record<string, number> = {
      ABSOLUTE: 1000,
      DAYS: 86_400_000,
      MONTHS: 30 * 86_400_000,
      YEARS: YEAR_MS,
    };
    const ms = unit[v.Type ?? ""];
    if (ms === undefined) {
      throw new AwsError(
        "InvalidArgsException",
        `Validity type ${v.Type} is not supported by the model.`,
      );
    }
    return new Date(v.Type === "ABSOLUTE" ? value * 1000 : now + value * ms);
  }

  /** A certificate nobody fetched for an hour will not be asked for again in a simulation. */
  private forgetOld(now: number): void {
    for (const [arn, c] of this.certificates) {
      if (now - c.issuedAt < 3_600_000) break;
      this.certificates.delete(arn);
    }
    for (const [token, t] of this.tokens) {
      if (now - t.at < IDEMPOTENCY_MS) break;
      this.tokens.delete(token);
    }
  }
}

/** Process CPU (user + sys, ms) since `from`: the signing is synchronous, so it is the signing's own. */
function cpuMsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
}
