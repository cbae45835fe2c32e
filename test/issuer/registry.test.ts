import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IdTemplateReason, RegistryError, RegistryReason } from "../../functions/issuer/errors.ts";
import { IdTemplate } from "../../functions/issuer/identity.ts";
import {
  entriesFromAccounts,
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
        reason: `${IdTemplateReason.BAD_SEGMENT}: service "bad name"`,
      },
      {
        origin: "file entry 2",
        reason: `${IdTemplateReason.BAD_SEGMENT}: environment ".."`,
      },
      { origin: "file entry 3", reason: 'accountId "12345" is not a 12-digit AWS account id' },
      { origin: "file entry 4", reason: "service is missing" },
      { origin: "file entry 5", reason: "duplicate of file entry 0 (ok/prod@111122223333)" },
      {
        origin: "file entry 7",
        reason:
          "account 555566667777 is also claimed by file entry 6 as spiffe://example.org/prod/a; neither is issued",
      },
      {
        origin: "file entry 8",
        reason: `${IdTemplateReason.BAD_SEGMENT}: service "svc/evil"`,
      },
      {
        origin: "file entry 6",
        reason: "account 555566667777 is claimed by more than one identity; neither is issued",
      },
    ]);
  });

  it("refuses every claim on a SPIFFE ID that several accounts claim, unless every claim says it spans accounts", () => {
    const spans = (e: ReturnType<typeof entry>) => ({ ...e, spansAccounts: true });
    const { identities, problems } = resolveEntries(
      [
        entry("web", "prod", "111122223333", 0),
        entry("web", "prod", "222233334444", 1),
        spans(entry("api", "prod", "333344445555", 2)),
        entry("api", "prod", "444455556666", 3),
        spans(entry("db", "prod", "555566667777", 4)),
        spans(entry("db", "prod", "666677778888", 5)),
        spans(entry("db", "prod", "777788889999", 6)),
        spans(entry("solo", "prod", "888899990000", 7)),
      ],
      template,
    );
    expect(identities.map((i) => [i.accountId, i.spiffeId.toString()])).toEqual([
      ["555566667777", "spiffe://example.org/prod/db"],
      ["666677778888", "spiffe://example.org/prod/db"],
      ["777788889999", "spiffe://example.org/prod/db"],
      ["888899990000", "spiffe://example.org/prod/solo"],
    ]);
    const refused = (n: number, id: string, other: number) => ({
      origin: `file entry ${n}`,
      reason: `spiffe://example.org/prod/${id} is also claimed by file entry ${other}; neither is issued unless every claim says the identity spans accounts`,
    });
    expect(problems).toEqual([
      refused(0, "web", 1),
      refused(1, "web", 0),
      refused(2, "api", 3),
      refused(3, "api", 2),
    ]);
  });

  it("with {accountId} in the template, accounts never share an ID", () => {
    const perAccount = IdTemplate.parse(
      "spiffe://{trustDomain}/{environment}/{service}/{accountId}",
      parseTrustDomain("example.org"),
    );
    const { identities, problems } = resolveEntries(
      [entry("web", "prod", "111122223333", 0), entry("web", "prod", "222233334444", 1)],
      perAccount,
    );
    expect(problems).toEqual([]);
    expect(identities).toHaveLength(2);
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
    spansAccounts: "lambda-svid:spans-accounts",
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
        {
          id: "666677778888",
          status: "ACTIVE",
          tags: {
            ...tags("web", "prod"),
            "lambda-svid:enabled": "true",
            "lambda-svid:spans-accounts": "true",
          },
        },
        {
          id: "777788889999",
          status: "ACTIVE",
          tags: {
            ...tags("web", "prod"),
            "lambda-svid:enabled": "true",
            "lambda-svid:spans-accounts": "sure",
          },
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
        spansAccounts: false,
      },
      {
        service: "web",
        environment: "prod",
        accountId: "666677778888",
        origin: "account 666677778888",
        spansAccounts: true,
      },
    ]);
    expect(problems).toEqual([
      { origin: "account 333344445555", reason: "enabled but missing tag lambda-svid:environment" },
      {
        origin: "account 444455556666",
        reason: 'tag lambda-svid:enabled is "yes"; expected true or false',
      },
      {
        origin: "account 777788889999",
        reason: 'tag lambda-svid:spans-accounts is "sure"; expected true or false',
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
    expect(problems).toEqual([{ origin: "file entry 0", reason: "service is missing" }]);
  });

  it("an unquoted YAML account id is reported with its value, its type and the fix, not silently converted", async () => {
    const path = await file(
      "r.yml",
      "identities:\n  - {service: a, environment: b, accountId: 012345678901}\n  - {service: c, environment: b, accountId: 111122223333}\n",
    );
    const { problems } = resolveEntries(await readRegistryFile(path), template);
    expect(problems).toEqual([
      {
        origin: "file entry 0",
        reason:
          'accountId is the number 12345678901 (written 012345678901), not a string; write it in quotes: "012345678901"',
      },
      {
        origin: "file entry 1",
        reason:
          'accountId is the number 111122223333 (written 111122223333), not a string; write it in quotes: "111122223333"',
      },
    ]);
  });

  it("names the type of other non-string values in JSON", async () => {
    const path = await file(
      "r.json",
      JSON.stringify({
        identities: [
          { service: "a", environment: "b", accountId: 111122223333 },
          { service: ["a"], environment: "b", accountId: "111122223333" },
          { service: "a", environment: true, accountId: "111122223333" },
          { service: "a", environment: "b", accountId: "111122223333", spansAccounts: "yes" },
        ],
      }),
    );
    const { problems } = resolveEntries(await readRegistryFile(path), template);
    expect(problems.map((p) => p.reason)).toEqual([
      'accountId is the number 111122223333, not a string; write it in quotes: "111122223333"',
      "service is an array, not a string",
      'environment is the boolean true, not a string; write it in quotes: "true"',
      'spansAccounts is the string "yes"; expected true or false',
    ]);
  });

  it("reads spansAccounts from each entry", async () => {
    const path = await file(
      "r.yaml",
      [
        "identities:",
        "  - {service: a, environment: b, accountId: '111122223333', spansAccounts: true}",
        "  - {service: a, environment: b, accountId: '222233334444', spansAccounts: true}",
        "",
      ].join("\n"),
    );
    const { identities, problems } = resolveEntries(await readRegistryFile(path), template);
    expect(problems).toEqual([]);
    expect(identities.map((i) => [i.accountId, i.spiffeId.toString()])).toEqual([
      ["111122223333", "spiffe://example.org/b/a"],
      ["222233334444", "spiffe://example.org/b/a"],
    ]);
  });

  it.each([
    [
      "missing.json",
      undefined,
      RegistryReason.FILE_UNREADABLE,
      (p: string) => `: ENOENT: no such file or directory, open '${p}'`,
    ],
    ["bad.json", "{", RegistryReason.FILE_NOT_JSON, () => ": SyntaxError"],
    ["bad.yaml", "identities: [", RegistryReason.FILE_NOT_YAML, () => ": YAMLParseError"],
    ["shape.json", '{"accounts": []}', RegistryReason.FILE_SHAPE, () => ""],
  ])("rejects %s as a whole", async (name, content, reason, cause) => {
    const path =
      content === undefined ? join(tmpdir(), "does-not-exist", name) : await file(name, content);
    const err = await readRegistryFile(path).then(
      () => expect.unreachable("read"),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).reason).toBe(reason);
    expect((err as RegistryError).message).toBe(`${reason}: ${JSON.stringify(path)}${cause(path)}`);
  });
});
