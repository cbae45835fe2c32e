/**
 * A route's access list: which verified callers may use the route, and with
 * which HTTP methods. Checked before any byte of the request is forwarded.
 */
import type { SpiffeId } from "../layers/spiffe/index.ts";

/**
 * Why a caller was refused, sent in the {@link DENIED_HEADER} of the 403 and
 * counted in the denial metrics: a small fixed set, so a label never grows.
 */
export const DenialReason = {
  /** No rule of the route names the caller's ID, an ID prefix of it, or its trust domain. */
  CALLER_NOT_ALLOWED: "caller-not-allowed",
  /** A rule names the caller, but none of those rules allows the request's method. */
  METHOD_NOT_ALLOWED: "method-not-allowed",
} as const;
export type DenialReason = (typeof DenialReason)[keyof typeof DenialReason];

/** The response header of a 403 that says which {@link DenialReason} refused the caller. */
export const DENIED_HEADER = "x-lambda-svid-ingress-denied";

/** One rule: callers it names, and the methods it allows them (all when unset). */
export interface AclRule {
  /** Exact SPIFFE IDs, normalised (`spiffe://example.org/prod/web`). */
  ids: readonly string[];
  /**
   * SPIFFE IDs whose path is a prefix on segment boundaries:
   * `spiffe://example.org/prod` names itself and `spiffe://example.org/prod/web`,
   * never `spiffe://example.org/production`.
   */
  idPrefixes: readonly string[];
  /** Trust domain names; any ID in them. */
  trustDomains: readonly string[];
  /** Upper-case HTTP methods; `undefined` allows every method. */
  methods?: readonly string[];
}

/**
 * The access list of one route: a caller is allowed when any rule names it
 * and allows the method. Rules are checked in order, each in constant time
 * for IDs and trust domains.
 *
 * @example
 * const acl = new Acl([{ ids: ["spiffe://example.org/prod/web"], idPrefixes: [], trustDomains: [], methods: ["GET"] }]);
 * acl.check(parseSpiffeId("spiffe://example.org/prod/web"), "POST"); // "method-not-allowed"
 */
export class Acl {
  private readonly rules: readonly CompiledRule[];

  constructor(rules: readonly AclRule[]) {
    this.rules = rules.map((rule) => ({
      ids: new Set(rule.ids),
      idPrefixes: rule.idPrefixes,
      trustDomains: new Set(rule.trustDomains),
      methods: rule.methods === undefined ? undefined : new Set(rule.methods),
    }));
  }

  /**
   * `undefined` when `caller` may send `method` on the route, else why not.
   * `method` is compared as Node reports it (upper case).
   *
   * @example
   * if (acl.check(callerId, req.method ?? "") !== undefined) res.writeHead(403);
   */
  check(caller: SpiffeId, method: string): DenialReason | undefined {
    const id = caller.toString();
    let named = false;
    for (const rule of this.rules) {
      if (!names(rule, id, caller.trustDomain.name)) continue;
      if (rule.methods === undefined || rule.methods.has(method)) return undefined;
      named = true;
    }
    return named ? DenialReason.METHOD_NOT_ALLOWED : DenialReason.CALLER_NOT_ALLOWED;
  }
}

interface CompiledRule {
  ids: ReadonlySet<string>;
  idPrefixes: readonly string[];
  trustDomains: ReadonlySet<string>;
  methods: ReadonlySet<string> | undefined;
}

function names(rule: CompiledRule, id: string, trustDomain: string): boolean {
  if (rule.ids.has(id) || rule.trustDomains.has(trustDomain)) return true;
  return rule.idPrefixes.some((prefix) => id === prefix || id.startsWith(`${prefix}/`));
}
