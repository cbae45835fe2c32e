import type { Logger } from "@aws-lambda-powertools/logger";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { X509Svid } from "../../layers/spiffe/index.ts";
import type { SyncerConfig } from "./config.ts";
import type { SyncRequest } from "./event.ts";
import type { KeywhizClient } from "./keywhiz/client.ts";
import { readOwnSvid } from "./own-svid.ts";
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
 * Wires the syncer. The account's SVID is read once and reused by warm
 * invocations until half its lifetime is gone (the issuer renews at a third
 * left), so a no-op run reads Secrets Manager only to list mirrored secrets.
 */
export function createSyncer(config: SyncerConfig, options: SyncerOptions = {}): Syncer {
  const sm = options.sm ?? new SecretsManagerClient({ maxAttempts: 6 });
  const now = options.now ?? (() => new Date());
  let cached: X509Svid | undefined;

  const svid = async (): Promise<X509Svid> => {
    const t = now().getTime();
    if (cached !== undefined) {
      const half =
        cached.notBefore.getTime() + (cached.notAfter.getTime() - cached.notBefore.getTime()) / 2;
      if (t < half) return cached;
    }
    cached = undefined;
    cached = await readOwnSvid(sm, config.svidSecretName, new Date(t));
    return cached;
  };

  return {
    run: (request, logger) =>
      runSync(
        { config, sm, svid, now, logger, ...(options.keywhiz ? { keywhiz: options.keywhiz } : {}) },
        request,
      ),
  };
}
