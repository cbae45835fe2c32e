import {
  type ACMPCAClient,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
  type SigningAlgorithm,
  waitUntilCertificateIssued,
} from "@aws-sdk/client-acm-pca";
import {
  parseCertificateChain,
  type TrustDomain,
  X509Bundle,
} from "../../../layers/spiffe/index.ts";
import type { RateLimiter } from "../../limits/index.ts";
import type { CertificateAuthority, SignedCertificate, SignRequest } from "./port.ts";

/** End-entity template: KU digitalSignature+keyEncipherment (critical), EKU serverAuth+clientAuth, SAN passed through from the CSR. */
export const DEFAULT_TEMPLATE_ARN = "arn:aws:acm-pca:::template/EndEntityCertificate/V1";

/** Private CA signs with the algorithm family of its own key. */
const SIGNING_ALGORITHM: Record<string, SigningAlgorithm> = {
  EC_prime256v1: "SHA256WITHECDSA",
  EC_secp384r1: "SHA384WITHECDSA",
  EC_secp521r1: "SHA512WITHECDSA",
  RSA_2048: "SHA256WITHRSA",
  RSA_3072: "SHA256WITHRSA",
  RSA_4096: "SHA256WITHRSA",
};

export interface AcmPcaOptions {
  client: ACMPCAClient;
  arn: string;
  trustDomain: TrustDomain;
  /** Limits IssueCertificate (quota 25/s). */
  issueRate: RateLimiter;
  /** Limits GetCertificate and the other reads (quota 75/s for GetCertificate). */
  getRate: RateLimiter;
  templateArn?: string;
  /** How long to wait for a certificate to be issued. */
  maxWaitSeconds?: number;
}

/**
 * AWS Private CA adapter: IssueCertificate with an end-entity template and
 * absolute validity, then GetCertificate through the SDK waiter. The CA's
 * signing algorithm and its bundle are read once per instance (one run).
 */
export class AcmPcaCertificateAuthority implements CertificateAuthority {
  readonly description: string;
  private signingAlgorithm: Promise<SigningAlgorithm> | undefined;
  private chain: Promise<{ bundle: X509Bundle; intermediatesPem: string }> | undefined;

  constructor(private readonly options: AcmPcaOptions) {
    this.description = `acm-pca:${options.arn}`;
  }

  async sign(request: SignRequest): Promise<SignedCertificate> {
    const { client, arn } = this.options;
    const [algorithm, chain] = await Promise.all([this.algorithm(), this.caChain()]);
    await this.options.issueRate.acquire();
    const issued = await client.send(
      new IssueCertificateCommand({
        CertificateAuthorityArn: arn,
        Csr: Buffer.from(request.csrPem),
        SigningAlgorithm: algorithm,
        TemplateArn: this.options.templateArn ?? DEFAULT_TEMPLATE_ARN,
        Validity: { Type: "ABSOLUTE", Value: Math.floor(request.notAfter.getTime() / 1000) },
        ValidityNotBefore: {
          Type: "ABSOLUTE",
          Value: Math.floor(request.notBefore.getTime() / 1000),
        },
        IdempotencyToken: request.idempotencyToken,
      }),
    );
    await this.options.getRate.acquire();
    const waited = await waitUntilCertificateIssued(
      { client, maxWaitTime: this.options.maxWaitSeconds ?? 60, minDelay: 1, maxDelay: 5 },
      { CertificateAuthorityArn: arn, CertificateArn: issued.CertificateArn },
    );
    const certificate = (waited.reason as { Certificate?: string } | undefined)?.Certificate;
    if (waited.state !== "SUCCESS" || !certificate) {
      throw new Error(
        `acm-pca: certificate ${issued.CertificateArn} was not issued (${waited.state})`,
      );
    }
    return { chainPem: `${certificate.trim()}\n${chain.intermediatesPem}` };
  }

  async bundle(): Promise<X509Bundle> {
    return (await this.caChain()).bundle;
  }

  private algorithm(): Promise<SigningAlgorithm> {
    this.signingAlgorithm ??= (async () => {
      await this.options.getRate.acquire();
      const out = await this.options.client.send(
        new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: this.options.arn }),
      );
      const keyAlgorithm =
        out.CertificateAuthority?.CertificateAuthorityConfiguration?.KeyAlgorithm ?? "";
      const algorithm = SIGNING_ALGORITHM[keyAlgorithm];
      if (algorithm === undefined) {
        throw new Error(
          `acm-pca: CA key algorithm ${JSON.stringify(keyAlgorithm)} is not supported`,
        );
      }
      return algorithm;
    })();
    this.signingAlgorithm.catch(() => {
      this.signingAlgorithm = undefined;
    });
    return this.signingAlgorithm;
  }

  /** The CA's roots (self-signed certificates) form the bundle; the rest are intermediates for SVID chains. */
  private caChain(): Promise<{ bundle: X509Bundle; intermediatesPem: string }> {
    this.chain ??= (async () => {
      await this.options.getRate.acquire();
      const out = await this.options.client.send(
        new GetCertificateAuthorityCertificateCommand({
          CertificateAuthorityArn: this.options.arn,
        }),
      );
      const certs = parseCertificateChain(
        `${out.Certificate ?? ""}\n${out.CertificateChain ?? ""}`,
      );
      const roots = certs.filter((c) => c.isSelfSigned());
      const intermediates = certs.filter((c) => !c.isSelfSigned());
      return {
        bundle: X509Bundle.fromCertificates(this.options.trustDomain, roots),
        intermediatesPem: intermediates.map((c) => c.toPem()).join(""),
      };
    })();
    this.chain.catch(() => {
      this.chain = undefined;
    });
    return this.chain;
  }
}
