// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are CloudFormation Fn::Sub references, not JavaScript templates
/**
 * The policy templates as CloudFormation takes them: values may be `Fn::Sub`
 * references (`${AWS::AccountId}`, `${Queue.Arn}`), and every string that
 * holds one is wrapped in `Fn::Sub`, so the deployed policy is the template
 * with the stack's own values in it.
 */
import { type PolicyTemplate, renderPolicy } from "./render.ts";

/** The placeholders every account-scoped template has, as CloudFormation pseudo parameters. */
export const PSEUDO_PARAMETERS = {
  partition: "${AWS::Partition}",
  region: "${AWS::Region}",
  account_id: "${AWS::AccountId}",
} as const;

/** A CloudFormation value: a string, an intrinsic function, or a structure of them. */
export type CfnValue = string | { "Fn::Sub": string } | CfnValue[] | { [key: string]: CfnValue };

/**
 * Renders a template with values that may be `Fn::Sub` references.
 *
 * @throws {PolicyError} as {@link renderPolicy} does.
 *
 * @example
 * cloudFormationPolicy("artifact-bucket", {
 *   partition: "${AWS::Partition}",
 *   bucket_name: "${ArtifactBucket}",
 *   org_id: "o-a1b2c3d4e5",
 * }).Statement[0].Resource; // { "Fn::Sub": "arn:${AWS::Partition}:s3:::${ArtifactBucket}/*" }
 */
export function cloudFormationPolicy(
  template: PolicyTemplate,
  values: Readonly<Record<string, string>>,
): { [key: string]: CfnValue } {
  // Fn::Sub reads "${!" as a literal "${", so a template's own escape survives.
  const document = renderPolicy(template, values, { literalDollarBrace: "${!" });
  return substitute(document) as { [key: string]: CfnValue };
}

function substitute(value: unknown): CfnValue {
  if (typeof value === "string") return value.includes("${") ? { "Fn::Sub": value } : value;
  if (Array.isArray(value)) return value.map(substitute);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]));
  throw new TypeError(`policies: unexpected ${typeof value} in a policy document`);
}
