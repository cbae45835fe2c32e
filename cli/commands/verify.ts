/**
 * `lambda-svid verify <secret-name | file>`: reads an SVID document (a file
 * when the path exists, otherwise a Secrets Manager secret read with the
 * SDK's own credentials), verifies its chain with the SPIFFE library against
 * the document's own bundle (and, when given, the expected trust domain), and
 * prints its ID, serial, issuer and validity. A failure prints the rule that
 * failed, as the library states it, and exits 1.
 */
import { readFile, stat } from "node:fs/promises";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Command, InvalidArgumentError } from "commander";
import { ISSUER_CATALOGUE, readTrustDomain } from "../../functions/issuer/config.ts";
import {
  parseSvidSecret,
  parseTrustDomain,
  SpiffeError,
  type TrustDomain,
  verifyX509Svid,
} from "../../layers/spiffe/index.ts";
import { CliError, CliReason } from "../errors.ts";
import { EXIT_CODES_HELP, ExitCode } from "../exit.ts";
import { guarded, type Io } from "./io.ts";

/** Reason printed when the SVID's ID is outside the expected trust domain. */
export const WRONG_TRUST_DOMAIN = "verify: SPIFFE ID is not in the expected trust domain";

function trustDomainOption(value: string): TrustDomain {
  try {
    return parseTrustDomain(value);
  } catch (err) {
    throw new InvalidArgumentError(
      `expected a trust domain name such as example.org (${(err as Error).message}).`,
    );
  }
}

async function readDocument(
  target: string,
): Promise<{ value: { SecretString?: string; SecretBinary?: Uint8Array }; from: string }> {
  const isFile = await stat(target).then(
    (s) => s.isFile(),
    () => false,
  );
  if (isFile)
    return { value: { SecretString: await readFile(target, "utf8") }, from: `file ${target}` };
  try {
    const out = await new SecretsManagerClient({}).send(
      new GetSecretValueCommand({ SecretId: target }),
    );
    return {
      value: {
        ...(out.SecretString !== undefined ? { SecretString: out.SecretString } : {}),
        ...(out.SecretBinary !== undefined ? { SecretBinary: out.SecretBinary } : {}),
      },
      from: `secret ${out.ARN ?? target}${out.VersionId ? ` version ${out.VersionId}` : ""}`,
    };
  } catch (err) {
    throw new CliError(
      CliReason.SVID_UNREADABLE,
      `${JSON.stringify(target)} is not a file, and reading it as a secret failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
    );
  }
}

async function verify(io: Io, target: string, opts: { trustDomain?: TrustDomain }): Promise<void> {
  // The issuer's own declaration, read only when set: verify needs no trust domain.
  const trustDomain =
    opts.trustDomain ?? readTrustDomain(ISSUER_CATALOGUE.reader(io.env), { ifSet: true });
  const { value, from } = await readDocument(target);
  try {
    const { svid, bundle } = parseSvidSecret(value);
    if (trustDomain !== undefined && svid.id.trustDomain.name !== trustDomain.name) {
      io.out.write(
        `FAILED ${from}\nrule: ${WRONG_TRUST_DOMAIN}: ${JSON.stringify(svid.id.trustDomain.name)} is not ${JSON.stringify(trustDomain.name)}\n`,
      );
      io.exit(ExitCode.ATTENTION);
      return;
    }
    const verified = verifyX509Svid(svid.chainPem(), bundle, { now: io.now() });
    const leaf = svid.leaf;
    io.out.write(
      [
        `OK ${from}`,
        `id          ${verified.id.toString()}`,
        `serial      ${leaf.serialNumber}`,
        `issuer      ${leaf.x509.issuer}`,
        `not before  ${leaf.notBefore.toISOString()}`,
        `not after   ${leaf.notAfter.toISOString()}`,
        `chain       ${verified.chain.length} certificates to a root of the ${verified.id.trustDomain.name} bundle`,
        "",
      ].join("\n"),
    );
    io.exit(ExitCode.OK);
  } catch (err) {
    // The library's errors name the rule and never the key; anything else is not a verdict.
    if (!(err instanceof SpiffeError)) throw err;
    io.out.write(`FAILED ${from}\nrule: ${err.message}\n`);
    io.exit(ExitCode.ATTENTION);
  }
}

/**
 * The `verify` command.
 *
 * @example
 * program.addCommand(verifyCommand(io));
 */
export function verifyCommand(io: Io): Command {
  return new Command("verify")
    .summary("verify an SVID document from a secret or a file")
    .description(
      "Verify an SVID document (the lambda-svid/svid secret's JSON) from a file or a Secrets Manager secret, and print its ID, serial, issuer and validity.",
    )
    .argument("<secret-name|file>", "a file holding the document, or the secret's name or ARN")
    .option(
      "--trust-domain <name>",
      "also require the SPIFFE ID to be in this trust domain (default: LAMBDA_SVID_TRUST_DOMAIN when set)",
      trustDomainOption,
    )
    .addHelpText(
      "after",
      `
Examples:
  $ lambda-svid verify lambda-svid/svid                  # this account's SVID secret
  $ lambda-svid verify ./svid.json --trust-domain example.org
  $ lambda-svid verify arn:aws:secretsmanager:eu-west-1:111122223333:secret:lambda-svid/svid-AbCdEf

The chain is verified against the document's own bundle at the current time
(X509-SVID rules: one SPIFFE URI SAN, key usages, path to a bundle root).
The secret is read with the AWS SDK's standard credentials (GetSecretValue);
nothing of the key is printed.
${EXIT_CODES_HELP}`,
    )
    .action((target: string, opts: { trustDomain?: TrustDomain }) =>
      guarded(io, "verify", () => verify(io, target, opts)),
    );
}
