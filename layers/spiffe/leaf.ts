import {
  id_kp_clientAuth,
  id_kp_serverAuth,
  KeyUsageFlags,
  type ParsedCertificate,
} from "./certificate.ts";
import { SpiffeIdError, SvidError, SvidReason } from "./errors.ts";
import { parseSpiffeId, type SpiffeId } from "./id.ts";

/**
 * The TLS role an X509-SVID is verified for, which its extended key usage must
 * allow: `"server"` when a client checks the server it connected to,
 * `"client"` when a server checks a client, `"any"` when the role is not
 * known (then either serverAuth or clientAuth will do).
 */
export type X509SvidUsage = "server" | "client" | "any";

/** RFC 5280 4.2.1.12: a certificate carrying it may be used for any purpose. */
const ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";

/**
 * Reads the one SPIFFE ID of a leaf X509-SVID and checks the rules that make a
 * certificate a leaf SVID (X509-SVID sections 2, 3.1, 4.1, 4.3 and 5.2), and
 * that its extended key usage allows `usage`.
 *
 * @throws {SvidError}
 */
export function checkLeaf(leaf: ParsedCertificate, usage: X509SvidUsage = "any"): SpiffeId {
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
  checkExtKeyUsage(leaf.extKeyUsage, usage, id);
  return id;
}

/**
 * X509-SVID 4.4 asks issuers for both serverAuth and clientAuth, but SPIFFE
 * implementations issue and accept leaves with one of them (go-spiffe does not
 * check EKU at all), so a verifier asks only for the purpose it authenticates.
 * An absent extension allows every purpose (RFC 5280 4.2.1.12).
 */
function checkExtKeyUsage(eku: string[] | undefined, usage: X509SvidUsage, id: SpiffeId): void {
  if (eku === undefined || eku.includes(ANY_EXTENDED_KEY_USAGE)) return;
  const server = eku.includes(id_kp_serverAuth);
  const client = eku.includes(id_kp_clientAuth);
  const found = `${id.toString()} has ${eku.map(ekuName).join(", ") || "none"}`;
  if (usage === "server" && !server) throw new SvidError(SvidReason.LEAF_NO_SERVER_AUTH, found);
  if (usage === "client" && !client) throw new SvidError(SvidReason.LEAF_NO_CLIENT_AUTH, found);
  if (!server && !client) throw new SvidError(SvidReason.LEAF_EXT_KEY_USAGE, found);
}

function ekuName(oid: string): string {
  if (oid === id_kp_serverAuth) return "serverAuth";
  if (oid === id_kp_clientAuth) return "clientAuth";
  return oid;
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
