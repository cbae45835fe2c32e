/**
 * Every relative link in README.md and docs/ names a file of the repository,
 * and a `#fragment` into a Markdown file names one of its headings (as GitHub
 * makes heading anchors), so the documentation cannot point at something moved.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

function markdownFiles(): string[] {
  const docs = readdirSync(join(REPO, "docs"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".md"))
    .map((f) => join(REPO, "docs", f));
  return [join(REPO, "README.md"), ...docs];
}

/** The text outside fenced code blocks, where a bracket is code, not a link. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
}

/** Inline links and images: `[text](target)` and `![alt](target "title")`. */
function linksOf(text: string): string[] {
  return [...prose(text).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(
    (m) => m[1] as string,
  );
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = (heading as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

function broken(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const link of linksOf(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue;
    const [path = "", fragment] = link.split("#", 2);
    const target = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
    if (!existsSync(target)) {
      out.push(`${link}: no such file`);
      continue;
    }
    if (fragment !== undefined && target.endsWith(".md") && statSync(target).isFile()) {
      if (!anchorsOf(readFileSync(target, "utf8")).has(fragment))
        out.push(`${link}: no heading #${fragment} in ${relative(REPO, target)}`);
    }
  }
  return out;
}

describe("links in the documentation", () => {
  it("finds the documentation pages", () => {
    const pages = markdownFiles().map((f) => relative(REPO, f));
    expect(pages).toContain("docs/configuration.md");
    expect(pages).toContain("docs/architecture.md");
  });

  it.each(markdownFiles().map((f) => [relative(REPO, f), f]))(
    "every relative link in %s resolves",
    (_name, file) => {
      expect(broken(file)).toEqual([]);
    },
  );

  it("reads links and GitHub anchors as GitHub does", () => {
    expect(
      linksOf('see [a](docs/a.md#x), ![i](img.png "t") and\n```\n[no](code.md)\n```\n'),
    ).toEqual(["docs/a.md#x", "img.png"]);
    expect([...anchorsOf("# The syncer (`functions/syncer`)\n## A, b\n## A, b\n")]).toEqual([
      "the-syncer-functionssyncer",
      "a-b",
      "a-b-1",
    ]);
  });
});

describe("docs/onboarding-tenant.md", () => {
  it("shows the tenant module's example exactly as it is", () => {
    const example = readFileSync(
      join(REPO, "infra/terraform/modules/tenant/examples/basic/main.tf"),
      "utf8",
    );
    const page = readFileSync(join(REPO, "docs/onboarding-tenant.md"), "utf8");
    const shown = /```hcl\n([\s\S]*?)```/.exec(page)?.[1];
    expect(shown).toBe(example);
  });
});
