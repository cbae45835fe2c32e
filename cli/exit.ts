/**
 * Exit codes of `lambda-svid`, the same for every command, so a script or an
 * alarm can tell "the fleet needs attention" from "the tool could not look".
 *
 * @example
 * process.exitCode = rows.some(needsAttention) ? ExitCode.ATTENTION : ExitCode.OK;
 */
export const ExitCode = {
  /** Done; every identity is healthy (status), the SVID verified (verify). */
  OK: 0,
  /**
   * Done, and something needs attention: an identity expired, missing or below
   * the alarm threshold (status), an SVID that failed a rule (verify), an
   * identity that failed to issue (issue), a sync that failed (sync).
   */
  ATTENTION: 1,
  /** A bad argument or option; nothing was done. */
  USAGE: 2,
  /** Could not read or reach what the command needs: configuration, AWS, a file. */
  UNREADABLE: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit-code section every command's `--help` ends with. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  done; all healthy
  1  done; something needs attention (expired, missing or below the alarm
     threshold, a failed rule, a failed identity or sync)
  2  bad argument or option; nothing was done
  3  could not read what the command needs (configuration, AWS, a file)`;
