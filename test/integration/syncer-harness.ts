/**
 * A real syncer against the emulator and the Keywhiz stand-in: a fresh tenant
 * account holding an SVID from a test CA, a Keywhiz that trusts that CA and
 * grants the SVID's SPIFFE ID some secrets, and call counters on both sides.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { createSyncer } from "../../functions/syncer/compose.ts";
import { loadSyncerConfig } from "../../functions/syncer/config.ts";
import type { SyncRequest } from "../../functions/syncer/event.ts";
import type { SyncReport } from "../../functions/syncer/run.ts";
import { encodeSvidSecret, parseX509Svid } from "../../layers/spiffe/index.ts";
import { clientConfigForAccount, randomAccountId } from "../emulator/accounts.ts";
import { countCalls } from "../emulator/faults.ts";
import { createSecretInAccount } from "../emulator/secrets.ts";
import { TestCa } from "../support/ca.ts";
import { captureOutput } from "../support/capture.ts";
import { KeywhizStandIn, keywhizServerCredentials } from "../support/keywhiz.ts";

export const CLIENT_ID = "spiffe://example.org/prod/web";

export interface SyncerHarnessOptions {
  optIn?: string;
  /** Store an SVID that expired an hour ago instead of a valid one. */
  expiredSvid?: boolean;
  /** Store no SVID secret at all. */
  noSvid?: boolean;
  env?: Record<string, string>;
  /** The tenant account to sync in; a fresh random one by default. */
  account?: string;
  /** What the syncer itself signs with (e.g. its role's credentials); the account's administrator by default. */
  credentials?: AwsCredentialIdentityProvider;
  /** `false` counts Secrets Manager calls without keeping what they sent (secret values), as a benchmark must. */
  keepCallInputs?: boolean;
}

export async function syncerHarness(options: SyncerHarnessOptions = {}) {
  const account = options.account ?? randomAccountId();
  const ca = await TestCa.root("example.org");
  if (!options.noSvid) {
    const hour = 3_600_000;
    const pem = await ca.svid(
      "/prod/web",
      options.expiredSvid
        ? { notBefore: new Date(Date.now() - 3 * hour), notAfter: new Date(Date.now() - hour) }
        : {},
    );
    await createSecretInAccount(account, {
      name: "lambda-svid/svid",
      secretString: encodeSvidSecret(parseX509Svid(pem.chainPem, pem.keyPem), ca.bundle()),
    });
  }
  const serverTls = await keywhizServerCredentials();
  const keywhiz = new KeywhizStandIn({ clientCaPem: ca.root.certPem, server: serverTls });
  const listening = await keywhiz.start();
  const sm = new SecretsManagerClient(
    options.credentials ? { credentials: options.credentials } : clientConfigForAccount(account),
  );
  const calls = countCalls(sm, { keepInputs: options.keepCallInputs ?? true });
  const env = {
    LAMBDA_SVID_KEYWHIZ_URL: listening.url,
    LAMBDA_SVID_KEYWHIZ_CA: serverTls.caPem,
    LAMBDA_SVID_SYNC_OPT_IN: options.optIn ?? "db-password,api-*,blob,limit",
    ...options.env,
  };
  const build = (overrides: Record<string, string> = {}) =>
    createSyncer(loadSyncerConfig({ ...env, ...overrides }), { sm });
  let syncer = build();

  return {
    account,
    keywhiz,
    calls,
    sm: new SecretsManagerClient(clientConfigForAccount(account)),
    /** Rebuilds the syncer with changed configuration (e.g. a new opt-in list), as a redeploy would. */
    reconfigure(overrides: Record<string, string>) {
      syncer = build(overrides);
    },
    async run(request: SyncRequest = { force: false }) {
      const logger = new Logger({ serviceName: "lambda-svid-syncer-test", logLevel: "DEBUG" });
      const { result, output } = await captureOutput(() => syncer.run(request, logger));
      return { report: result as SyncReport, output };
    },
    close: () => listening.close(),
  };
}
