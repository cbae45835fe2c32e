/**
 * Renders the IAM policy templates of this directory. The templates use
 * Terraform's `templatefile` syntax (`${name}` placeholders, `$${` for a
 * literal `${`), so the Terraform modules read the same files unchanged;
 * `serverless.yml` and the tests read them through this renderer, which is
 * stricter than Terraform: every placeholder needs a value, every value needs
 * a placeholder, and a value may not widen a policy with a wildcard.
 */
import { readFileSync } from "node:fs";

/** The policy templates, one JSON file each beside this module. */
export const PolicyTemplate = {
  /** The issuer planner's execution role (central account): registry, state table, work queue. */
  ISSUER: "issuer",
  /** The issuer workers' execution role (central account): the CA, tenant writer roles, state table, queues. */
  ISSUER_WORKER: "issuer-worker",
  /** Trust policy of the issuer and syncer execution roles. */
  LAMBDA_TRUST: "lambda-trust",
  /** The writer role in a tenant account, which the issuer workers assume. */
  WRITER: "writer",
  /** Trust policy of the writer role: the issuer worker role only, with the ExternalId. */
  WRITER_TRUST: "writer-trust",
  /** Managed policy that function owners attach to read the SVID. */
  SVID_READER: "svid-reader",
  /** The syncer's execution role (tenant account). */
  SYNCER: "syncer",
  /** The optional operator role in a tenant account: lambda:InvokeFunction on that account's syncer only (`lambda-svid sync`). */
  OPERATOR: "operator",
  /** Trust policy of the operator role: one named principal of the central account, no other. */
  OPERATOR_TRUST: "operator-trust",
  /** Bucket policy of the artifact bucket: Organization members read, TLS only. */
  ARTIFACT_BUCKET: "artifact-bucket",
  /** Organizations resource policy that delegates account and tag reads to the issuer's account. */
  ORGANIZATIONS_DELEGATION: "organizations-delegation",
  /** Statement on the issuer account's default event bus: the management account forwards Organizations events. */
  ORGANIZATIONS_EVENTS: "organizations-events",
  /** Key policy of a tenant's customer-managed KMS key (written with the Terraform tenant module). */
  TENANT_KEY: "tenant-key",
  /** Trust policy of an ingress route's backend role: the ingress's own role only. */
  INGRESS_BACKEND_TRUST: "ingress-backend-trust",
  /** An ingress route's backend role on API Gateway: execute-api:Invoke on one API, stage, method and path prefix. */
  INGRESS_BACKEND_EXECUTE_API: "ingress-backend-execute-api",
  /** An ingress route's backend role on a Lambda function URL with IAM auth: that one function, through its URL only. */
  INGRESS_BACKEND_LAMBDA_URL: "ingress-backend-lambda-url",
  /** An ingress route's backend role on S3: GetObject in one bucket under one key prefix. */
  INGRESS_BACKEND_S3: "ingress-backend-s3",
  /** Optional addition to {@link INGRESS_BACKEND_S3}: ListBucket on that bucket, only under the prefix. */
  INGRESS_BACKEND_S3_LIST: "ingress-backend-s3-list",
} as const;
export type PolicyTemplate = (typeof PolicyTemplate)[keyof typeof PolicyTemplate];

/** Reasons a template cannot be rendered. */
export const PolicyReason = {
  UNKNOWN_TEMPLATE: "policies: no such policy template",
  MALFORMED_TEMPLATE: "policies: template is malformed",
  MISSING_VALUE: "policies: placeholder has no value",
  UNKNOWN_VALUE: "policies: value given for a placeholder the template does not have",
  BAD_VALUE: "policies: value cannot go into a policy",
} as const;
export type PolicyReason = (typeof PolicyReason)[keyof typeof PolicyReason];

/** A template that cannot be rendered with the given values; the message names the template and placeholder. */
export class PolicyError extends Error {
  readonly reason: PolicyReason;

  constructor(reason: PolicyReason, detail: string) {
    super(`${reason}: ${detail}`);
    this.name = "PolicyError";
    this.reason = reason;
  }
}

/** One statement of an IAM policy, as the templates write them. */
export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | Record<string, string | string[]>;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** How a rendering differs from Terraform's. */
export interface RenderOptions {
  /**
   * What a `$${` escape becomes; Terraform's `${` by default. CloudFormation's
   * `Fn::Sub` needs `${!` there, or it would read the text as a reference.
   */
  literalDollarBrace?: string;
}

/** An IAM policy document. */
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

const PLACEHOLDER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Characters that would break the JSON string they land in, widen an ARN pattern, or are not ASCII text. */
const UNSAFE_VALUE = /["\\*?]|[^ -~]/;

type Part = { literal: string } | { placeholder: string };

/**
 * The placeholder names a template uses, sorted.
 *
 * @example
 * templatePlaceholders("writer-trust"); // ["external_id", "issuer_role_arn"]
 */
export function templatePlaceholders(template: PolicyTemplate): string[] {
  const names = new Set<string>();
  for (const part of parse(template, load(template), "${"))
    if ("placeholder" in part) names.add(part.placeholder);
  return [...names].sort();
}

/**
 * Substitutes every placeholder of a template and returns the parsed document.
 *
 * @throws {PolicyError} for an unknown template, a placeholder without a value,
 *   a value without a placeholder, an empty value or one holding `"`, `\`,
 *   an IAM wildcard (`*`, `?`) or anything but printable ASCII.
 *
 * @example
 * const trust = renderPolicy("writer-trust", {
 *   issuer_role_arn: "arn:aws:iam::111122223333:role/lambda-svid-issuer",
 *   external_id: "lambda-svid-7f3a",
 * });
 * trust.Statement[0]?.Condition; // { StringEquals: { "sts:ExternalId": "lambda-svid-7f3a" } }
 */
export function renderPolicy(
  template: PolicyTemplate,
  values: Readonly<Record<string, string>>,
  options: RenderOptions = {},
): PolicyDocument {
  return renderPolicyText(template, load(template), values, options);
}

/**
 * {@link renderPolicy} for template text that is not one of the files here;
 * `label` names it in errors.
 *
 * @example
 * renderPolicyText("inline", '{"Version":"2012-10-17","Statement":[...]}', {});
 */
export function renderPolicyText(
  label: string,
  text: string,
  values: Readonly<Record<string, string>>,
  options: RenderOptions = {},
): PolicyDocument {
  const parts = parse(label, text, options.literalDollarBrace ?? "${");
  const used = new Set(parts.flatMap((p) => ("placeholder" in p ? [p.placeholder] : [])));
  for (const name of Object.keys(values)) {
    if (!used.has(name))
      throw new PolicyError(
        PolicyReason.UNKNOWN_VALUE,
        `${label}: ${JSON.stringify(name)}; expected one of ${[...used].sort().join(", ") || "none"}`,
      );
  }
  for (const name of [...used].sort()) {
    const value = values[name];
    if (value === undefined)
      throw new PolicyError(PolicyReason.MISSING_VALUE, `${label}: ${JSON.stringify(name)}`);
    // Values are not echoed: the writer trust's ExternalId is one of them.
    const unsafe = UNSAFE_VALUE.exec(value)?.[0];
    if (value === "" || unsafe !== undefined)
      throw new PolicyError(
        PolicyReason.BAD_VALUE,
        `${label}: ${JSON.stringify(name)} ${unsafe === undefined ? "is empty" : `contains ${JSON.stringify(unsafe)}`}; expected non-empty printable ASCII without quotes, backslashes or wildcards`,
      );
  }
  const rendered = parts
    .map((p) => ("placeholder" in p ? (values[p.placeholder] as string) : p.literal))
    .join("");
  let document: unknown;
  try {
    document = JSON.parse(rendered);
  } catch {
    // JSON.parse quotes the text around the error, which may hold a value.
    throw new PolicyError(PolicyReason.MALFORMED_TEMPLATE, `${label}: not JSON after substitution`);
  }
  if (!isPolicyDocument(document))
    throw new PolicyError(
      PolicyReason.MALFORMED_TEMPLATE,
      `${label}: expected Version "2012-10-17" and a non-empty Statement list`,
    );
  return document;
}

function load(template: string): string {
  if (!(Object.values(PolicyTemplate) as string[]).includes(template))
    throw new PolicyError(
      PolicyReason.UNKNOWN_TEMPLATE,
      `${JSON.stringify(template)}; expected one of ${Object.values(PolicyTemplate).join(", ")}`,
    );
  return readFileSync(new URL(`./${template}.json`, import.meta.url), "utf8");
}

/**
 * Splits a template the way Terraform's template language reads it: `$${`
 * and `%%{` are escapes, `${name}` is a placeholder; any other `${...}` or a
 * `%{` directive is refused, because Terraform would evaluate it differently.
 */
function parse(template: string, text: string, literalDollarBrace: string): Part[] {
  const parts: Part[] = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      literal += literalDollarBrace;
      i += 3;
    } else if (text.startsWith("%%{", i)) {
      literal += "%{";
      i += 3;
    } else if (text.startsWith("${", i)) {
      const end = text.indexOf("}", i + 2);
      const name = end < 0 ? "" : text.slice(i + 2, end);
      if (!PLACEHOLDER_NAME.test(name))
        throw new PolicyError(
          PolicyReason.MALFORMED_TEMPLATE,
          `${template}: ${JSON.stringify(text.slice(i, end < 0 ? i + 20 : end + 1))} is not a \${name} placeholder`,
        );
      if (literal) parts.push({ literal });
      literal = "";
      parts.push({ placeholder: name });
      i = end + 1;
    } else if (text.startsWith("%{", i)) {
      throw new PolicyError(
        PolicyReason.MALFORMED_TEMPLATE,
        `${template}: template directives (%{...}) are not supported`,
      );
    } else {
      literal += text[i];
      i += 1;
    }
  }
  if (literal) parts.push({ literal });
  return parts;
}

function isPolicyDocument(value: unknown): value is PolicyDocument {
  if (typeof value !== "object" || value === null) return false;
  const doc = value as { Version?: unknown; Statement?: unknown };
  return doc.Version === "2012-10-17" && Array.isArray(doc.Statement) && doc.Statement.length > 0;
}
