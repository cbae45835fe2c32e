import type { Logger } from "@aws-lambda-powertools/logger";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { X509Svid } from "../../layers/spiffe/index.ts";
import { SvidSource } from "../../layers/svid-secret/index.ts";
import type { ContentKey } from "../../lib/secrets/index.ts";
import type { SyncerConfig } from "./config.ts";
import type { SyncRequest } from "./event.ts";
import { KeywhizClient } from "./keywhiz/client.ts";
import { contentKeySecretName, loadContentKey, type MirroredSecret } from "./mirror.ts";
import { runSync, type SyncReport } from "./run.ts";

export interface SyncerOptions {
  sm?: SecretsManagerClient;
  keywhiz?: (svid: X509Svid) => KeywhizClient;
  now?: () => Date;
}

export interface Syncer {
  run(request: SyncRequest, logger: Logger): Promise<SyncReport>;
}

/**
 * Wires the syncer. The account's SVID comes from the same {@link SvidSource}
 * the layer uses: read and verified once, reused by warm invocations while
 * fresh, re-read in the background when stale, never used once expired. So a
 * no-op run usually reads Secrets Manager only to list mirrored secrets. The
 * content key is read (or created) by the first run that fetches anything and
 * then kept for the container's life.
 *
 * @example
 * const syncer = createSyncer(loadSyncerConfig(process.env));
 * const report = await syncer.run({ force: false }, logger);
 */
export function createSyncer(config: SyncerConfig, options: SyncerOptions = {}): Syncer {
  const sm = options.sm ?? new SecretsManagerClient({ maxAttempts: 6 });
  const now = options.now ?? (() => new Date());
  const source = new SvidSource({ secretName: config.svidSecretName, client: sm, now });
  const svid = async (): Promise<X509Svid> => (await source.get()).svid;
  let key: ContentKey | undefined;
  const contentKey = async (existing: MirroredSecret | undefined): Promise<ContentKey> => {
    key ??= await loadContentKey(
      sm,
      contentKeySecretName(config.prefix),
      existing,
      config.kmsKeyId,
    );
    return key;
  };
  const keywhiz =
    options.keywhiz ??
    ((s: X509Svid) =>
      new KeywhizClient({ url: config.keywhizUrl, caPem: config.keywhizCaPem, svid: s }));
  const settings = {
    optIn: config.optIn,
    prefix: config.prefix,
    maxDeletePercent: config.maxDeletePercent,
    kmsKeyId: config.kmsKeyId,
    recoveryWindowDays: config.recoveryWindowDays,
  };
  return {
    run: (request, logger) => runSync({ settings, sm, svid, keywhiz, contentKey, logger }, request),
  };
}
