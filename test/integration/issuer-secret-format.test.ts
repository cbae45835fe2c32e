import { describe, expect, it } from "vitest";
import { SvidSource } from "../../layers/svid-secret/index.ts";
import { issuerHarness } from "./issuer-harness.ts";

/** What the agent holds after reading the account's secret with its own credentials. */
async function readWithAgent(h: Awaited<ReturnType<typeof issuerHarness>>, accountId: string) {
  const source = new SvidSource({
    secretName: h.config.secretName,
    client: h.tenantClient(accountId),
  });
  return source.read();
}

describe("where the issuer writes the SVID document", () => {
  it.each([
    ["string", "SecretString"],
    ["binary", "SecretBinary"],
  ] as const)(
    "LAMBDA_SVID_SECRET_FORMAT=%s writes only %s, and the agent reads it",
    async (format, field) => {
      const h = await issuerHarness({ accounts: 1, env: { LAMBDA_SVID_SECRET_FORMAT: format } });
      const account = h.tenantAccounts[0]?.id as string;
      expect((await h.run()).report.counts.issued).toBe(1);

      const value = await h.readSecret(account);
      expect(Object.keys(value).filter((k) => k.startsWith("Secret"))).toEqual([field]);
      const held = await readWithAgent(h, account);
      expect(held.svid.id.toString()).toBe("spiffe://example.org/prod/svc0");

      // PutSecretValue on an existing secret writes the same field.
      expect((await h.run({ force: true })).report.counts.issued).toBe(1);
      const renewed = await h.readSecret(account);
      expect(Object.keys(renewed).filter((k) => k.startsWith("Secret"))).toEqual([field]);
      const again = await readWithAgent(h, account);
      expect(again.svid.leaf.serialNumber).not.toBe(held.svid.leaf.serialNumber);
    },
  );

  it("switching the format on an existing secret writes a version with only the new field", async () => {
    const h = await issuerHarness({ accounts: 1 });
    const account = h.tenantAccounts[0]?.id as string;
    const secretFields = async () =>
      Object.keys(await h.readSecret(account)).filter((k) => k.startsWith("Secret"));

    expect((await h.run()).report.counts.issued).toBe(1);
    expect(await secretFields()).toEqual(["SecretString"]);
    const first = await readWithAgent(h, account);

    const binary = h.reconfigured({ LAMBDA_SVID_SECRET_FORMAT: "binary" });
    expect((await binary.run({ force: true })).report.counts.issued).toBe(1);
    expect(await secretFields()).toEqual(["SecretBinary"]);
    const second = await readWithAgent(h, account);
    expect(second.svid.leaf.serialNumber).not.toBe(first.svid.leaf.serialNumber);

    expect((await h.run({ force: true })).report.counts.issued).toBe(1);
    expect(await secretFields()).toEqual(["SecretString"]);
    const third = await readWithAgent(h, account);
    expect(third.svid.leaf.serialNumber).not.toBe(second.svid.leaf.serialNumber);
  });
});
