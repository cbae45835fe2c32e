/**
 * The import arrows between the top-level parts, as the folders' header
 * comments and the README's layout table state them: read from the sources,
 * so a new import that crosses a boundary fails here rather than in review.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const IMPORT = /(?:from|import)\s*\(?\s*"([^"]+)"/g;

function sources(folder: string): string[] {
  return readdirSync(join(REPO, folder), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|cjs|mjs)$/.test(e.name))
    .map((e) => relative(REPO, join(e.parentPath, e.name)));
}

/** Every import of `file`: relative ones as repository paths, packages as they are written. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(REPO, file), "utf8");
  return [...text.matchAll(IMPORT)].map(([, spec]) =>
    (spec as string).startsWith(".")
      ? relative(REPO, resolve(dirname(join(REPO, file)), spec as string))
      : (spec as string),
  );
}

/** `file -> import` for each import of the files under `folder` that `forbidden` matches. */
function crossings(folder: string, forbidden: (target: string) => boolean): string[] {
  return sources(folder).flatMap((file) =>
    importsOf(file)
      .filter(forbidden)
      .map((target) => `${file} -> ${target}`),
  );
}

const under =
  (...folders: string[]) =>
  (target: string) =>
    folders.some((f) => target === f || target.startsWith(`${f}/`));

describe("import arrows between the parts", () => {
  it.each(["cli", "scripts", "tools", "functions", "layers", "infra"])(
    "%s imports nothing from test/",
    (folder) => {
      expect(crossings(folder, under("test"))).toEqual([]);
    },
  );

  it("the emulator harness imports nothing of the project outside tools/", () => {
    expect(
      crossings(
        "tools",
        (t) => t.startsWith(".") || under("cli", "functions", "layers", "scripts", "infra")(t),
      ),
    ).toEqual([]);
  });

  it("lib/ knows no product part", () => {
    expect(
      crossings("lib", under("functions", "layers", "cli", "tools", "scripts", "infra", "test")),
    ).toEqual([]);
  });

  it("the parts import the shared plumbing only through lib/*/index.ts", () => {
    const pastIndex = (t: string) => under("lib")(t) && !/^lib\/[^/]+\/index\.ts$/.test(t);
    expect(
      ["functions", "layers", "cli", "infra"].flatMap((folder) => crossings(folder, pastIndex)),
    ).toEqual([]);
  });

  it("ingress/ imports layers/spiffe, layers/svid-secret and lib/*/index.ts, nothing else of the project", () => {
    const pastIndex = (t: string) => under("lib")(t) && !/^lib\/[^/]+\/index\.ts$/.test(t);
    expect(
      crossings(
        "ingress",
        (t) =>
          pastIndex(t) || under("functions", "cli", "tools", "scripts", "test", "layers/agent")(t),
      ),
    ).toEqual([]);
  });

  it.each([
    ["issuer", "syncer"],
    ["syncer", "issuer"],
  ])("functions/%s imports nothing from the agent, the CLI or functions/%s", (own, other) => {
    expect(
      crossings(`functions/${own}`, under("layers/agent", "cli", "tools", `functions/${other}`)),
    ).toEqual([]);
  });

  it("the SPIFFE library knows no product part and no AWS SDK", () => {
    expect(
      crossings(
        "layers/spiffe",
        (t) =>
          t.startsWith("@aws-sdk/") ||
          (!under("layers/spiffe")(t) && /^[a-z]+\//.test(t) && !t.startsWith("@")),
      ),
    ).toEqual([]);
  });

  it("the owner tag key is spelled once, in lib/secrets", () => {
    const spelled = ["functions", "layers", "lib", "cli"].flatMap((folder) =>
      sources(folder).filter((f) =>
        readFileSync(join(REPO, f), "utf8").includes('"lambda-svid:owner"'),
      ),
    );
    expect(spelled).toEqual(["lib/secrets/owned.ts"]);
  });

  it.each(["functions", "layers", "lib"])(
    "product code in %s never imports the emulator harness",
    (folder) => {
      expect(crossings(folder, under("tools"))).toEqual([]);
    },
  );
});
