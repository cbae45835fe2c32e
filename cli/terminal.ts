/**
 * Colour and progress for the command line. Colour only when the stream is a
 * terminal and `NO_COLOR` is unset or empty (https://no-color.org); a
 * progress bar only on a terminal, and only once a run has taken a few
 * seconds, so quick runs and pipes print nothing but their result.
 */
import { clearLine, cursorTo } from "node:readline";
import { createColors } from "picocolors";

export type Colors = ReturnType<typeof createColors>;

/**
 * Colour functions for `stream`: real ones on a terminal without `NO_COLOR`, identity functions otherwise.
 *
 * @example
 * const c = colorsFor(process.stdout, process.env);
 * console.log(c.red("expired"));
 */
export function colorsFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Colors {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  return createColors(stream.isTTY === true && !noColor);
}

/** A run shorter than this shows no bar. */
const SHOW_AFTER_MS = 2_000;
const REDRAW_MS = 100;
const WIDTH = 30;

/** A progress bar on one line of a terminal stream. */
export interface Progress {
  /** Sets how far the work is; draws at most every 100 ms once the run is past 2 s. */
  update(done: number, total: number): void;
  /** Removes the bar, so the result prints on a clean line. */
  finish(): void;
}

/**
 * A progress bar drawn on `stream` (normally stderr) with `readline`, or one
 * that draws nothing when the stream is not a terminal.
 *
 * @example
 * const bar = progressBar(process.stderr, "issuing");
 * await issuer.run(request, remainingMs, logger, (done, total) => bar.update(done, total));
 * bar.finish();
 */
export function progressBar(
  stream: NodeJS.WriteStream,
  label: string,
  clock: () => number = Date.now,
): Progress {
  if (!stream.isTTY) return { update() {}, finish() {} };
  const started = clock();
  let drawnAt = 0;
  let drawn = false;
  return {
    update(done, total) {
      const at = clock();
      if (at - started < SHOW_AFTER_MS || (at - drawnAt < REDRAW_MS && done < total)) return;
      drawnAt = at;
      drawn = true;
      const filled = total === 0 ? WIDTH : Math.round((done / total) * WIDTH);
      const seconds = Math.round((at - started) / 1000);
      cursorTo(stream, 0);
      clearLine(stream, 0);
      stream.write(
        `${label} [${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${done}/${total} ${seconds}s`,
      );
    },
    finish() {
      if (!drawn) return;
      cursorTo(stream, 0);
      clearLine(stream, 0);
    },
  };
}
