/**
 * The model's own CPU, so that a simulation can tell the issuer's CPU from
 * the CPU of the stand-in for AWS it runs against. JS runs one piece of
 * synchronous code at a time on this thread, so the process CPU that passes
 * between two reads taken at the start and end of a synchronous stretch is
 * that stretch's own (the garbage collection it triggers included); the
 * stretches the model runs are measured that way and added up. What is not
 * in a stretch (the SDK, the issuer, timers firing) stays outside. The process
 * CPU counts every thread: background work (V8's concurrent marking, libuv's
 * pool) that overlaps a stretch is counted in it, whoever caused it; the model
 * and the issuer's minting and signing start none of it themselves.
 */

/**
 * Adds up the process CPU (user + sys) of the synchronous stretches it is given.
 *
 * @example
 * const cpu = new CpuMeter();
 * const answer = cpu.measure(() => JSON.stringify(output));
 * console.log(`${cpu.ms.toFixed(2)} ms`);
 */
export class CpuMeter {
  /** Process CPU (ms) spent inside {@link measure}, nested stretches counted once. */
  ms = 0;
  private depth = 0;

  /** Runs `fn` and counts its CPU; inside another measured stretch it is already counted. */
  measure<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.depth++;
    const from = process.cpuUsage();
    try {
      return fn();
    } finally {
      const used = process.cpuUsage(from);
      this.ms += (used.user + used.system) / 1000;
      this.depth--;
    }
  }
}
