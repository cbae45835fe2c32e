/**
 * `lambda-svid status`: every registered identity's SPIFFE ID, account,
 * not-after, time left and last outcome, least time left first; `--json` for
 * machines. Exit 1 when any identity is expired, has no SVID, or is below the
 * alarm threshold.
 */
import { Command } from "commander";
import { formatDuration } from "../../lib/config/index.ts";
import { EXIT_CODES_HELP, ExitCode } from "../exit.ts";
import {
  byTimeLeft,
  type Fleet,
  type FleetRow,
  type FleetThresholds,
  type Health,
  healthOf,
  loadFleetConfig,
  msLeft,
  needingAttention,
  readFleet,
  readThresholds,
} from "../fleet/index.ts";
import { type Colors, colorsFor } from "../terminal.ts";
import { guarded, type Io } from "./io.ts";

const MINUTE = 60_000;

/**
 * Time left as the table shows it: whole minutes (seconds under one), `expired 2h5m ago`, or `-`.
 *
 * @example
 * timeLeftText(5 * 3_600_000 + 61_000); // "5h1m"
 */
export function timeLeftText(ms: number | undefined): string {
  if (ms === undefined) return "-";
  const rounded =
    Math.abs(ms) < MINUTE ? Math.trunc(ms / 1000) * 1000 : Math.trunc(ms / MINUTE) * MINUTE;
  return ms <= 0 ? `expired ${formatDuration(-rounded)} ago` : formatDuration(rounded);
}

/**
 * The status table as plain text with colours from `c` (identity functions off a terminal).
 *
 * @example
 * io.out.write(formatStatus(fleet, thresholds, colorsFor(io.out, io.env)));
 */
export function formatStatus(fleet: Fleet, thresholds: FleetThresholds, c: Colors): string {
  const now = new Date(thresholds.now);
  const rows = byTimeLeft(fleet.rows, now);
  const paint: Record<Health, (s: string) => string> = {
    missing: c.red,
    expired: c.red,
    alarm: c.red,
    renew: c.yellow,
    ok: c.green,
  };
  const cells = rows.map((row) => [
    row.spiffeId,
    row.accountId,
    row.notAfter ?? "-",
    timeLeftText(msLeft(row, now)),
    outcomeText(row),
  ]);
  const header = ["SPIFFE ID", "ACCOUNT", "NOT AFTER", "LEFT", "OUTCOME"];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...cells.map((r) => (r[i] as string).length)),
  );
  const line = (r: string[]) =>
    r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] as number))).join("  ");
  const attention = needingAttention(fleet.rows, thresholds).length;
  return [
    c.dim(
      `${fleet.rows.length} identities from ${fleet.source}; alarm below ${formatDuration(thresholds.alarmBelowMs)}, renewal ${formatDuration(thresholds.renewBeforeMs)} before not-after; at ${thresholds.now}`,
    ),
    c.bold(line(header)),
    ...cells.map((r, i) => {
      const row = rows[i] as FleetRow;
      const text = line(r);
      return row.outcome === "failed" ? c.red(text) : paint[healthOf(row, thresholds)](text);
    }),
    ...fleet.invalid.map((p) => c.yellow(`invalid registry entry: ${p.origin}: ${p.reason}`)),
    attention > 0
      ? c.red(
          `${attention} of ${fleet.rows.length} need attention (expired, missing or below the alarm threshold)`,
        )
      : c.green(`all ${fleet.rows.length} healthy`),
  ].join("\n");
}

function outcomeText(row: FleetRow): string {
  return row.failure ? `failed (${row.failure.stage}: ${row.failure.reason})` : row.outcome;
}

/**
 * The status as JSON: the thresholds, the source, and each row with its
 * seconds left and health, least time left first.
 *
 * @example
 * io.out.write(`${JSON.stringify(statusJson(fleet, thresholds), null, 2)}\n`);
 */
export function statusJson(fleet: Fleet, thresholds: FleetThresholds) {
  const now = new Date(thresholds.now);
  return {
    now: thresholds.now,
    source: fleet.source,
    thresholds: { alarmBelowMs: thresholds.alarmBelowMs, renewBeforeMs: thresholds.renewBeforeMs },
    attention: needingAttention(fleet.rows, thresholds).length,
    identities: byTimeLeft(fleet.rows, now).map((row) => {
      const left = msLeft(row, now);
      return {
        ...row,
        secondsLeft: left === undefined ? null : Math.floor(left / 1000),
        health: healthOf(row, thresholds),
      };
    }),
    invalid: fleet.invalid,
  };
}

/**
 * The `status` command.
 *
 * @example
 * program.addCommand(statusCommand(io));
 */
export function statusCommand(io: Io): Command {
  return new Command("status")
    .summary("every identity: SPIFFE ID, account, not-after, time left, outcome")
    .description(
      "Show every registered identity: SPIFFE ID, account, not-after, time left and last outcome, least time left first. Reads the issuer's state table (LAMBDA_SVID_STATE_TABLE) or, without one, each account's SVID secret metadata through the writer role; never key material.",
    )
    .option("--json", "print JSON instead of the table")
    .addHelpText(
      "after",
      `
Examples:
  $ lambda-svid status
  $ lambda-svid status --json | jq '.identities[] | select(.health != "ok")'
  $ LAMBDA_SVID_ALARM_BELOW=12h lambda-svid status
  $ lambda-svid --local status          # the emulator npm start uses

Configuration: the AWS SDK's standard settings and, of the issuer's variables,
only what the source needs: LAMBDA_SVID_TRUST_DOMAIN, the registry, tag and ID
template variables and the validity, then LAMBDA_SVID_STATE_TABLE or (without
it) LAMBDA_SVID_EXTERNAL_ID, LAMBDA_SVID_WRITER_ROLE and the secret name; never
the CA. LAMBDA_SVID_ALARM_BELOW (default 6h, as the deployment's alarm) is the
threshold below which an identity needs attention.
${EXIT_CODES_HELP}`,
    )
    .action((opts: { json?: boolean }) =>
      guarded(io, "status", async () => {
        const config = loadFleetConfig(io.env);
        const thresholds = readThresholds(io.env, config, io.now());
        const fleet = await readFleet(config);
        io.out.write(
          opts.json
            ? `${JSON.stringify(statusJson(fleet, thresholds), null, 2)}\n`
            : `${formatStatus(fleet, thresholds, colorsFor(io.out, io.env))}\n`,
        );
        io.exit(
          needingAttention(fleet.rows, thresholds).length > 0 ? ExitCode.ATTENTION : ExitCode.OK,
        );
      }),
    );
}
