// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are template placeholders, not JavaScript templates
/**
 * The service control policies in infra/scp, rendered with the policy
 * renderer and asked, request by request, whom they stop: IAM's pattern
 * matching is modelled in test/support/iam.ts; Organizations itself is not
 * available here (moto does not evaluate SCPs).
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type PolicyDocument,
  PolicyTemplate,
  renderPolicy,
  renderPolicyText,
} from "../../infra/policies/render.ts";
import { denies, type IamRequest, isWriteAction, list } from "../support/iam.ts";

const SCP_DIR = new URL("../../infra/scp/", import.meta.url);
/** AWS's limit on one service control policy. */
const SCP_MAX_CHARS = 5120;

const TENANT = "222222222222";
const VALUES: Record<string, string> = {
  partition: "aws",
  secret_name: "lambda-svid/svid",
  sync_prefix: "keywhiz/",
  writer_role_name: "lambda-svid-writer",
  syncer_role_name: "lambda-svid-syncer",
  deployment_role_name: "platform/terraform-deploy",
};

const role = (name: string, account = TENANT) => `arn:aws:iam::${account}:role/${name}`;
const secret = (name: string) => `arn:aws:secretsmanager:eu-west-1:${TENANT}:secret:${name}`;

const WRITER = role("lambda-svid-writer");
const SYNCER = role("lambda-svid-syncer");
const DEPLOYER = role("platform/terraform-deploy");
const ADMIN = role("AWSReservedSSO_AdministratorAccess_0123456789abcdef");
/** The tenant module's optional operator role, which `lambda-svid sync` assumes. */
const OPERATOR = role("lambda-svid-operator");
const SVID = secret("lambda-svid/svid-AbC123");
const MIRRORED = secret("keywhiz/orders-db-password-Xy9Zq0");

function scpFiles(): string[] {
  return readdirSync(SCP_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort();
}

/** Renders an SCP with the values of the placeholders it uses (the renderer refuses extra ones). */
function scp(file: string): PolicyDocument {
  const text = readFileSync(new URL(file, SCP_DIR), "utf8");
  const used = Object.entries(VALUES).filter(([name]) => text.includes(`\${${name}}`));
  return renderPolicyText(file, text, Object.fromEntries(used));
}

const request = (principalArn: string, action: string, resource: string): IamRequest => ({
  principalArn,
  action,
  resource,
});

describe("service control policies", () => {
  it("are the three guardrails", () => {
    expect(scpFiles()).toEqual(["svid-secret.json", "syncer-prefix.json", "writer-role.json"]);
  });

  it.each(scpFiles())("%s renders, only denies, and fits one SCP", (file) => {
    const text = readFileSync(new URL(file, SCP_DIR), "utf8");
    expect(text.length).toBeLessThanOrEqual(SCP_MAX_CHARS);
    const doc = scp(file);
    for (const s of doc.Statement) {
      expect(s.Effect).toBe("Deny");
      // An exemption by principal is what keeps the one allowed role working.
      expect(Object.keys(s.Condition ?? {})).toEqual(["ArnNotLike"]);
    }
  });

  it.each([
    ["the writer role writes the SVID", WRITER, "secretsmanager:PutSecretValue", SVID, false],
    ["the writer role creates the SVID", WRITER, "secretsmanager:CreateSecret", SVID, false],
    ["the writer role tags the SVID", WRITER, "secretsmanager:TagResource", SVID, false],
    ["an administrator writes the SVID", ADMIN, "secretsmanager:PutSecretValue", SVID, true],
    ["an administrator deletes the SVID", ADMIN, "secretsmanager:DeleteSecret", SVID, true],
    ["an administrator updates the SVID", ADMIN, "secretsmanager:UpdateSecret", SVID, true],
    ["the syncer writes the SVID", SYNCER, "secretsmanager:PutSecretValue", SVID, true],
    [
      "an administrator opens the SVID by resource policy",
      ADMIN,
      "secretsmanager:PutResourcePolicy",
      SVID,
      true,
    ],
    [
      "an administrator removes the SVID's resource policy",
      ADMIN,
      "secretsmanager:DeleteResourcePolicy",
      SVID,
      true,
    ],
    ["an administrator re-tags the SVID", ADMIN, "secretsmanager:UntagResource", SVID, true],
    ["a function reads the SVID", role("orders-api"), "secretsmanager:GetSecretValue", SVID, false],
    [
      "a writer role of the same name in another path",
      role("team/lambda-svid-writer"),
      "secretsmanager:PutSecretValue",
      SVID,
      true,
    ],
    [
      "an administrator writes a secret that only starts like the SVID's name",
      ADMIN,
      "secretsmanager:PutSecretValue",
      secret("lambda-svid/svid-backup-AbC123"),
      false,
    ],
  ])("svid-secret.json: %s", (_, principal, action, resource, denied) => {
    expect(denies(scp("svid-secret.json"), request(principal, action, resource))).toBe(denied);
  });

  it.each([
    ["the syncer writes a mirrored secret", SYNCER, "secretsmanager:PutSecretValue", false],
    ["the syncer deletes a mirrored secret", SYNCER, "secretsmanager:DeleteSecret", false],
    ["the syncer creates a mirrored secret", SYNCER, "secretsmanager:CreateSecret", false],
    ["an administrator writes a mirrored secret", ADMIN, "secretsmanager:PutSecretValue", true],
    ["the writer role writes a mirrored secret", WRITER, "secretsmanager:PutSecretValue", true],
    ["an administrator creates one", ADMIN, "secretsmanager:CreateSecret", true],
    [
      "an administrator changes its resource policy",
      ADMIN,
      "secretsmanager:PutResourcePolicy",
      true,
    ],
    ["a function reads one", role("orders-api"), "secretsmanager:GetSecretValue", false],
  ])("syncer-prefix.json: %s", (_, principal, action, denied) => {
    expect(denies(scp("syncer-prefix.json"), request(principal, action, MIRRORED))).toBe(denied);
  });

  it.each([
    ["the deployment role changes the trust", DEPLOYER, "iam:UpdateAssumeRolePolicy", false],
    ["the deployment role changes the policy", DEPLOYER, "iam:PutRolePolicy", false],
    ["the deployment role deletes the role", DEPLOYER, "iam:DeleteRole", false],
    ["an administrator changes the trust", ADMIN, "iam:UpdateAssumeRolePolicy", true],
    ["an administrator adds an inline policy", ADMIN, "iam:PutRolePolicy", true],
    ["an administrator attaches a managed policy", ADMIN, "iam:AttachRolePolicy", true],
    ["an administrator sets a permissions boundary", ADMIN, "iam:PutRolePermissionsBoundary", true],
    ["an administrator deletes the role", ADMIN, "iam:DeleteRole", true],
    ["the writer role changes its own trust", WRITER, "iam:UpdateAssumeRolePolicy", true],
    ["an administrator reads the role", ADMIN, "iam:GetRole", false],
    [
      "a role whose path ends like the deployment role's",
      role("sandbox/platform/terraform-deploy"),
      "iam:UpdateAssumeRolePolicy",
      true,
    ],
  ])("writer-role.json: %s", (_, principal, action, denied) => {
    const doc = scp("writer-role.json");
    expect(denies(doc, request(principal, action, role("lambda-svid-writer")))).toBe(denied);
  });

  it("leave the operator role its one permission, invoking the syncer, and deny it what they protect", () => {
    const allowed = renderPolicy(PolicyTemplate.OPERATOR, {
      partition: "aws",
      region: "eu-west-1",
      account_id: TENANT,
      function_name: "lambda-svid-syncer",
    }).Statement.flatMap((s) => list(s.Action).flatMap((a) => list(s.Resource).map((r) => [a, r])));
    expect(allowed).toEqual([
      ["lambda:InvokeFunction", `arn:aws:lambda:eu-west-1:${TENANT}:function:lambda-svid-syncer`],
    ]);
    for (const file of scpFiles())
      for (const [action, resource] of allowed)
        expect(
          denies(scp(file), request(OPERATOR, action as string, resource as string)),
          file,
        ).toBe(false);
    for (const [file, action, resource] of [
      ["svid-secret.json", "secretsmanager:PutSecretValue", SVID],
      ["svid-secret.json", "secretsmanager:PutResourcePolicy", SVID],
      ["syncer-prefix.json", "secretsmanager:PutSecretValue", MIRRORED],
      ["syncer-prefix.json", "secretsmanager:DeleteSecret", MIRRORED],
      ["writer-role.json", "iam:UpdateAssumeRolePolicy", WRITER],
      ["writer-role.json", "iam:PutRolePolicy", WRITER],
    ] as const)
      expect(denies(scp(file), request(OPERATOR, action, resource)), `${file} ${action}`).toBe(
        true,
      );
  });

  it("deny to everyone else every write the writer and syncer roles are allowed", () => {
    const policyValues = {
      partition: "aws",
      region: "eu-west-1",
      account_id: TENANT,
      secret_name: VALUES.secret_name as string,
      kms_key_arn: `arn:aws:kms:eu-west-1:${TENANT}:key/5b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e`,
    };
    const writer = renderPolicy(PolicyTemplate.WRITER, policyValues);
    const syncer = renderPolicy(PolicyTemplate.SYNCER, {
      ...policyValues,
      sync_prefix: VALUES.sync_prefix as string,
      sync_kms_key_arn: policyValues.kms_key_arn,
      function_name: "lambda-svid-syncer",
    });
    const secretWrites = (doc: PolicyDocument) =>
      doc.Statement.filter((s) => s.Effect === "Allow")
        .flatMap((s) => list(s.Action))
        .filter((a) => a.startsWith("secretsmanager:") && isWriteAction(a));
    expect(secretWrites(writer).length).toBeGreaterThan(0);
    for (const action of secretWrites(writer))
      expect(denies(scp("svid-secret.json"), request(ADMIN, action, SVID)), action).toBe(true);
    expect(secretWrites(syncer).length).toBeGreaterThan(0);
    for (const action of secretWrites(syncer))
      expect(denies(scp("syncer-prefix.json"), request(ADMIN, action, MIRRORED)), action).toBe(
        true,
      );
  });
});
