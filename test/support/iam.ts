/**
 * What the infrastructure tests need to read IAM documents: statement fields
 * as lists, and IAM's own matching of action and ARN patterns (`*` and `?`,
 * case-insensitive for actions), so a test can ask "does this statement cover
 * that request?" of the real rendered document.
 */
import type { PolicyDocument, PolicyStatement } from "../../infra/policies/render.ts";

/** A statement field that may be one string or a list, as a list. */
export const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** Read-only actions by their verb; everything else counts as a write. */
const READ_VERB = /^[a-z0-9-]+:(Get|List|Describe|BatchGet)[A-Za-z]*$/;

/**
 * True for actions IAM classes as writes or permission changes.
 *
 * @example
 * isWriteAction("secretsmanager:PutSecretValue"); // true
 * isWriteAction("secretsmanager:ListSecrets"); // false
 */
export function isWriteAction(action: string): boolean {
  return !READ_VERB.test(action);
}

/**
 * IAM's pattern match: `*` any run of characters, `?` exactly one.
 *
 * @example
 * iamGlob("arn:aws:iam::*:role/lambda-svid-writer", "arn:aws:iam::222222222222:role/lambda-svid-writer"); // true
 */
export function iamGlob(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, ignoreCase ? "i" : "").test(value);
}

/** One request, as a service control policy or an identity policy sees it. */
export interface IamRequest {
  principalArn: string;
  action: string;
  resource: string;
}

/**
 * True when the statement's Action and Resource cover the request and its
 * conditions hold. Only the condition operators the project's documents use
 * are understood (`ArnLike`, `ArnNotLike`, `ArnEquals`); any other makes this
 * throw, so a test never silently ignores a condition.
 */
export function statementApplies(statement: PolicyStatement, request: IamRequest): boolean {
  const actionMatches = list(statement.Action).some((a) => iamGlob(a, request.action, true));
  const resourceMatches = list(statement.Resource).some((r) => iamGlob(r, request.resource));
  if (!actionMatches || !resourceMatches) return false;
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, values] of Object.entries(keys)) {
      if (key !== "aws:PrincipalArn") throw new Error(`iam: condition key ${key} not modelled`);
      const matches = list(values).some((v) => iamGlob(v, request.principalArn));
      if (operator === "ArnLike" || operator === "ArnEquals") {
        if (!matches) return false;
      } else if (operator === "ArnNotLike") {
        if (matches) return false;
      } else {
        throw new Error(`iam: condition operator ${operator} not modelled`);
      }
    }
  }
  return true;
}

/**
 * True when some Deny statement of the document covers the request: what a
 * service control policy does to a request in an account it is attached to.
 */
export function denies(doc: PolicyDocument, request: IamRequest): boolean {
  return doc.Statement.some((s) => s.Effect === "Deny" && statementApplies(s, request));
}
