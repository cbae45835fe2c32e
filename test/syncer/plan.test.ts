import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SyncRequest } from "../../functions/syncer/event.ts";
import type { KeywhizSecret, KeywhizSecretInfo } from "../../functions/syncer/keywhiz/model.ts";
import {
  contentKeySecretName,
  MAX_SECRET_BYTES,
  type MirroredSecret,
} from "../../functions/syncer/mirror.ts";
import { secretsManagerName, toTagValue } from "../../functions/syncer/names.ts";
import { OptIn } from "../../functions/syncer/opt-in.ts";
import {
  type Fetched,
  type PlanSettings,
  planSync,
  planWrites,
  type SyncPlan,
  type WritePlan,
} from "../../functions/syncer/plan.ts";
import { ContentKey } from "../../lib/secrets/index.ts";

const PREFIX = "keywhiz/";
const KEY_NAME = contentKeySecretName(PREFIX);
const key = new ContentKey(Buffer.alloc(ContentKey.BYTES, 7));
const hmac = (name: string, content: Buffer) => key.digest(name, content);
const RUN: SyncRequest = { force: false };

function settings(optIn: string, maxDeletePercent = 50): PlanSettings {
  return { optIn: OptIn.parse(optIn), prefix: PREFIX, maxDeletePercent };
}

function listed(name: string, checksum?: string, secretLength = 0): KeywhizSecretInfo {
  return { name, secretLength, checksum };
}

function mirror(name: string, tags: Partial<MirroredSecret> = {}): MirroredSecret {
  return {
    name,
    owned: true,
    checksum: undefined,
    contentHmac: undefined,
    purpose: undefined,
    currentVersionId: "v1",
    scheduledForDeletion: false,
    ...tags,
  };
}

function mirrored(...secrets: MirroredSecret[]): Map<string, MirroredSecret> {
  return new Map(secrets.map((s) => [s.name, s]));
}

function served(name: string, content: string | Buffer, checksum?: string): KeywhizSecret {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return { name, secretLength: bytes.length, checksum, content: bytes };
}

const big = Buffer.alloc(MAX_SECRET_BYTES + 1, 1);

describe("planSync: before fetching", () => {
  it("fetches opted-in secrets Keywhiz offers, ignores the rest and names opt-in entries that match nothing", () => {
    const plan = planSync(
      { listing: [listed("db"), listed("api-1"), listed("other")], mirrored: mirrored() },
      settings("db,api-*,missing,nothing-*"),
      RUN,
    );
    expect(plan).toEqual({
      notOffered: ["missing", "nothing-*"],
      skipped: [],
      unchanged: [],
      fetch: [
        { keywhizName: "db", secretName: "keywhiz/db", existing: undefined },
        { keywhizName: "api-1", secretName: "keywhiz/api-1", existing: undefined },
      ],
      delete: [],
    });
  });

  it.each<
    [string, Partial<MirroredSecret>, string | undefined, SyncRequest, "unchanged" | "fetch"]
  >([
    ["equal checksum tag", { checksum: "ck1" }, "ck1", RUN, "unchanged"],
    ["equal checksum tag, forced", { checksum: "ck1" }, "ck1", { force: true }, "fetch"],
    ["other checksum tag", { checksum: "ck0" }, "ck1", RUN, "fetch"],
    ["no checksum from the server", { checksum: "ck1" }, undefined, RUN, "fetch"],
    ["no checksum tag yet", {}, "ck1", RUN, "fetch"],
    [
      "equal checksum tag on a mirror scheduled for deletion",
      { checksum: "ck1", scheduledForDeletion: true },
      "ck1",
      RUN,
      "fetch",
    ],
    [
      "checksum compared as its tag value",
      { checksum: toTagValue("a,b") },
      "a,b",
      RUN,
      "unchanged",
    ],
  ])("%s: %s", (_name, tags, checksum, request, expected) => {
    const existing = mirror("keywhiz/db", tags);
    const plan = planSync(
      { listing: [listed("db", checksum)], mirrored: mirrored(existing) },
      settings("db"),
      request,
    );
    const outcome = { keywhizName: "db", secretName: "keywhiz/db" };
    if (expected === "unchanged") {
      expect(plan.unchanged).toEqual([outcome]);
      expect(plan.fetch).toEqual([]);
    } else {
      expect(plan.unchanged).toEqual([]);
      expect(plan.fetch).toEqual([{ ...outcome, existing }]);
    }
  });

  it.each<[string, KeywhizSecretInfo, MirroredSecret[], object]>([
    [
      "a mirror without the owner tag",
      listed("db", "ck1"),
      [mirror("keywhiz/db", { owned: false, checksum: "ck1" })],
      {
        keywhizName: "db",
        secretName: "keywhiz/db",
        reason: "a secret with this name exists without the syncer's owner tag",
      },
    ],
    [
      "a listed length over the limit",
      listed("db", undefined, MAX_SECRET_BYTES + 1),
      [],
      {
        keywhizName: "db",
        secretName: "keywhiz/db",
        reason: "content is 65537 bytes; Secrets Manager allows 65536",
      },
    ],
    [
      "a mapped name over 512 characters",
      listed("x".repeat(600)),
      [],
      {
        keywhizName: "x".repeat(600),
        reason: "mapped Secrets Manager name is longer than 512 characters",
      },
    ],
    [
      "the content key's name",
      listed(".lambda-svid-sync-key"),
      [mirror(KEY_NAME, { purpose: "content-key" })],
      {
        keywhizName: ".lambda-svid-sync-key",
        secretName: KEY_NAME,
        reason: "the mapped name is reserved for the syncer's content key",
      },
    ],
  ])("skips %s, and neither fetches nor deletes it", (_name, info, existing, skipped) => {
    const plan = planSync(
      { listing: [info, listed("c")], mirrored: mirrored(...existing, mirror("keywhiz/c")) },
      settings("*", 100),
      RUN,
    );
    expect(plan.skipped).toEqual([skipped]);
    expect(plan.fetch.map((t) => t.keywhizName)).toEqual(["c"]);
    expect(plan.delete).toEqual([]);
    expect(plan.deletionRefused).toBeUndefined();
  });

  it("skips every name of a collision, and keeps the mirror they share", () => {
    const plan = planSync(
      {
        listing: [listed("a b"), listed("a_x20_b"), listed("c")],
        mirrored: mirrored(mirror("keywhiz/a_x20_b"), mirror("keywhiz/c")),
      },
      settings("*", 100),
      RUN,
    );
    expect(plan.skipped).toEqual([
      {
        keywhizName: "a b",
        secretName: "keywhiz/a_x20_b",
        reason: 'maps to the same Secrets Manager name as "a_x20_b"',
      },
      {
        keywhizName: "a_x20_b",
        secretName: "keywhiz/a_x20_b",
        reason: 'maps to the same Secrets Manager name as "a b"',
      },
    ]);
    expect(plan.fetch.map((t) => t.secretName)).toEqual(["keywhiz/c"]);
    expect(plan.delete).toEqual([]);
  });

  it("deletes, sorted, owned mirrors no longer offered or opted in; never the key, another's, or one already scheduled", () => {
    const plan = planSync(
      {
        listing: [listed("db", "ck"), listed("dropped")],
        mirrored: mirrored(
          mirror("keywhiz/db", { checksum: "ck" }),
          mirror("keywhiz/zz-gone"),
          mirror("keywhiz/dropped"),
          mirror("keywhiz/hand-made", { owned: false }),
          mirror("keywhiz/old", { scheduledForDeletion: true }),
          mirror(KEY_NAME, { purpose: "content-key" }),
        ),
      },
      settings("db", 100),
      RUN,
    );
    expect(plan.unchanged).toEqual([{ keywhizName: "db", secretName: "keywhiz/db" }]);
    expect(plan.delete).toEqual(["keywhiz/dropped", "keywhiz/zz-gone"]);
    expect(plan.deletionRefused).toBeUndefined();
  });

  it.each<
    [string, KeywhizSecretInfo[], number, SyncRequest, SyncPlan["deletionRefused"], string[]]
  >([
    [
      "an empty listing",
      [],
      100,
      RUN,
      {
        reason:
          "syncer: deletion refused: Keywhiz listed no secrets while 2 mirrored secrets exist; a re-sync with force deletes them",
        secretNames: ["keywhiz/a", "keywhiz/b"],
      },
      [],
    ],
    ["an empty listing, forced", [], 0, { force: true }, undefined, ["keywhiz/a", "keywhiz/b"]],
    [
      "more than the share",
      [listed("other")],
      99,
      RUN,
      {
        reason:
          "syncer: deletion refused: the run would delete 2 of 2 mirrored secrets (100%), more than LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT=99; a re-sync with force deletes them",
        secretNames: ["keywhiz/a", "keywhiz/b"],
      },
      [],
    ],
    ["exactly the share", [listed("a")], 50, RUN, undefined, ["keywhiz/b"]],
    [
      "one over the share",
      [listed("a")],
      49,
      RUN,
      {
        reason:
          "syncer: deletion refused: the run would delete 1 of 2 mirrored secrets (50%), more than LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT=49; a re-sync with force deletes them",
        secretNames: ["keywhiz/b"],
      },
      [],
    ],
  ])("deletion on %s", (_name, listing, percent, request, refused, deleted) => {
    const plan = planSync(
      { listing, mirrored: mirrored(mirror("keywhiz/a"), mirror("keywhiz/b")) },
      settings("a", percent),
      request,
    );
    expect(plan.deletionRefused).toEqual(refused);
    expect(plan.delete).toEqual(deleted);
  });

  it("a request naming secrets plans only those, and never deletes or refuses", () => {
    const plan = planSync(
      {
        listing: [listed("db"), listed("api-1")],
        mirrored: mirrored(mirror("keywhiz/api-1"), mirror("keywhiz/gone")),
      },
      settings("db,api-*"),
      { force: true, secrets: ["db", "not-offered"] },
    );
    expect(plan.fetch.map((t) => t.keywhizName)).toEqual(["db"]);
    expect(plan.delete).toEqual([]);
    expect(plan.deletionRefused).toBeUndefined();
  });
});

describe("planWrites: from fetched content", () => {
  const target = (existing?: MirroredSecret) => ({
    keywhizName: "db",
    secretName: "keywhiz/db",
    existing,
  });
  const outcome = { keywhizName: "db", secretName: "keywhiz/db" };
  const same = hmac("keywhiz/db", Buffer.from("v1"));

  it.each<[string, MirroredSecret | undefined, KeywhizSecret, boolean, Partial<WritePlan>]>([
    [
      "new secret",
      undefined,
      served("db", "v1", "ck1"),
      false,
      {
        actions: [
          {
            kind: "write",
            ...outcome,
            existing: undefined,
            content: Buffer.from("v1"),
            checksum: "ck1",
            contentHmac: same,
          },
        ],
      },
    ],
    [
      "same content, same checksum",
      mirror("keywhiz/db", { contentHmac: same, checksum: "ck1" }),
      served("db", "v1", "ck1"),
      false,
      { unchanged: [outcome] },
    ],
    [
      "same content, no checksum",
      mirror("keywhiz/db", { contentHmac: same }),
      served("db", "v1"),
      false,
      { unchanged: [outcome] },
    ],
    [
      "same content, a new checksum",
      mirror("keywhiz/db", { contentHmac: same }),
      served("db", "v1", "ck1"),
      false,
      { actions: [{ kind: "retag", ...outcome, checksum: "ck1" }] },
    ],
    [
      "oversized content",
      undefined,
      served("db", big),
      false,
      {
        skipped: [{ ...outcome, reason: "content is 65537 bytes; Secrets Manager allows 65536" }],
      },
    ],
  ])("%s", (_name, existing, secret, force, expected) => {
    expect(
      planWrites([target(existing)], { secrets: [secret], problems: [] }, hmac, force),
    ).toEqual({ skipped: [], unchanged: [], failed: [], actions: [], ...expected });
  });

  it.each<[string, Partial<MirroredSecret>, boolean]>([
    ["changed content", { contentHmac: hmac("keywhiz/db", Buffer.from("v0")) }, false],
    ["same content, forced", { contentHmac: same }, true],
    [
      "same content, scheduled for deletion",
      { contentHmac: same, scheduledForDeletion: true },
      false,
    ],
  ])("writes on %s", (_name, tags, force) => {
    const existing = mirror("keywhiz/db", tags);
    const plan = planWrites(
      [target(existing)],
      { secrets: [served("db", "v1")], problems: [] },
      hmac,
      force,
    );
    expect(plan.actions).toEqual([
      {
        kind: "write",
        ...outcome,
        existing,
        content: Buffer.from("v1"),
        checksum: undefined,
        contentHmac: same,
      },
    ]);
  });

  it("a problem fails its secret alone, by name; problems and content for others are ignored", () => {
    const plan = planWrites(
      [target(), { keywhizName: "c", secretName: "keywhiz/c", existing: undefined }],
      {
        secrets: [served("c", "x"), served("unasked", "y")],
        problems: [
          { name: "db", reason: 'keywhiz: secret content is empty: "db"' },
          { name: "unasked", reason: "keywhiz: secret content is empty" },
        ],
      },
      hmac,
      false,
    );
    expect(plan.failed).toEqual([{ ...outcome, reason: 'keywhiz: secret content is empty: "db"' }]);
    expect(plan.actions.map((a) => a.secretName)).toEqual(["keywhiz/c"]);
  });
});

/** Keywhiz names chosen so that collisions, reserved and over-long names all occur. */
const NAMES = [
  "db",
  "api-1",
  "api-2",
  "a b",
  "a_x20_b",
  ".lambda-svid-sync-key",
  "x".repeat(600),
  "service-abc123",
  "c",
];
const OPT_IN = ["db", "api-*", "a b", "a_x20_b", ".lambda-svid-sync-key", "x*", "c", "*", "gone"];
/** Mirrors no Keywhiz name maps to: candidates for deletion. */
const STRAY = ["keywhiz/gone-1", "keywhiz/gone-2", "keywhiz/gone-3"];
const MIRROR_NAMES = [
  ...new Set([
    ...NAMES.map((n) => secretsManagerName(PREFIX, n)).filter((n) => n !== undefined),
    ...STRAY,
  ]),
];

interface World {
  /** What Keywhiz holds: content, checksum, and whether it serves the secret broken. */
  keywhiz: Array<{ name: string; content: Buffer; checksum?: string; broken: boolean }>;
  realLengths: boolean;
  mirrored: Map<string, MirroredSecret>;
  settings: PlanSettings;
  request: SyncRequest;
}

const CONTENTS: Record<string, Buffer> = { one: Buffer.from("one"), two: Buffer.from("two"), big };

const keywhizSecret = fc.record({
  content: fc.constantFrom("one", "two", "big"),
  checksum: fc.boolean(),
  broken: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, fc.constant(true)),
});

const mirrorTags = fc.record({
  owned: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
  checksum: fc.constantFrom<"none" | "current" | "stale">("none", "current", "stale"),
  content: fc.constantFrom<"none" | "current" | "stale">("none", "current", "stale"),
  scheduledForDeletion: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, fc.constant(true)),
});

/**
 * A Keywhiz server, the mirrored secrets (their tags current, stale or absent
 * with respect to that server), the content key's secret, settings and a
 * request. `ownedKey` false puts a key secret another made under the prefix.
 */
function world(options: { ownedKey: boolean } = { ownedKey: true }): fc.Arbitrary<World> {
  return fc
    .record({
      keywhiz: fc.dictionary(fc.constantFrom(...NAMES), keywhizSecret, { maxKeys: NAMES.length }),
      realLengths: fc.boolean(),
      mirrors: fc.dictionary(fc.constantFrom(...MIRROR_NAMES), mirrorTags, {
        maxKeys: MIRROR_NAMES.length,
      }),
      key: fc.constantFrom("absent", "present", "scheduled"),
      optIn: fc.uniqueArray(fc.constantFrom(...OPT_IN), { minLength: 1 }),
      maxDeletePercent: fc.integer({ min: 0, max: 100 }),
      force: fc.boolean(),
      narrowed: fc.option(fc.subarray([...NAMES, "not-offered"], { minLength: 1 }), {
        nil: undefined,
      }),
    })
    .map((w) => {
      const keywhiz = Object.entries(w.keywhiz).map(([name, s]) => ({
        name,
        content: CONTENTS[s.content] as Buffer,
        ...(s.checksum ? { checksum: `ck:${s.content}` } : {}),
        broken: s.broken,
      }));
      const byMirror = new Map(
        keywhiz.map((s) => [secretsManagerName(PREFIX, s.name), s] as const),
      );
      const mirroredMap = new Map<string, MirroredSecret>();
      for (const [name, t] of Object.entries(w.mirrors)) {
        const now = byMirror.get(name);
        mirroredMap.set(
          name,
          mirror(name, {
            owned: t.owned,
            checksum:
              t.checksum === "none"
                ? undefined
                : t.checksum === "current" && now?.checksum !== undefined
                  ? toTagValue(now.checksum)
                  : "ck:stale",
            contentHmac:
              t.content === "none"
                ? undefined
                : t.content === "current" && now !== undefined
                  ? hmac(name, now.content)
                  : "stale",
            scheduledForDeletion: t.scheduledForDeletion,
          }),
        );
      }
      if (w.key !== "absent" || !options.ownedKey) {
        mirroredMap.set(
          KEY_NAME,
          mirror(KEY_NAME, {
            owned: options.ownedKey,
            purpose: "content-key",
            scheduledForDeletion: w.key === "scheduled",
          }),
        );
      }
      return {
        keywhiz,
        realLengths: w.realLengths,
        mirrored: mirroredMap,
        settings: settings(w.optIn.join(","), w.maxDeletePercent),
        request: {
          force: w.force,
          ...(w.narrowed === undefined ? {} : { secrets: w.narrowed }),
        },
      };
    });
}

function listingOf(w: World): KeywhizSecretInfo[] {
  return w.keywhiz.map((s) => ({
    name: s.name,
    secretLength: w.realLengths ? s.content.length : 0,
    checksum: s.checksum,
  }));
}

/** What Keywhiz answers to the batch fetch of `names`: broken secrets come back as problems. */
function fetchFrom(w: World, names: readonly string[]): Fetched {
  const asked = w.keywhiz.filter((s) => names.includes(s.name));
  return {
    secrets: asked
      .filter((s) => !s.broken)
      .map((s) => ({
        name: s.name,
        secretLength: s.content.length,
        checksum: s.checksum,
        content: s.content,
      })),
    problems: asked
      .filter((s) => s.broken)
      .map((s) => ({ name: s.name, reason: `keywhiz: secret content is empty: "${s.name}"` })),
  };
}

/** One run's decisions, as run.ts takes them: plan, fetch what it names, decide the writes. */
function decide(w: World, mirroredNow: ReadonlyMap<string, MirroredSecret>, request: SyncRequest) {
  const plan = planSync({ listing: listingOf(w), mirrored: mirroredNow }, w.settings, request);
  const writes = planWrites(
    plan.fetch,
    fetchFrom(
      w,
      plan.fetch.map((t) => t.keywhizName),
    ),
    hmac,
    request.force,
  );
  return { plan, writes };
}

/**
 * The mirrored state after the run performed `plan` and `writes`, as Secrets
 * Manager would list it: a write leaves an owned, current secret with the new
 * digest (a checksum tag it does not replace stays), a retag replaces the
 * checksum tag, a deletion schedules the secret, and the first fetch creates
 * the content key's secret.
 */
function apply(
  before: ReadonlyMap<string, MirroredSecret>,
  plan: SyncPlan,
  writes: WritePlan,
): Map<string, MirroredSecret> {
  const after = new Map(before);
  for (const action of writes.actions) {
    const was = after.get(action.secretName);
    if (action.kind === "retag") {
      after.set(action.secretName, {
        ...(was as MirroredSecret),
        checksum: toTagValue(action.checksum),
      });
    } else {
      after.set(
        action.secretName,
        mirror(action.secretName, {
          contentHmac: action.contentHmac,
          checksum: action.checksum === undefined ? was?.checksum : toTagValue(action.checksum),
          currentVersionId: "v2",
        }),
      );
    }
  }
  for (const name of plan.delete) {
    after.set(name, { ...(after.get(name) as MirroredSecret), scheduledForDeletion: true });
  }
  if (plan.fetch.length > 0) {
    const keySecret = after.get(KEY_NAME);
    after.set(
      KEY_NAME,
      keySecret === undefined
        ? mirror(KEY_NAME, { purpose: "content-key" })
        : { ...keySecret, scheduledForDeletion: false },
    );
  }
  return after;
}

const liveMirrors = (m: ReadonlyMap<string, MirroredSecret>) =>
  [...m.values()].filter((s) => s.name !== KEY_NAME && s.owned && !s.scheduledForDeletion);

const touched = ({ plan, writes }: { plan: SyncPlan; writes: WritePlan }) => [
  ...writes.actions.map((a) => a.secretName),
  ...plan.delete,
];

const RUNS = { numRuns: 1000 };

describe("plan properties", () => {
  it("never deletes on an empty listing while mirrored secrets exist, unless forced", () => {
    fc.assert(
      fc.property(world(), (w) => {
        const plan = planSync({ listing: [], mirrored: w.mirrored }, w.settings, w.request);
        if (!w.request.force) expect(plan.delete).toEqual([]);
        if (
          !w.request.force &&
          w.request.secrets === undefined &&
          liveMirrors(w.mirrored).length > 0
        )
          expect(plan.deletionRefused?.reason).toMatch(
            /^syncer: deletion refused: Keywhiz listed no secrets/,
          );
      }),
      RUNS,
    );
  });

  it("never deletes more than the configured share of the live mirrors, unless forced", () => {
    fc.assert(
      fc.property(world(), (w) => {
        const { plan } = decide(w, w.mirrored, w.request);
        if (w.request.force) return;
        expect(plan.delete.length * 100).toBeLessThanOrEqual(
          w.settings.maxDeletePercent * liveMirrors(w.mirrored).length,
        );
        if (plan.deletionRefused !== undefined) expect(plan.delete).toEqual([]);
      }),
      RUNS,
    );
  });

  it("never writes, retags or deletes a secret without the owner tag, the content key or outside the prefix", () => {
    fc.assert(
      fc.property(
        fc.boolean().chain((ownedKey) => world({ ownedKey })),
        (w) => {
          const decided = decide(w, w.mirrored, w.request);
          for (const name of touched(decided)) {
            expect(name.startsWith(PREFIX)).toBe(true);
            expect(name).not.toBe(KEY_NAME);
            expect(w.mirrored.get(name)?.owned ?? true).toBe(true);
          }
          for (const name of decided.plan.delete) expect(w.mirrored.get(name)?.owned).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it("a request naming secrets never deletes, and plans nothing it did not name", () => {
    fc.assert(
      fc.property(world(), (w) => {
        const secrets = w.request.secrets ?? ["db"];
        const { plan, writes } = decide(w, w.mirrored, { ...w.request, secrets });
        expect(plan.delete).toEqual([]);
        expect(plan.deletionRefused).toBeUndefined();
        for (const name of [
          ...plan.fetch.map((t) => t.keywhizName),
          ...plan.unchanged.map((o) => o.keywhizName),
          ...writes.actions.map((a) => a.keywhizName),
        ])
          expect(secrets).toContain(name);
      }),
      RUNS,
    );
  });

  it("decides every opted-in, offered secret exactly once", () => {
    fc.assert(
      fc.property(world(), (w) => {
        const request = { force: w.request.force };
        const { plan, writes } = decide(w, w.mirrored, request);
        const optedIn = w.keywhiz
          .filter((s) => w.settings.optIn.matches(s.name))
          .map((s) => s.name);
        const decided = [
          ...plan.skipped,
          ...plan.unchanged,
          ...writes.skipped,
          ...writes.unchanged,
          ...writes.failed,
          ...writes.actions,
        ].map((o) => o.keywhizName);
        expect(decided.sort()).toEqual(optedIn.sort());
      }),
      RUNS,
    );
  });

  it("after performing a plan, every secret it fetched and did not skip or fail is mirrored current", () => {
    fc.assert(
      fc.property(world(), (w) => {
        const { plan, writes } = decide(w, w.mirrored, w.request);
        const after = apply(w.mirrored, plan, writes);
        const notDone = new Set([...writes.skipped, ...writes.failed].map((o) => o.keywhizName));
        for (const target of plan.fetch) {
          if (notDone.has(target.keywhizName)) continue;
          const content = w.keywhiz.find((s) => s.name === target.keywhizName)?.content as Buffer;
          expect(after.get(target.secretName)).toMatchObject({
            owned: true,
            scheduledForDeletion: false,
            contentHmac: hmac(target.secretName, content),
          });
        }
      }),
      RUNS,
    );
  });

  it("a re-plan after performing a plan writes and retags nothing, and deletes nothing unless deletion was held back", () => {
    fc.assert(
      fc.property(world(), (w) => {
        const first = decide(w, w.mirrored, w.request);
        const after = apply(w.mirrored, first.plan, first.writes);
        const again = decide(w, after, { ...w.request, force: false });
        expect(again.writes.actions).toEqual([]);
        // Held back by the share, the same deletions can pass once this run's writes add live mirrors.
        const heldBack = first.plan.deletionRefused?.secretNames ?? [];
        for (const name of again.plan.delete) expect(heldBack).toContain(name);
      }),
      RUNS,
    );
  });

  it("a re-plan after a plan that held no deletion back is empty", () => {
    fc.assert(
      fc.property(world(), (w) => {
        const first = decide(w, w.mirrored, w.request);
        fc.pre(first.plan.deletionRefused === undefined);
        const after = apply(w.mirrored, first.plan, first.writes);
        const again = decide(w, after, { ...w.request, force: false });
        expect(touched(again)).toEqual([]);
        expect(again.plan.deletionRefused).toBeUndefined();
      }),
      RUNS,
    );
  });
});
