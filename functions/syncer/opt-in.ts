/**
 * The identity's opt-in list: exact Keywhiz secret names and simple globs
 * (`*` for any run of characters, `?` for one). Only secrets it matches are
 * mirrored; everything else Keywhiz would serve is ignored.
 */
import { SyncerError, SyncerReason } from "./errors.ts";

export class OptIn {
  private readonly exact = new Set<string>();
  private readonly globs: Array<{ text: string; pattern: RegExp }> = [];

  /** @throws {SyncerError} `EMPTY_OPT_IN` when an entry is empty. */
  constructor(entries: readonly string[]) {
    for (const [i, entry] of entries.entries()) {
      if (entry === "") throw new SyncerError(SyncerReason.EMPTY_OPT_IN, `entry ${i}`);
      if (/[*?]/.test(entry)) this.globs.push({ text: entry, pattern: globToRegExp(entry) });
      else this.exact.add(entry);
    }
  }

  /** Parses the comma-separated form of `LAMBDA_SVID_SYNC_OPT_IN`; blanks around entries are ignored. */
  static parse(text: string): OptIn {
    return new OptIn(
      text
        .split(",")
        .map((e) => e.trim())
        .filter((e) => e !== ""),
    );
  }

  matches(name: string): boolean {
    return this.exact.has(name) || this.globs.some((g) => g.pattern.test(name));
  }

  /** Entries that match none of `offered`: exact names Keywhiz does not serve, globs that select nothing. */
  unmatched(offered: readonly string[]): string[] {
    const missingExact = [...this.exact].filter((name) => !offered.includes(name));
    const emptyGlobs = this.globs
      .filter((g) => !offered.some((name) => g.pattern.test(name)))
      .map((g) => g.text);
    return [...missingExact, ...emptyGlobs];
  }

  get size(): number {
    return this.exact.size + this.globs.length;
  }
}

function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.+^${}()|[\]\\/-]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "s");
}
