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
import { type RateLimiter, untilAborted } from "../../../lib/limits/index.ts";
import { CaError, CaReason } from "../errors.ts";
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
 * The run's deadline reaches every call and the waiter; because the pinned
 * client's retry back-off does not watch the signal, each wait is also raced
 * against it, so `sign` returns at the deadline whatever the SDK is doing.
 *
 * @example
 * const ca = new AcmPcaCertificateAuthority({ client, arn, trustDomain, issueRate, getRate });
 * const { chainPem } = await ca.sign(request, deadline.signal);
 */
export class AcmPcaCertificateAuthority implements CertificateAuthority {
  readonly description: string;
  private signingAlgorithm: Promise<SigningAlgorithm> | undefined;
  private chain: Promise<{ bundle: X509Bundle; intermediatesPem: string }> | undefined;

  constructor(private readonly options: AcmPcaOptions) {
    this.description = `acm-pca:${options.arn}`;
  }

  sign(request: SignRequest, signal?: AbortSignal): Promise<SignedCertificate> {
    return untilAborted(this.issue(request, signal), signal);
  }

  async bundle(signal?: AbortSignal): Promise<X509Bundle> {
    return (await untilAborted(this.caChain(signal), signal)).bundle;
  }

  private async issue(request: SignRequest, signal?: AbortSignal): Promise<SignedCertificate> {
    const { client, arn } = this.options;
    const [algorithm, chain] = await untilAborted(
      Promise.all([this.algorithm(signal), this.caChain(signal)]),
      signal,
    );
    await this.options.issueRate.acquire(signal);
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
      { abortSignal: signal },
    );
    await this.options.getRate.acquire(signal);
    const waited = await waitUntilCertificateIssued(
      {
        client,
        maxWaitTime: this.options.maxWaitSeconds ?? 60,
        minDelay: 1,
        maxDelay: 5,
        // A signal of its own: this waiter version claims the signal's `onabort`.
        ...(signal === undefined ? {} : { abortSignal: AbortSignal.any([signal]) }),
      },
      { CertificateAuthorityArn: arn, CertificateArn: issued.CertificateArn },
    );
    if (signal?.aborted) throw signal.reason;
    const certificate = (waited.reason as { Certificate?: string } | undefined)?.Certificate;
    if (waited.state !== "SUCCESS" || !certificate) {
      throw new CaError(CaReason.NOT_ISSUED, `${issued.CertificateArn} (${waited.state})`);
    }
    return { chainPem: `${certificate.trim()}\n${chain.intermediatesPem}` };
  }

  /** Every caller in one run passes the run's one deadline, so the first caller's signal serves all. */
  private algorithm(signal: AbortSignal | undefined): Promise<SigningAlgorithm> {
    this.signingAlgorithm ??= (async () => {
      await this.options.getRate.acquire(signal);
      const out = await this.options.client.send(
        new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: this.options.arn }),
        { abortSignal: signal },
      );
      const keyAlgorithm =
        out.CertificateAuthority?.CertificateAuthorityConfiguration?.KeyAlgorithm ?? "";
      const algorithm = SIGNING_ALGORITHM[keyAlgorithm];
      if (algorithm === undefined) {
        throw new CaError(
          CaReason.KEY_ALGORITHM,
          `${JSON.stringify(keyAlgorithm)} of ${this.options.arn}`,
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
  private caChain(
    signal: AbortSignal | undefined,
  ): Promise<{ bundle: X509Bundle; intermediatesPem: string }> {
    this.chain ??= (async () => {
      await this.options.getRate.acquire(signal);
      const out = await this.options.client.send(
        new GetCertificateAuthorityCertificateCommand({
          CertificateAuthorityArn: this.options.arn,
        }),
        { abortSignal: signal },
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
