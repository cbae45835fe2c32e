import type { SpiffeId, X509Bundle } from "../../../layers/spiffe/index.ts";

/** What the issuer asks a certificate authority to sign. */
export interface SignRequest {
  csrPem: string;
  spiffeId: SpiffeId;
  notBefore: Date;
  notAfter: Date;
  /** Same request, same token: lets the CA answer a retry with the certificate it already made. */
  idempotencyToken: string;
}

/** The signed certificate: leaf first, then any intermediates up to (not including) the root. */
export interface SignedCertificate {
  chainPem: string;
}

/**
 * The port every signing backend implements. Adapters: `acm-pca` (AWS Private
 * CA) and `local` (an in-process CA for development and tests). An adapter
 * that calls out gives up, rejecting with the signal's reason, when `signal`
 * (the run's deadline) aborts.
 */
export interface CertificateAuthority {
  /** Short description for logs, e.g. `acm-pca:arn:...`. */
  readonly description: string;
  sign(request: SignRequest, signal?: AbortSignal): Promise<SignedCertificate>;
  /** The roots SVIDs from this CA chain to; cached by the adapter for the run. */
  bundle(signal?: AbortSignal): Promise<X509Bundle>;
}
