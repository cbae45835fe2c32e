import { readFileSync } from "node:fs";
import { SVID_SECRET_NAME_SPEC } from "../../layers/svid-secret/index.ts";
import { Catalogue, type Env, variable } from "../../lib/config/index.ts";
import { OptIn } from "./opt-in.ts";

/** The syncer's configuration: every variable it reads, validated. */
export interface SyncerConfig {
  svidSecretName: string;
  /** The Keywhiz server; its path, if any, is kept: the API is served under it. */
  keywhizUrl: URL;
  /** PEM roots for the Keywhiz server's certificate. */
  keywhizCaPem: string;
  optIn: OptIn;
  prefix: string;
  kmsKeyId: string | undefined;
  recoveryWindowDays: number;
  /** Deletions in one run above this share (percent) of the mirrored secrets are refused unless forced. */
  maxDeletePercent: number;
}

/**
 * More than half of an identity's mirror vanishing in one run is more often a
 * broken source (an ACL or group lost on the Keywhiz side, a bad opt-in
 * deploy) than a deliberate change; the deliberate one costs one forced re-sync.
 */
const DEFAULT_MAX_DELETE_PERCENT = 50;

const URL_FORM = "an https:// URL, optionally with a path, without user, query or fragment";

/**
 * The syncer's variables, declared once: {@link loadSyncerConfig} reads only
 * these, and `docs/configuration.md` is generated from them. The tenant
 * Terraform module sets them.
 *
 * @example
 * SYNCER_CATALOGUE.spec("LAMBDA_SVID_SYNC_PREFIX").default; // "keywhiz/"
 */
export const SYNCER_CATALOGUE = new Catalogue(
  "syncer",
  "The Keywhiz syncer (`functions/syncer`) in each tenant account; the tenant Terraform module sets these",
  [
    variable({
      name: "LAMBDA_SVID_KEYWHIZ_URL",
      kind: "required",
      expected: URL_FORM,
      description: "the Keywhiz server; a path in it is kept (the API is served under it)",
    }),
    variable({
      name: "LAMBDA_SVID_KEYWHIZ_CA",
      kind: "required",
      expected: "PEM certificates, or the path of a file holding them",
      description: "the roots the Keywhiz server's certificate must chain to",
    }),
    variable({
      name: "LAMBDA_SVID_SYNC_OPT_IN",
      kind: "required",
      expected: "comma-separated Keywhiz secret names and globs",
      description:
        "the Keywhiz secrets this identity mirrors: names and globs such as `db-*`, comma-separated",
    }),
    variable({
      name: "LAMBDA_SVID_SYNC_PREFIX",
      kind: "string",
      default: "keywhiz/",
      pattern: {
        test: /^[\w/+=.@-]{1,256}$/,
        expected: "1 to 256 characters of [A-Za-z0-9/_+=.@-]",
      },
      description:
        "mirrored secrets are named `<prefix><keywhiz name>`; must not cover the SVID secret's name",
    }),
    SVID_SECRET_NAME_SPEC,
    variable({
      name: "LAMBDA_SVID_SYNC_KMS_KEY_ID",
      kind: "string",
      expected: "a KMS key ID, ARN or alias",
      whenUnset: "Secrets Manager's default key",
      description: "the KMS key mirrored secrets are created with",
    }),
    variable({
      name: "LAMBDA_SVID_SYNC_RECOVERY_DAYS",
      kind: "integer",
      default: 7,
      min: 7,
      max: 30,
      description:
        "recovery window of a mirrored secret deleted because it left Keywhiz or the opt-in",
    }),
    variable({
      name: "LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT",
      kind: "integer",
      default: DEFAULT_MAX_DELETE_PERCENT,
      min: 0,
      max: 100,
      description:
        "a run that would delete more than this share of the mirrored secrets deletes none (unless the re-sync event says `force`)",
    }),
  ],
);

/**
 * Reads and validates the syncer's configuration once, at start.
 *
 * @throws {ConfigError} naming the first bad variable.
 * @example
 * const config = loadSyncerConfig(process.env);
 */
export function loadSyncerConfig(env: Env = process.env): SyncerConfig {
  const r = SYNCER_CATALOGUE.reader(env);
  const keywhizUrl = readKeywhizUrl(r);

  const caText = r.read("LAMBDA_SVID_KEYWHIZ_CA");
  const keywhizCaPem = caText.includes("-----BEGIN CERTIFICATE-----")
    ? caText
    : readCaFile(r, caText);

  const optInText = r.read("LAMBDA_SVID_SYNC_OPT_IN");
  const optIn = OptIn.parse(optInText);
  if (optIn.size === 0)
    throw r.refuse("LAMBDA_SVID_SYNC_OPT_IN", optInText, "at least one name or glob");

  const prefix = r.read("LAMBDA_SVID_SYNC_PREFIX");
  const svidSecretName = r.read("LAMBDA_SVID_SECRET_NAME");
  if (svidSecretName.startsWith(prefix)) {
    throw r.refuse(
      "LAMBDA_SVID_SYNC_PREFIX",
      prefix,
      `a prefix that does not cover the SVID secret ${svidSecretName}`,
    );
  }
  return {
    svidSecretName,
    keywhizUrl,
    keywhizCaPem,
    optIn,
    prefix,
    kmsKeyId: r.read("LAMBDA_SVID_SYNC_KMS_KEY_ID"),
    recoveryWindowDays: r.read("LAMBDA_SVID_SYNC_RECOVERY_DAYS"),
    maxDeletePercent: r.read("LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT"),
  };
}

type SyncerReader = ReturnType<typeof SYNCER_CATALOGUE.reader>;

function readKeywhizUrl(r: SyncerReader): URL {
  const text = r.read("LAMBDA_SVID_KEYWHIZ_URL");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw r.refuse("LAMBDA_SVID_KEYWHIZ_URL", text);
  }
  // A password in the URL must not reach the log through the error message.
  if (url.username !== "" || url.password !== "")
    throw r.refuse("LAMBDA_SVID_KEYWHIZ_URL", undefined);
  if (url.protocol !== "https:" || url.search !== "" || url.hash !== "")
    throw r.refuse("LAMBDA_SVID_KEYWHIZ_URL", text);
  return url;
}

function readCaFile(r: SyncerReader, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw r.refuse(
      "LAMBDA_SVID_KEYWHIZ_CA",
      path,
      "PEM certificates, or the path of a readable file holding them",
    );
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw r.refuse("LAMBDA_SVID_KEYWHIZ_CA", path, "a file holding PEM certificates");
  }
  return text;
}
