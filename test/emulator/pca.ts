/**
 * A root AWS Private CA in the emulator, built with the same calls, in the same
 * order, that real AWS needs: create, wait for the CSR, self-sign it with the
 * RootCACertificate template, wait for the certificate, import it.
 *
 * What moto 5.2.5 does differently (this flow works unchanged, but the results differ):
 * - the CA key is always RSA 2048 and every certificate is signed with SHA512WITHRSA,
 *   whatever KeyAlgorithm and SigningAlgorithm say;
 * - Validity is ignored: every certificate, the root included, is valid for 365 days
 *   from issuance; ApiPassthrough is ignored;
 * - a SAN in the CSR is copied into the certificate; the subject comes from the CSR;
 * - only the RootCACertificate and EndEntityCertificate templates (or none) add
 *   extensions; any other template, e.g. an APIPassthrough one, yields a certificate
 *   with no basicConstraints, keyUsage or extKeyUsage;
 * - IssueCertificate completes at once and is accepted while the CA is still
 *   PENDING_CERTIFICATE for any template, and import does not check that the
 *   certificate matches the CA's key;
 * - UsageMode always reads SHORT_LIVED_CERTIFICATE.
 * The root it issues has critical basicConstraints CA:TRUE (no path length) and
 * critical keyUsage digitalSignature, keyCertSign, cRLSign, plus a subject key
 * identifier.
 */
import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
  waitUntilCertificateAuthorityCSRCreated,
  waitUntilCertificateIssued,
} from "@aws-sdk/client-acm-pca";
import { clientConfigForAccount, randomAccountId } from "./accounts.ts";

const ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1";
const SIGNING_ALGORITHM = {
  EC_prime256v1: "SHA256WITHECDSA",
  RSA_2048: "SHA256WITHRSA",
} as const;
/** Seconds; the waiters return at the first successful poll, which is immediate in moto. */
const MAX_WAIT = 60;

export interface PrivateCaOptions {
  /** Defaults to a fresh random account, so parallel tests never share a CA. */
  accountId?: string;
  commonName?: string;
  keyAlgorithm?: keyof typeof SIGNING_ALGORITHM;
}

export interface PrivateCa {
  arn: string;
  accountId: string;
  /** The CA's self-signed root certificate, as imported. */
  certificatePem: string;
  /** An ACM PCA client acting in the CA's account. */
  client: ACMPCAClient;
  /** Configuration for another client in the CA's account, e.g. one carrying injected faults. */
  clientConfig: ReturnType<typeof clientConfigForAccount>;
}

/**
 * Creates an ACTIVE root private CA.
 *
 * @example
 * const ca = await createPrivateCa({ commonName: "lambda-svid test root" });
 * await ca.client.send(new IssueCertificateCommand({ CertificateAuthorityArn: ca.arn, ... }));
 */
export async function createPrivateCa(options: PrivateCaOptions = {}): Promise<PrivateCa> {
  const accountId = options.accountId ?? randomAccountId();
  const keyAlgorithm = options.keyAlgorithm ?? "EC_prime256v1";
  const clientConfig = clientConfigForAccount(accountId);
  const client = new ACMPCAClient(clientConfig);

  const { CertificateAuthorityArn: arn } = await client.send(
    new CreateCertificateAuthorityCommand({
      CertificateAuthorityType: "ROOT",
      CertificateAuthorityConfiguration: {
        KeyAlgorithm: keyAlgorithm,
        SigningAlgorithm: SIGNING_ALGORITHM[keyAlgorithm],
        Subject: { CommonName: options.commonName ?? "lambda-svid test root" },
      },
    }),
  );
  if (arn === undefined) throw new Error("pca: CreateCertificateAuthority returned no ARN");
  const ca = { CertificateAuthorityArn: arn };

  await waitUntilCertificateAuthorityCSRCreated({ client, maxWaitTime: MAX_WAIT }, ca);
  const { Csr } = await client.send(new GetCertificateAuthorityCsrCommand(ca));
  const { CertificateArn } = await client.send(
    new IssueCertificateCommand({
      ...ca,
      Csr: new TextEncoder().encode(Csr),
      SigningAlgorithm: SIGNING_ALGORITHM[keyAlgorithm],
      TemplateArn: ROOT_TEMPLATE,
      Validity: { Type: "YEARS", Value: 10 },
    }),
  );
  const issued = { ...ca, CertificateArn };
  await waitUntilCertificateIssued({ client, maxWaitTime: MAX_WAIT }, issued);
  const { Certificate } = await client.send(new GetCertificateCommand(issued));
  if (Certificate === undefined) throw new Error("pca: GetCertificate returned no certificate");
  await client.send(
    new ImportCertificateAuthorityCertificateCommand({
      ...ca,
      Certificate: new TextEncoder().encode(Certificate),
    }),
  );

  const { CertificateAuthority } = await client.send(new DescribeCertificateAuthorityCommand(ca));
  if (CertificateAuthority?.Status !== "ACTIVE") {
    throw new Error(`pca: root CA ${arn} is ${CertificateAuthority?.Status}, not ACTIVE`);
  }
  return { arn, accountId, certificatePem: Certificate, client, clientConfig };
}
