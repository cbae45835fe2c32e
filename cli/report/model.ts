/**
 * What the HTML report draws, computed from the fleet rows and thresholds
 * before any markup: each identity's state and place on the time axis, the
 * axis itself with its ticks, the sort order and the summary counts.
 */
import type { FleetRow, FleetThresholds } from "../fleet/row.ts";
import { ReportError, ReportReason } from "./errors.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * One state per identity, most urgent first: the report colours a row by it
 * and its summary counts add up to the number of identities. A failed renewal
 * outranks the age of the SVID it left behind; a pending renewal outranks
 * "due" but not an expiry or the alarm, which are still true while it waits.
 *
 * @example
 * for (const state of ROW_STATES) console.log(state, model.counts[state]);
 */
export const ROW_STATES = [
  "failed",
  "missing",
  "expired",
  "alarm",
  "pending",
  "due",
  "ok",
] as const;
export type RowState = (typeof ROW_STATES)[number];

/**
 * A row's state as a person reads it in the summary, the badge and the state filter.
 *
 * @example
 * STATE_LABELS.alarm; // "Alarm band"
 */
export const STATE_LABELS: Readonly<Record<RowState, string>> = {
  failed: "Failed",
  missing: "Missing",
  expired: "Expired",
  alarm: "Alarm band",
  pending: "Pending",
  due: "Renewal due",
  ok: "Healthy",
};

/** An identity placed on the report's axis. */
export interface PlacedRow {
  row: FleetRow;
  state: RowState;
  /** Epoch ms of notAfter; absent when no SVID is known. */
  notAfterMs?: number;
  /** notAfter minus now; negative once expired. */
  leftMs?: number;
  /** The validity window as percentages of the axis, clipped to it; absent without a notAfter. */
  bar?: { from: number; to: number; cutStart: boolean; cutEnd: boolean };
}

/** The time axis: what its edges are and where its labelled ticks fall (percent of its width). */
export interface Axis {
  startMs: number;
  endMs: number;
  ticks: { at: number; label: string; day: boolean }[];
}

/** Everything the page shows, in the order it shows it. */
export interface ReportModel {
  nowMs: number;
  thresholds: FleetThresholds;
  axis: Axis;
  /** Positions (percent of the axis) of now, of the renewal threshold and of the alarm band's far edge. */
  marks: { now: number; renew: number; alarm: number };
  /** Sorted by time left, identities with no SVID first. */
  rows: PlacedRow[];
  counts: Record<RowState, number>;
}

/**
 * Validates the input, decides each identity's state and lays out the axis.
 * The axis spans every validity window, but no further than twice the
 * fleet's median lifetime either side of now, so one long-lived certificate or
 * one expired weeks ago does not squeeze every other bar into a sliver; bars
 * past the edge are drawn cut.
 *
 * @example
 * const model = buildReportModel(rows, {
 *   now: "2026-11-24T12:00:00.000Z",
 *   alarmBelowMs: 6 * 3_600_000,
 *   renewBeforeMs: 8 * 3_600_000,
 * });
 * model.rows[0]?.state; // "missing", "failed", ... the most urgent first
 */
export function buildReportModel(
  rows: readonly FleetRow[],
  thresholds: FleetThresholds,
): ReportModel {
  const nowMs = instant(thresholds.now);
  if (nowMs === undefined) {
    throw new ReportError(ReportReason.BAD_NOW, `got ${JSON.stringify(thresholds.now)}`);
  }
  for (const name of ["alarmBelowMs", "renewBeforeMs"] as const) {
    const value = thresholds[name];
    if (!Number.isFinite(value) || value < 0) {
      throw new ReportError(ReportReason.BAD_THRESHOLD, `${name} is ${value}`);
    }
  }

  const timed = rows.map((row) => {
    const notBeforeMs = optionalInstant(row, "notBefore");
    const notAfterMs = optionalInstant(row, "notAfter");
    return { row, notBeforeMs, notAfterMs };
  });

  const axis = layAxis(timed, nowMs, Math.max(thresholds.renewBeforeMs, thresholds.alarmBelowMs));
  const pct = (t: number) => ((t - axis.startMs) / (axis.endMs - axis.startMs)) * 100;
  const clip = (p: number) => Math.min(100, Math.max(0, p));

  const counts = Object.fromEntries(ROW_STATES.map((s) => [s, 0])) as Record<RowState, number>;
  const placed: PlacedRow[] = timed.map(({ row, notBeforeMs, notAfterMs }) => {
    const state = stateOf(row, notAfterMs, nowMs, thresholds);
    counts[state] += 1;
    if (notAfterMs === undefined) return { row, state };
    const from = pct(notBeforeMs ?? axis.startMs);
    const to = pct(notAfterMs);
    return {
      row,
      state,
      notAfterMs,
      leftMs: notAfterMs - nowMs,
      bar: { from: clip(from), to: clip(to), cutStart: from < 0, cutEnd: to > 100 },
    };
  });
  placed.sort(byTimeLeft);

  return {
    nowMs,
    thresholds,
    axis,
    marks: {
      now: pct(nowMs),
      renew: clip(pct(nowMs + thresholds.renewBeforeMs)),
      alarm: clip(pct(nowMs + thresholds.alarmBelowMs)),
    },
    rows: placed,
    counts,
  };
}

function stateOf(
  row: FleetRow,
  notAfterMs: number | undefined,
  nowMs: number,
  thresholds: FleetThresholds,
): RowState {
  if (row.outcome === "failed") return "failed";
  if (row.outcome === "missing") return "missing";
  if (notAfterMs === undefined) return row.outcome === "pending" ? "pending" : "missing";
  const left = notAfterMs - nowMs;
  if (left <= 0) return "expired";
  if (left < thresholds.alarmBelowMs) return "alarm";
  if (row.outcome === "pending") return "pending";
  // The planner renews at `left <= renewBefore`; the report agrees with it.
  if (left <= thresholds.renewBeforeMs) return "due";
  return "ok";
}

/** No SVID sorts before any time left; ties in a stable, readable order. */
function byTimeLeft(a: PlacedRow, b: PlacedRow): number {
  const ta = a.notAfterMs ?? Number.NEGATIVE_INFINITY;
  const tb = b.notAfterMs ?? Number.NEGATIVE_INFINITY;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (
    a.row.accountId.localeCompare(b.row.accountId) ||
    a.row.service.localeCompare(b.row.service) ||
    a.row.environment.localeCompare(b.row.environment) ||
    a.row.spiffeId.localeCompare(b.row.spiffeId)
  );
}

function layAxis(
  timed: readonly { notBeforeMs?: number; notAfterMs?: number }[],
  nowMs: number,
  aheadMs: number,
): Axis {
  const lifetimes = timed
    .flatMap(({ notBeforeMs, notAfterMs }) =>
      notBeforeMs !== undefined && notAfterMs !== undefined && notAfterMs > notBeforeMs
        ? [notAfterMs - notBeforeMs]
        : [],
    )
    .sort((a, b) => a - b);
  const lifetime = lifetimes[Math.floor(lifetimes.length / 2)] ?? DAY;
  const reach = Math.max(2 * lifetime, 2 * aheadMs, HOUR);

  let lo = nowMs;
  let hi = nowMs + Math.max(aheadMs, HOUR);
  for (const { notBeforeMs, notAfterMs } of timed) {
    for (const t of [notBeforeMs, notAfterMs]) {
      if (t === undefined) continue;
      lo = Math.min(lo, t);
      hi = Math.max(hi, t);
    }
  }
  lo = Math.max(lo, nowMs - reach);
  hi = Math.min(hi, nowMs + reach);
  // A margin so the now line and the bars' ends never sit on the edge.
  const pad = (hi - lo) * 0.03;
  const startMs = lo - pad;
  const endMs = hi + pad;
  return { startMs, endMs, ticks: ticksFor(startMs, endMs) };
}

const TICK_STEPS = [
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  30 * DAY,
  90 * DAY,
  365 * DAY,
];
const MAX_TICKS = 8;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Ticks on whole UTC hours or days; a tick at midnight is labelled with its date. */
function ticksFor(startMs: number, endMs: number): Axis["ticks"] {
  const span = endMs - startMs;
  const step = TICK_STEPS.find((s) => span / s <= MAX_TICKS) ?? (TICK_STEPS.at(-1) as number) * 10;
  const ticks: Axis["ticks"] = [];
  for (let t = Math.ceil(startMs / step) * step; t <= endMs; t += step) {
    const d = new Date(t);
    const day = t % DAY === 0;
    ticks.push({
      at: ((t - startMs) / span) * 100,
      label: day ? `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}` : formatUtc(t, "time"),
      day,
    });
  }
  return ticks;
}

/**
 * A UTC instant as the report prints it: `Nov 24 18:05` (`date`), `18:05`
 * (`time`) or `2026-11-24 18:05:07Z` (`full`, for tooltips).
 *
 * @example
 * formatUtc(Date.parse("2026-11-24T18:05:07Z"), "date"); // "Nov 24 18:05"
 */
export function formatUtc(ms: number, form: "date" | "time" | "full"): string {
  const iso = new Date(ms).toISOString();
  if (form === "full") return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
  const time = iso.slice(11, 16);
  if (form === "time") return time;
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ${time}`;
}

/**
 * Time left as `23h 10m`, `3d 4h`, `42m`, or negative once expired (`-1h 05m`).
 *
 * @example
 * formatLeft(-(65 * 60_000)); // "-1h 05m"
 */
export function formatLeft(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  const minutes = Math.floor(Math.abs(ms) / MINUTE);
  const days = Math.floor(minutes / (24 * 60));
  const hours = Math.floor((minutes % (24 * 60)) / 60);
  const mins = minutes % 60;
  if (days > 0) return `${sign}${days}d ${hours}h`;
  if (hours > 0) return `${sign}${hours}h ${String(mins).padStart(2, "0")}m`;
  return `${sign}${mins}m`;
}

/**
 * A duration as a threshold is spoken of: `8h`, `90m`, `1d 12h`.
 *
 * @example
 * formatDuration(6 * 3_600_000); // "6h"
 */
export function formatDuration(ms: number): string {
  const minutes = Math.round(ms / MINUTE);
  const days = Math.floor(minutes / (24 * 60));
  const hours = Math.floor((minutes % (24 * 60)) / 60);
  const mins = minutes % 60;
  const parts = [days ? `${days}d` : "", hours ? `${hours}h` : "", mins ? `${mins}m` : ""];
  return parts.filter(Boolean).join(" ") || "0m";
}

function instant(text: string): number | undefined {
  // Date.parse accepts more than ISO 8601 ("Nov 24 2026"); the row contract says ISO.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    return undefined;
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

function optionalInstant(row: FleetRow, field: "notBefore" | "notAfter"): number | undefined {
  const text = row[field];
  if (text === undefined) return undefined;
  const ms = typeof text === "string" ? instant(text) : undefined;
  if (ms === undefined) {
    throw new ReportError(
      ReportReason.BAD_TIME,
      `${row.spiffeId}: ${field} ${JSON.stringify(text)}`,
    );
  }
  return ms;
}
