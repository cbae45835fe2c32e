/**
 * Typed errors of the ingress's front. Each carries a fixed `reason` and a
 * message `<reason>: <detail>: <cause>`; none ever holds key material,
 * credentials or a request's headers. Configuration variables are refused with
 * `lib/config`'s `ConfigError`.
 */
import { LambdaSvidError } from "../lib/errors/index.ts";

/** Reasons the ingress refuses its route file. */
export const RoutesReason = {
  /** The file cannot be read. */
  UNREADABLE: "ingress: routes: cannot read the route file",
  /** The file is not YAML or JSON. */
  SYNTAX: "ingress: routes: not YAML or JSON",
  /** A field is missing or malformed; the detail names its path, its value and what was expected. */
  INVALID: "ingress: routes: invalid",
  /** Two routes match the same requests, or an earlier route catches every request of a later one. */
  UNREACHABLE: "ingress: routes: a route can never be reached",
} as const;
export type RoutesReason = (typeof RoutesReason)[keyof typeof RoutesReason];

/**
 * The route file is unusable: the process does not start with it.
 *
 * @example
 * new RoutesError(RoutesReason.INVALID, 'routes.yaml: routes[0].backend.region is "eu"; expected an AWS Region such as eu-west-1').message;
 * // 'ingress: routes: invalid: routes.yaml: routes[0].backend.region is "eu"; expected an AWS Region such as eu-west-1'
 */
export class RoutesError extends LambdaSvidError {
  declare readonly reason: RoutesReason;

  constructor(reason: RoutesReason, detail?: string, options?: { cause?: unknown }) {
    super(reason, detail, options);
    this.name = "RoutesError";
  }
}

/** Reasons the ingress cannot hold its own SVID. */
export const IngressSvidReason = {
  /** One of the SVID files cannot be read. */
  FILE_UNREADABLE: "ingress: svid: cannot read an SVID file",
  /** The files do not make an SVID and bundle (bad PEM, key not matching the leaf). */
  FILES_INVALID: "ingress: svid: the SVID files are not a valid SVID and bundle",
  /** The SVID does not verify against its own bundle, or has expired. */
  NOT_VERIFIED: "ingress: svid: the SVID does not verify against its bundle",
} as const;
export type IngressSvidReason = (typeof IngressSvidReason)[keyof typeof IngressSvidReason];

/**
 * The ingress's own SVID could not be loaded; a running ingress keeps the one
 * it holds and tries again.
 *
 * @example
 * new IngressSvidError(IngressSvidReason.FILE_UNREADABLE, '"/run/spiffe/svid.pem"');
 */
export class IngressSvidError extends LambdaSvidError {
  declare readonly reason: IngressSvidReason;

  constructor(reason: IngressSvidReason, detail?: string, options?: { cause?: unknown }) {
    super(reason, detail, options);
    this.name = "IngressSvidError";
  }
}
