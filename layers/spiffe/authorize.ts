import { AuthorizationError, AuthorizationReason } from "./errors.ts";
import { parseSpiffeId, parseTrustDomain, type SpiffeId, type TrustDomain } from "./id.ts";

/**
 * Decides whether a peer whose X509-SVID has already been verified may talk to
 * us. Gets the peer's verified SPIFFE ID; throws {@link AuthorizationError} to
 * refuse.
 */
export type Authorizer = (peer: SpiffeId) => void;

/**
 * Accepts any peer with a verified SVID from the bundle. Use only where every
 * identity in the trust domain (and every federated one) is allowed.
 *
 * @example
 * tlsServerOptions(svid, bundle, authorizeAny());
 */
export function authorizeAny(): Authorizer {
  return () => {};
}

/**
 * Accepts exactly one SPIFFE ID.
 *
 * @throws {SpiffeIdError} at construction when `id` is not a valid SPIFFE ID.
 * @example
 * authorizeId("spiffe://example.org/prod/payments");
 */
export function authorizeId(id: SpiffeId | string): Authorizer {
  return authorizeOneOf(id);
}

/**
 * Accepts any of the given SPIFFE IDs.
 *
 * @example
 * authorizeOneOf("spiffe://example.org/prod/a", "spiffe://example.org/prod/b");
 */
export function authorizeOneOf(...ids: Array<SpiffeId | string>): Authorizer {
  const allowed = new Set(
    ids.map((id) => (typeof id === "string" ? parseSpiffeId(id) : id).toString()),
  );
  return (peer) => {
    if (!allowed.has(peer.toString())) {
      throw new AuthorizationError(
        AuthorizationReason.UNAUTHORIZED_ID,
        JSON.stringify(peer.toString()),
      );
    }
  };
}

/**
 * Accepts any ID in the trust domain.
 *
 * @example
 * authorizeMemberOf("example.org");
 */
export function authorizeMemberOf(trustDomain: TrustDomain | string): Authorizer {
  const td = typeof trustDomain === "string" ? parseTrustDomain(trustDomain) : trustDomain;
  return (peer) => {
    if (!peer.memberOf(td)) {
      throw new AuthorizationError(
        AuthorizationReason.UNAUTHORIZED_TRUST_DOMAIN,
        `${JSON.stringify(peer.toString())} is not in ${JSON.stringify(td.name)}`,
      );
    }
  };
}
