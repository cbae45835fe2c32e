import {
  id_kp_clientAuth,
  id_kp_serverAuth,
  KeyUsageFlags,
  type ParsedCertificate,
} from "./certificate.ts";
import { SpiffeIdError, SvidError, SvidReason } from "./errors.ts";
import { parseSpiffeId, type SpiffeId } from "./id.ts";

/**
 * Reads the one SPIFFE ID of a leaf X509-SVID and checks the rules that make a
 * certificate a leaf SVID (X509-SVID sections 2, 3.1, 4.1, 4.3, 4.4 and 5.2).
 *
 * @throws {SvidError}
 */
export function checkLeaf(leaf: ParsedCertificate): SpiffeId {
  const id = leafSpiffeId(leaf);
  if (leaf.subjectIsEmpty && !leaf.sanCritical) throw new SvidError(SvidReason.SAN_NOT_CRITICAL);
  if (leaf.isCA) throw new SvidError(SvidReason.LEAF_IS_CA, id.toString());
  if (leaf.keyUsage === undefined) throw new SvidError(SvidReason.NO_KEY_USAGE, "leaf");
  if (!leaf.keyUsage.critical) throw new SvidError(SvidReason.KEY_USAGE_NOT_CRITICAL, "leaf");
  if (leaf.hasKeyUsage(KeyUsageFlags.keyCertSign)) {
    throw new SvidError(SvidReason.LEAF_KEY_CERT_SIGN, id.toString());
  }
  if (leaf.hasKeyUsage(KeyUsageFlags.cRLSign)) {
    throw new SvidError(SvidReason.LEAF_CRL_SIGN, id.toString());
  }
  if (!leaf.hasKeyUsage(KeyUsageFlags.digitalSignature)) {
    throw new SvidError(SvidReason.LEAF_NO_DIGITAL_SIGNATURE, id.toString());
  }
  if (
    leaf.extKeyUsage !== undefined &&
    !(leaf.extKeyUsage.includes(id_kp_serverAuth) && leaf.extKeyUsage.includes(id_kp_clientAuth))
  ) {
    throw new SvidError(SvidReason.LEAF_EXT_KEY_USAGE, id.toString());
  }
  return id;
}

/** @throws {SvidError} unless the leaf has exactly one URI SAN that is a SPIFFE ID with a path. */
export function leafSpiffeId(leaf: ParsedCertificate): SpiffeId {
  if (leaf.uriSans.length === 0) throw new SvidError(SvidReason.NO_URI_SAN);
  if (leaf.uriSans.length > 1) {
    throw new SvidError(SvidReason.MULTIPLE_URI_SANS, `${leaf.uriSans.length} URI SANs`);
  }
  const uri = leaf.uriSans[0] as string;
  let id: SpiffeId;
  try {
    id = parseSpiffeId(uri);
  } catch (cause) {
    if (cause instanceof SpiffeIdError) {
      throw new SvidError(SvidReason.INVALID_SPIFFE_ID, undefined, { cause });
    }
    throw cause;
  }
  if (id.isRoot()) throw new SvidError(SvidReason.ROOT_ID, id.toString());
  return id;
}
