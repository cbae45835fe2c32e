import {
  ACMPCAClient,
  type ACMPCAClientConfig,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCertificateCommand,
  GetCertificateCommand,
  IssueCertificateCommand,
  RequestInProgressException,
  type SigningAlgorithm,
} from "@aws-sdk/client-acm-pca";
import {
  parseCertificateChain,
  type TrustDomain,
  X509Bundle,
} from "../../../layers/spiffe/index.ts";
import { fixedEndpoint } from "../../../lib/endpoints/index.ts";
import {
  type Limiter,
  realTimer,
  sleep,
  type Timer,
  untilAborted,
} from "../../../lib/limits/index.ts";
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

/**
 * The CA client, with the endpoint the SDK resolves pinned once
 * ({@link fixedEndpoint}): the newest `@aws-sdk/client-acm-pca` served here
 * (3.523) looks for a configured endpoint again on every call, about a tenth
 * of a millisecond of CPU each, two calls per identity.
 *
 * @example
 * const pca = await acmPcaClient({ maxAttempts: 6 });
 */
export async function acmPcaClient(config: ACMPCAClientConfig): Promise<ACMPCAClient> {
  const client = new ACMPCAClient(config);
  if (config.endpoint !== undefined) return client;
  const endpoint = await fixedEndpoint(client.config, DescribeCertificateAuthorityCommand);
  // The first client opened no connection; it is dropped, not destroyed, as a request handler given in `config` is shared.
  return endpoint === undefined ? client : new ACMPCAClient({ ...config, endpoint });
}

export interface AcmPcaOptions {
  client: ACMPCAClient;
  arn: string;
  trustDomain: TrustDomain;
  /** Limits IssueCertificate (quota 25/s); shared by every worker when it is a `SharedRateLimiter`. */
  issueRate: Limiter;
  /** Limits GetCertificate (every poll takes a token) and the other reads (quota 75/s for GetCertificate). */
  getRate: Limiter;
  templateArn?: string;
  /**
   * How long to wait for a certificate, from IssueCertificate's answer to the
   * poll that gives up; waiting for `getRate` counts. Defaults to 60.
   */
  maxWaitSeconds?: number;
  /**
   * The wait before the first GetCertificate. Private CA takes a moment to
   * sign, and a poll that comes sooner only buys a RequestInProgressException
   * against the same quota; defaults to 1000. The first retry waits as long
   * again, each later one twice the one before, up to `pollMaxDelayMs`.
   */
  firstPollMs?: number;
  /** The longest wait between two polls for one certificate; defaults to 5000. */
  pollMaxDelayMs?: number;
  /** Clock and sleep for the polls' waits; `realTimer` unless a test or simulation drives time. */
  timer?: Timer;
}

const DEFAULT_MAX_WAIT_SECONDS = 60;
const DEFAULT_FIRST_POLL_MS = 1_000;
const DEFAULT_POLL_MAX_DELAY_MS = 5_000;

/**
 * AWS Private CA adapter: IssueCertificate with an end-entity template and
 * absolute validity, then GetCertificate polls of its own: the first after
 * `firstPollMs`, the next ones backing off, each one taking a `getRate`
 * token, so the calls a certificate costs are counted and limited (the SDK
 * waiter polls at once, then at times of its own, past the limiter). The
 * CA's signing algorithm and its bundle are read once per instance (one run).
 * The run's deadline reaches every call and every wait; because the pinned
 * client's retry back-off does not watch the signal, each call is also raced
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
    const certificate = await this.collect(issued.CertificateArn ?? "", signal);
    return { chainPem: `${certificate.trim()}\n${chain.intermediatesPem}` };
  }

  /**
   * Polls GetCertificate until the certificate is ready or `maxWaitSeconds`
   * have passed. The limiter counts polls, not requests: the client's own
   * retries of a throttled, failed or timed-out poll happen below it.
   */
  private async collect(certificateArn: string, signal: AbortSignal | undefined): Promise<string> {
    const { client, arn, getRate } = this.options;
    const timer = this.options.timer ?? realTimer;
    const maxWaitMs = (this.options.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS) * 1000;
    const firstPollMs = this.options.firstPollMs ?? DEFAULT_FIRST_POLL_MS;
    const maxDelayMs = this.options.pollMaxDelayMs ?? DEFAULT_POLL_MAX_DELAY_MS;
    const started = timer.now();
    let waitMs = firstPollMs;
    let retryMs = firstPollMs;
    for (let polls = 0; ; polls++) {
      const waitedMs = timer.now() - started;
      if (polls > 0 && waitedMs >= maxWaitMs) {
        throw new CaError(
          CaReason.NOT_ISSUED,
          `${certificateArn} after ${(waitedMs / 1000).toFixed(1)} s (polls: ${polls})`,
        );
      }
      // The last wait is cut short so that one poll comes at the end of the wait.
      await sleep(Math.min(waitMs, Math.max(0, maxWaitMs - waitedMs)), signal, timer);
      await getRate.acquire(signal);
      try {
        const out = await client.send(
          new GetCertificateCommand({
            CertificateAuthorityArn: arn,
            CertificateArn: certificateArn,
          }),
          { abortSignal: signal },
        );
        if (!out.Certificate) throw new CaError(CaReason.NO_CERTIFICATE, certificateArn);
        return out.Certificate;
      } catch (err) {
        if (!(err instanceof RequestInProgressException)) throw err;
      }
      waitMs = Math.min(retryMs, maxDelayMs);
      retryMs *= 2;
    }
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
