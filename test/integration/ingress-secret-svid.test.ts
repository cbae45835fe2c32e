/**
 * The ingress's own SVID from the account's SVID secret (the emulator's
 * Secrets Manager), read as the layer reads it, and rotated when the secret
 * gets a new SVID.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  parseRoutes,
  type RunningIngress,
  SecretSvidSource,
  startIngress,
} from "../../ingress/index.ts";
import { encodeSvidSecret, parseX509Svid } from "../../layers/spiffe/index.ts";
import { SvidSourceError, SvidSourceReason } from "../../layers/svid-secret/index.ts";
import { randomAccountId } from "../emulator/accounts.ts";
import {
  createSecretInAccount,
  putSecretInAccount,
  secretsClientForAccount,
} from "../emulator/secrets.ts";
import { TestCa } from "../support/ca.ts";
import { call, callerOptions, RecordingBackend, ROUTES } from "./ingress-harness.ts";

const SECRET = "lambda-svid/svid";
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function secretValue(ca: TestCa): Promise<{ value: string; serial: string }> {
  const issued = await ca.svid("/ingress");
  return {
    value: encodeSvidSecret(parseX509Svid(issued.chainPem, issued.keyPem), ca.bundle()),
    serial: issued.leaf.serialNumber.toUpperCase(),
  };
}

async function start(account: string, events: string[]): Promise<RunningIngress> {
  const backend = await RecordingBackend.start();
  cleanup.push(() => backend.close());
  const ingress = await startIngress({
    routes: parseRoutes(ROUTES, "routes.yaml"),
    svid: new SecretSvidSource({
      secretName: SECRET,
      client: secretsClientForAccount(account),
      // Stale after 200 ms, checked every 50 ms: a rotation is picked up within the test.
      refreshIntervalMs: 200,
      checkIntervalMs: 50,
    }),
    forwarder: backend,
    port: 0,
    host: "127.0.0.1",
    healthPort: 0,
    logger: {
      request: () => {},
      info: (message) => events.push(message),
      warn: (message) => events.push(message),
    },
  });
  cleanup.push(() => ingress.close(500));
  return ingress;
}

describe("ingress SVID from Secrets Manager", () => {
  it("presents the secret's SVID, and the next one after the secret rotates", async () => {
    const ca = await TestCa.root("example.org");
    const account = randomAccountId();
    const first = await secretValue(ca);
    await createSecretInAccount(account, { name: SECRET, secretString: first.value });
    const events: string[] = [];
    const ingress = await start(account, events);
    const web = callerOptions(await ca.svid("/prod/web"), ca.bundle());
    expect((await call(ingress.port, web, { path: "/orders/1" })).serverSerial).toBe(first.serial);

    const next = await secretValue(ca);
    await putSecretInAccount(account, SECRET, { secretString: next.value });
    while (!events.includes("svid rotated")) await new Promise((r) => setTimeout(r, 20));
    const after = await call(ingress.port, web, { path: "/orders/2" });
    expect(after.status).toBe(200);
    expect(after.serverSerial).toBe(next.serial);
  });

  it("does not start without a readable secret", async () => {
    const err = await start(randomAccountId(), []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SvidSourceError);
    expect((err as SvidSourceError).reason).toBe(SvidSourceReason.SECRET_UNREADABLE);
  });
});
