import { parseSpiffeId, type SpiffeId, type TrustDomain } from "../../layers/spiffe/index.ts";
import { IdTemplateError, IdTemplateReason } from "./errors.ts";

/** One Lambda identity: a service in an environment, living in one AWS account. */
export interface Identity {
  service: string;
  environment: string;
  accountId: string;
}

/** A stable label for logs and reports, e.g. `payments/prod@111122223333`. */
export function identityLabel(identity: Identity): string {
  return `${identity.service}/${identity.environment}@${identity.accountId}`;
}

const PLACEHOLDER = /\{([A-Za-z]+)\}/g;
const KNOWN = new Set(["trustDomain", "environment", "service", "accountId"]);
/** The placeholders whose values differ between identities; `{trustDomain}` is one constant. */
const VARYING = new Set(["environment", "service", "accountId"]);
const SEGMENT = /^[A-Za-z0-9._-]+$/;
/** A character no substituted value can contain (values are {@link SEGMENT}s or 12 digits). */
const SEPARATOR = /[^A-Za-z0-9._-]/;

/**
 * The template that turns an identity into its SPIFFE ID, e.g. the default
 * `spiffe://{trustDomain}/{environment}/{service}`. Values are substituted as
 * whole path segments: a value with `/` or any character a SPIFFE path does
 * not allow is refused rather than changing the shape of the ID.
 */
export class IdTemplate {
  static readonly DEFAULT = "spiffe://{trustDomain}/{environment}/{service}";

  private constructor(
    readonly text: string,
    private readonly trustDomain: TrustDomain,
  ) {}

  /** @throws {IdTemplateError} naming the problem when the template cannot produce valid, distinct IDs. */
  static parse(text: string, trustDomain: TrustDomain): IdTemplate {
    const names = [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
    const unknown = names.filter((n) => !KNOWN.has(n));
    if (unknown.length > 0) {
      throw new IdTemplateError(IdTemplateReason.UNKNOWN_PLACEHOLDER, `{${unknown[0]}}`);
    }
    if (!names.includes("service")) {
      throw new IdTemplateError(IdTemplateReason.NO_SERVICE, JSON.stringify(text));
    }
    // The trust domain sits between placeholders as the literal it becomes.
    checkSeparated(text.replaceAll("{trustDomain}", trustDomain.name));
    const template = new IdTemplate(text, trustDomain);
    const sample = template.render({
      service: "svc",
      environment: "env",
      accountId: "111122223333",
    });
    if (!sample.memberOf(trustDomain)) {
      throw new IdTemplateError(
        IdTemplateReason.OUTSIDE_TRUST_DOMAIN,
        `${JSON.stringify(text)} in ${trustDomain.name}`,
      );
    }
    return template;
  }

  /**
   * The SPIFFE ID of `identity`.
   *
   * @throws {IdTemplateError} naming the field whose value cannot form a SPIFFE ID path segment,
   *   or a SpiffeIdError when the result is not a valid SPIFFE ID.
   */
  render(identity: Identity): SpiffeId {
    const values: Record<string, string> = {
      trustDomain: this.trustDomain.name,
      environment: identity.environment,
      service: identity.service,
      accountId: identity.accountId,
    };
    for (const field of ["service", "environment"] as const) {
      const value = identity[field];
      if (!SEGMENT.test(value) || value === "." || value === "..") {
        throw new IdTemplateError(
          IdTemplateReason.BAD_SEGMENT,
          `${field} ${JSON.stringify(value)}`,
        );
      }
    }
    return parseSpiffeId(
      this.text.replace(PLACEHOLDER, (_m, name: string) => values[name] as string),
    );
  }
}

/**
 * Two varying placeholders need a separator their values cannot contain:
 * `{environment}{service}` (or `{environment}-{service}`) renders (a, bc) and
 * (ab, c) — or (a-b, c) and (a, b-c) — as one ID, giving two identities one SVID.
 */
function checkSeparated(text: string): void {
  let previous: { name: string; end: number } | undefined;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1] as string;
    if (!VARYING.has(name)) continue;
    if (previous !== undefined && !SEPARATOR.test(text.slice(previous.end, match.index))) {
      throw new IdTemplateError(IdTemplateReason.NOT_SEPARATED, `{${previous.name}} and {${name}}`);
    }
    previous = { name, end: (match.index as number) + match[0].length };
  }
}
