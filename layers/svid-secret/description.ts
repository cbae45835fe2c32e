/**
 * The SVID secret's description states the stored leaf's not-after, so its
 * freshness can be read with DescribeSecret, without the key material. The
 * issuer writes value and description in one UpdateSecret call, so the two
 * never disagree (a not-after tag needed a second call after the value, and
 * was stale in between).
 */

const PREFIX =
  "SPIFFE X509-SVID of this account's Lambda identity, written by lambda-svid; not after ";
const NOT_AFTER = /; not after (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z)$/;

/**
 * The description of an SVID secret whose leaf ends at `notAfter`.
 *
 * @example
 * svidSecretDescription(new Date("2026-11-25T12:00:00Z"));
 * // "SPIFFE X509-SVID of this account's Lambda identity, written by lambda-svid; not after 2026-11-25T12:00:00.000Z"
 */
export function svidSecretDescription(notAfter: Date): string {
  return `${PREFIX}${notAfter.toISOString()}`;
}

/**
 * The not-after an SVID secret's description states; `undefined` when it states none.
 *
 * @example
 * notAfterFromDescription(out.Description); // Date | undefined
 */
export function notAfterFromDescription(description: string | undefined): Date | undefined {
  const match = description === undefined ? null : NOT_AFTER.exec(description);
  if (match === null) return undefined;
  const date = new Date(match[1] as string);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
