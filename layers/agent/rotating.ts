/**
 * A connection pool tied to the SVID it presents: rebuilt when the SVID
 * rotates, so new connections show the new certificate, while connections
 * already in use on the old pool finish undisturbed.
 */
import type { HeldSvid, SvidSource } from "../svid-secret/index.ts";

/** Something that hands out the pool for the current SVID. */
export interface Rotating<T> {
  /**
   * The pool for the current SVID, by the source's freshness rules.
   *
   * @throws {SvidSourceError} when there is no unexpired SVID.
   */
  get(): Promise<T>;
  /** Retires the current pool; the next `get` builds a new one. */
  close(): void;
}

/**
 * @param build makes a pool that presents `held.svid`.
 * @param retire lets a replaced pool's busy connections finish, then closes them.
 */
export function rotating<T>(
  source: SvidSource,
  build: (held: HeldSvid) => T,
  retire: (old: T) => void,
): Rotating<T> {
  let current: { generation: number; pool: T } | undefined;
  return {
    async get() {
      const held = await source.get();
      if (current?.generation !== held.generation) {
        const old = current;
        current = { generation: held.generation, pool: build(held) };
        if (old !== undefined) retire(old.pool);
      }
      return current.pool;
    },
    close() {
      if (current !== undefined) retire(current.pool);
      current = undefined;
    },
  };
}
