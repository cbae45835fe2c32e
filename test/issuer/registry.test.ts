import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IdTemplate } from "../../functions/issuer/identity.ts";
import {
  entriesFromAccounts,
  RegistryFileError,
  readRegistryFile,
  resolveEntries,
} from "../../functions/issuer/registry/index.ts";
import { parseTrustDomain } from "../../layers/spiffe/index.ts";

const template = IdTemplate.parse(IdTemplate.DEFAULT, parseTrustDomain("example.org"));
const entry = (service: unknown, environment: unknown, accountId: unknown, n: number) => ({
  service,
  environment,
  accountId,
  origin: `file entry ${n}`,
});

describe("registry entries", () => {
  it("resolves valid entries to SPIFFE IDs", () => {
    const { identities, problems } = resolveEntries(
      [entry("payments", "prod", "111122223333", 0)],
      template,
    );
    expect(problems).toEqual([]);
    expect(identities.map((i) => i.spiffeId.toString())).toEqual([
      "spiffe://example.org/prod/payments",
    ]);
  });

  it("reports each invalid entry and keeps the valid ones", () => {
    const { identities, problems } = resolveEntries(
      [
        entry("ok", "prod", "111122223333", 0),
        entry("bad name", "prod", "222233334444", 1),
        entry("svc", "..", "333344445555", 2),
        entry("svc", "prod", "12345", 3),
        entry(undefined, "prod", "444455556666", 4),
        entry("ok", "prod", "111122223333", 5),
        entry("a", "prod", "555566667777", 6),
        entry("b", "prod", "555566667777", 7),
        entry("svc/evil", "prod", "666677778888", 8),
      ],
      template,
    );
    expect(identities.map((i) => i.accountId)).toEqual(["111122223333"]);
    expect(problems).toEqual([
      {
        origin: "file entry 1",
        reason:
          'service "bad name" cannot form a SPIFFE ID path segment (letters, digits, ".", "-", "_")',
      },
      {
        origin: "file entry 2",
        reason:
          'environment ".." cannot form a SPIFFE ID path segment (letters, digits, ".", "-", "_")',
      },
      { origin: "file entry 3", reason: 'accountId "12345" is not a 12-digit AWS account id' },
      { origin: "file entry 4", reason: "service is missing or not a string" },
      { origin: "file entry 5", reason: "duplicate of file entry 0 (ok/prod@111122223333)" },
      {
        origin: "file entry 7",
        reason:
          "account 555566667777 is also claimed by file entry 6 as spiffe://example.org/prod/a; neither is issued",
      },
      {
        origin: "file entry 8",
        reason:
          'service "svc/evil" cannot form a SPIFFE ID path segment (letters, digits, ".", "-", "_")',
      },
      {
        origin: "file entry 6",
        reason: "account 555566667777 is claimed by more than one identity; neither is issued",
      },
    ]);
  });

  it("refuses accounts outside the Organization when membership is known", () => {
    const { identities, problems } = resolveEntries(
      [entry("a", "prod", "111122223333", 0), entry("b", "prod", "999988887777", 1)],
      template,
      new Set(["111122223333"]),
    );
    expect(identities.map((i) => i.accountId)).toEqual(["111122223333"]);
    expect(problems).toEqual([
      {
        origin: "file entry 1",
        reason: "account 999988887777 is not an active member of the Organization",
      },
    ]);
  });
});

describe("registry from account tags", () => {
  const keys = {
    service: "lambda-svid:service",
    environment: "lambda-svid:environment",
    enabled: "lambda-svid:enabled",
  };
  it("takes enabled accounts with both tags and reports incomplete ones", () => {
    const { entries, problems } = entriesFromAccounts(
      [
        {
          id: "111122223333",
          status: "ACTIVE",
          tags: { ...tags("web", "prod"), "lambda-svid:enabled": "true" },
        },
        { id: "222233334444", status: "ACTIVE", tags: { ...tags("web", "dev") } },
        {
          id: "333344445555",
          status: "ACTIVE",
          tags: { "lambda-svid:enabled": "true", "lambda-svid:service": "x" },
        },
        {
          id: "444455556666",
          status: "ACTIVE",
          tags: { ...tags("a", "b"), "lambda-svid:enabled": "yes" },
        },
        {
          id: "555566667777",
          status: "ACTIVE",
          tags: { ...tags("a", "b"), "lambda-svid:enabled": "false" },
        },
      ],
      keys,
    );
    expect(entries).toEqual([
      {
        service: "web",
        environment: "prod",
        accountId: "111122223333",
        origin: "account 111122223333",
      },
    ]);
    expect(problems).toEqual([
      { origin: "account 333344445555", reason: "enabled but missing tag lambda-svid:environment" },
      {
        origin: "account 444455556666",
        reason: 'tag lambda-svid:enabled is "yes"; expected true or false',
      },
    ]);
  });

  function tags(service: string, environment: string) {
    return { "lambda-svid:service": service, "lambda-svid:environment": environment };
  }
});

describe("registry file", () => {
  async function file(name: string, content: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "lambda-svid-registry-"));
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  }

  it("reads JSON and YAML with the same shape", async () => {
    const json = await file(
      "r.json",
      JSON.stringify({
        identities: [{ service: "a", environment: "b", accountId: "111122223333" }],
      }),
    );
    const yaml = await file(
      "r.yaml",
      "identities:\n  - service: a\n    environment: b\n    accountId: '111122223333'\n",
    );
    const expected = [
      { service: "a", environment: "b", accountId: "111122223333", origin: "file entry 0" },
    ];
    expect(await readRegistryFile(json)).toEqual(expected);
    expect(await readRegistryFile(yaml)).toEqual(expected);
  });

  it("an entry of the wrong type is one problem, not a failed file", async () => {
    const path = await file(
      "r.json",
      JSON.stringify({
        identities: ["oops", { service: "a", environment: "b", accountId: "111122223333" }],
      }),
    );
    const entries = await readRegistryFile(path);
    const { identities, problems } = resolveEntries(entries, template);
    expect(identities).toHaveLength(1);
    expect(problems).toEqual([
      { origin: "file entry 0", reason: "service is missing or not a string" },
    ]);
  });

  it("a YAML account id written as a number is reported, not silently converted", async () => {
    const path = await file(
      "r.yml",
      "identities:\n  - {service: a, environment: b, accountId: 111122223333}\n",
    );
    const { problems } = resolveEntries(await readRegistryFile(path), template);
    expect(problems).toEqual([
      { origin: "file entry 0", reason: "accountId is missing or not a string" },
    ]);
  });

  it.each([
    ["missing.json", undefined, "cannot be read"],
    ["bad.json", "{", "is not valid JSON"],
    ["bad.yaml", "identities: [", "is not valid YAML"],
    ["shape.json", '{"accounts": []}', 'must be an object with an "identities" array'],
  ])("rejects %s as a whole", async (name, content, fragment) => {
    const path =
      content === undefined ? join(tmpdir(), "does-not-exist", name) : await file(name, content);
    await expect(readRegistryFile(path)).rejects.toThrow(RegistryFileError);
    await expect(readRegistryFile(path)).rejects.toThrow(fragment);
  });
});
