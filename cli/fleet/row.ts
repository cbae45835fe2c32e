/**
 * One registered identity as the operator tools show it: what `status`
 * prints and `report --html` draws. Built from the issuer's state (the state
 * table, or the secret's metadata), never from key material.
 *
 * @example
 * const row: FleetRow = {
 *   accountId: "111122223333",
 *   service: "payments",
 *   environment: "prod",
 *   spiffeId: "spiffe://example.org/payments/prod",
 *   notBefore: "2026-11-24T00:00:00.000Z",
 *   notAfter: "2026-11-25T00:00:00.000Z",
 *   outcome: "issued",
 * };
 */
export interface FleetRow {
  accountId: string;
  service: string;
  environment: string;
  /** The SPIFFE ID the registry gives this account; always present. */
  spiffeId: string;
  /** ISO 8601; absent when no SVID is known for the identity yet. */
  notBefore?: string;
  /** ISO 8601; absent when no SVID is known for the identity yet. */
  notAfter?: string;
  /** What the issuer last did for this identity. */
  outcome: FleetOutcome;
  /** When the outcome is `failed`: the stage and reason the issuer recorded (never secret values). */
  failure?: { stage: string; reason: string; at: string };
}

/** `missing`: registered, but no SVID was ever found for it. */
export type FleetOutcome = "issued" | "checked" | "pending" | "failed" | "missing";

/** What the operator tools judge each row against. */
export interface FleetThresholds {
  /** ISO 8601 instant the report is made at. */
  now: string;
  /** An identity with less than this left (ms) is in the alarm band (the issuer renews before it). */
  alarmBelowMs: number;
  /** The issuer renews an SVID this long (ms) before its not-after. */
  renewBeforeMs: number;
}
