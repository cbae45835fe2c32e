/** Syncer harnesses for a test file: each one made is closed after the test that made it. */
import { afterEach } from "vitest";
import { syncerHarness } from "./syncer-harness.ts";

export type Harness = Awaited<ReturnType<typeof syncerHarness>>;

/**
 * Call once at a test file's top level; returns the factory its tests use.
 *
 * @example
 * const harness = syncerHarnesses();
 * it("syncs", async () => { const h = await harness({ optIn: "db-*" }); ... });
 */
export function syncerHarnesses(): (
  options?: Parameters<typeof syncerHarness>[0],
) => Promise<Harness> {
  const open: Harness[] = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
  });
  return async (options = {}) => {
    const h = await syncerHarness(options);
    open.push(h);
    return h;
  };
}
