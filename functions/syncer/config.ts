import { readFileSync } from "node:fs";
import { readSvidSecretName } from "../../layers/svid-secret/index.ts";
import { ConfigError, type Env, EnvReader } from "../../lib/config/index.ts";
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

const PREFIX = /^[\w/+=.@-]{1,256}$/;

/**
 * Reads and validates the syncer's configuration once, at start.
 *
 * @throws {ConfigError} naming the first bad variable.
 */
export function loadSyncerConfig(env: Env = process.env): SyncerConfig {
  const r = new EnvReader(env);
  const keywhizUrl = readKeywhizUrl(r);

  const caText = r.required(
    "LAMBDA_SVID_KEYWHIZ_CA",
    "PEM certificates, or the path of a file holding them",
  );
  const keywhizCaPem = caText.includes("-----BEGIN CERTIFICATE-----") ? caText : readCaFile(caText);

  const optInText = r.required(
    "LAMBDA_SVID_SYNC_OPT_IN",
    "comma-separated Keywhiz secret names and globs",
  );
  const optIn = OptIn.parse(optInText);
  if (optIn.size === 0)
    throw new ConfigError("LAMBDA_SVID_SYNC_OPT_IN", "at least one name or glob", optInText);

  const prefix = r.string("LAMBDA_SVID_SYNC_PREFIX", "keywhiz/");
  if (!PREFIX.test(prefix))
    throw new ConfigError(
      "LAMBDA_SVID_SYNC_PREFIX",
      "1 to 256 characters of [A-Za-z0-9/_+=.@-]",
      prefix,
    );
  const svidSecretName = readSvidSecretName(r);
  if (svidSecretName.startsWith(prefix)) {
    throw new ConfigError(
      "LAMBDA_SVID_SYNC_PREFIX",
      `a prefix that does not cover the SVID secret ${svidSecretName}`,
      prefix,
    );
  }
  return {
    svidSecretName,
    keywhizUrl,
    keywhizCaPem,
    optIn,
    prefix,
    kmsKeyId: r.optional("LAMBDA_SVID_SYNC_KMS_KEY_ID"),
    recoveryWindowDays: r.integer("LAMBDA_SVID_SYNC_RECOVERY_DAYS", 7, 7, 30),
    maxDeletePercent: r.integer(
      "LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT",
      DEFAULT_MAX_DELETE_PERCENT,
      0,
      100,
    ),
  };
}

const URL_FORM = "an https:// URL, optionally with a path, without user, query or fragment";

function readKeywhizUrl(r: EnvReader): URL {
  const text = r.required("LAMBDA_SVID_KEYWHIZ_URL", URL_FORM);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError("LAMBDA_SVID_KEYWHIZ_URL", URL_FORM, text);
  }
  // A password in the URL must not reach the log through the error message.
  if (url.username !== "" || url.password !== "")
    throw new ConfigError("LAMBDA_SVID_KEYWHIZ_URL", URL_FORM);
  if (url.protocol !== "https:" || url.search !== "" || url.hash !== "")
    throw new ConfigError("LAMBDA_SVID_KEYWHIZ_URL", URL_FORM, text);
  return url;
}

function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new ConfigError(
      "LAMBDA_SVID_KEYWHIZ_CA",
      "PEM certificates, or the path of a readable file holding them",
      path,
    );
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ConfigError("LAMBDA_SVID_KEYWHIZ_CA", "a file holding PEM certificates", path);
  }
  return text;
}
