/**
 * The report's markup: one self-contained HTML document drawn from a
 * {@link ReportModel}. Every text that comes from a row passes through
 * {@link escapeHtml}, in element content and in attributes alike; the page
 * carries its stylesheet and script inline and a Content-Security-Policy that
 * allows exactly those two (by hash) and no fetch of any kind, so the file
 * works from `file://` and a hostile name cannot load or run anything.
 */
import { createHash } from "node:crypto";
import { REPORT_JS } from "./client.ts";
import {
  formatDuration,
  formatLeft,
  formatUtc,
  type PlacedRow,
  type ReportModel,
  ROW_STATES,
  STATE_LABELS,
} from "./model.ts";
import { REPORT_CSS } from "./style.ts";

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text made safe for HTML element content and quoted attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** `default-src 'none'` covers every fetch (connect, img, font, media, frame, worker...). */
const CSP = [
  "default-src 'none'",
  `style-src ${sha256(REPORT_CSS)}`,
  `script-src ${sha256(REPORT_JS)}`,
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/** A tick label further right would run past the timeline's edge; its line is still drawn. */
const LAST_LABEL_AT = 95;

/** States a person must act on: their summary cards are tinted when not zero. */
const ATTENTION: ReadonlySet<string> = new Set(["failed", "missing", "expired", "alarm"]);

/** Closer than this (percent) to the now label, the renewal label would cover it; the legend names the line. */
const MIN_LABEL_GAP = 5;

/** Percentages carry two decimals: a hundredth of a percent is under a pixel at any screen width. */
function pct(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/**
 * The HTML document of a report model.
 *
 * @example
 * await writeFile("fleet.html", renderPage(buildReportModel(rows, thresholds)));
 */
export function renderPage(model: ReportModel): string {
  const { thresholds, axis, marks } = model;
  const made = `${formatUtc(model.nowMs, "date")} UTC`;
  const renew = formatDuration(thresholds.renewBeforeMs);
  const alarm = formatDuration(thresholds.alarmBelowMs);
  const total = model.rows.length;
  const services = [...new Set(model.rows.map((r) => r.row.service))].sort();
  const environments = [...new Set(model.rows.map((r) => r.row.environment))].sort();
  const domain = sharedTrustDomain(model.rows);
  const prefix = domain === undefined ? "" : `spiffe://${domain}`;

  const cards = [
    card("", "Identities", total),
    ...ROW_STATES.map((s) => card(s, STATE_LABELS[s], model.counts[s])),
  ].join("");
  const ticks = (cls: string, label: boolean) =>
    axis.ticks
      .map(
        (t) =>
          `<span class="${cls}${t.day ? " day" : ""}" data-at="${pct(t.at)}">${label && t.at < LAST_LABEL_AT ? escapeHtml(t.label) : ""}</span>`,
      )
      .join("");

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lambda-svid fleet report, ${escapeHtml(made)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<div class="top">
<h1>lambda-svid fleet</h1><span class="meta">report made ${escapeHtml(made)} · renewal ${escapeHtml(renew)} before not-after · alarm under ${escapeHtml(alarm)} left · ${total.toLocaleString("en-US")} identities${domain === undefined ? "" : ` in spiffe://${escapeHtml(domain)}`}</span>
<div class="summary" id="summary">${cards}</div>
<noscript><p>The timeline bars and the filters need JavaScript; the table is complete without them.</p></noscript>
</div>
<div class="sticky">
<form class="filters" id="filters" autocomplete="off">
<label>Account <input id="f-account" type="search" placeholder="any account" spellcheck="false"></label>
<label>Service <input id="f-service" type="search" list="services" placeholder="any service" spellcheck="false"></label>
<label>Environment <select id="f-environment"><option value="">any environment</option>${environments.map(option).join("")}</select></label>
<label>State <select id="f-state"><option value="">any state</option>${ROW_STATES.map((s) => `<option value="${s}">${escapeHtml(STATE_LABELS[s])}</option>`).join("")}</select></label>
<output id="shown">${total.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} identities shown</output>
<span class="legend"><span><i class="k-now"></i>now</span><span><i class="k-renew"></i>renewal threshold (now + ${escapeHtml(renew)})</span><span><i class="k-band"></i>alarm band (under ${escapeHtml(alarm)} left)</span><span><i class="k-bar s-ok"></i>valid from not-before to not-after</span></span>
</form>
<datalist id="services">${services.map(option).join("")}</datalist>
<div class="grid head"><span>State</span><span>Account</span><span>Service</span><span>Env</span><span>${domain === undefined ? "SPIFFE ID" : "SPIFFE ID path"}</span><span>Not after (UTC)</span><span class="left">Left</span><span class="axis" id="axis">${ticks("tick", true)}<span class="label now" data-at="${pct(marks.now)}">now</span>${marks.renew - marks.now < MIN_LABEL_GAP ? "" : `<span class="label renew" data-at="${pct(marks.renew)}">renew</span>`}</span></div>
</div>
<main>
<div class="rows" id="rows" data-axis-start="${new Date(axis.startMs).toISOString()}" data-axis-end="${new Date(axis.endMs).toISOString()}">
<div class="overlay" id="overlay">${ticks("grid-line", false)}<span class="band" id="alarm-band" data-from="${pct(marks.now)}" data-to="${pct(marks.alarm)}"></span><span class="line renew" id="renew-line" data-at="${pct(marks.renew)}"></span><span class="line now" id="now-line" data-at="${pct(marks.now)}"></span></div>
${model.rows.map((r) => rowHtml(r, prefix)).join("\n")}
</div>
<p id="empty" hidden>${total === 0 ? "No identity is registered." : "No identity matches these filters."}</p>
</main>
<script>${REPORT_JS}</script>
</body>
</html>
`;
}

function card(state: string, label: string, count: number): string {
  const cls =
    state === "" ? "card" : `card s-${state}${count > 0 && ATTENTION.has(state) ? " hot" : ""}`;
  return `<button type="button" class="${cls}" data-state="${state}" aria-pressed="${state === ""}"><span class="n">${count.toLocaleString("en-US")}</span><span class="l">${escapeHtml(label)}</span></button>`;
}

function option(value: string): string {
  const v = escapeHtml(value);
  return `<option value="${v}">${v}</option>`;
}

/**
 * The trust domain when every identity is in the same one: the ID column then
 * shows only the paths, which is where identities differ, and says the
 * domain once at the top.
 */
function sharedTrustDomain(rows: readonly PlacedRow[]): string | undefined {
  let domain: string | undefined;
  for (const { row } of rows) {
    const match = /^spiffe:\/\/([^/]+)\/./.exec(row.spiffeId);
    if (match === null || (domain !== undefined && match[1] !== domain)) return undefined;
    domain = match[1];
  }
  return domain;
}

function rowHtml(placed: PlacedRow, prefix: string): string {
  const { row, state, bar, notAfterMs, leftMs } = placed;
  const account = escapeHtml(row.accountId);
  const service = escapeHtml(row.service);
  const environment = escapeHtml(row.environment);
  const id = escapeHtml(row.spiffeId);
  const notAfter =
    notAfterMs === undefined
      ? "<span>—</span>"
      : `<span title="${formatUtc(notAfterMs, "full")}">${formatUtc(notAfterMs, "date")}</span>`;
  const left =
    leftMs === undefined
      ? `<span class="left">—</span>`
      : `<span class="left${leftMs <= 0 ? " neg" : ""}">${formatLeft(leftMs)}</span>`;
  return `<div class="r s-${state}" data-account="${account}" data-service="${service}" data-environment="${environment}" data-state="${state}"><span><b class="badge">${escapeHtml(STATE_LABELS[state])}</b></span><span class="mono">${account}</span><span title="${service}">${service}</span><span title="${environment}">${environment}</span><span class="mono id" title="${id}">${escapeHtml(row.spiffeId.slice(prefix.length))}</span>${notAfter}${left}${track(placed, bar)}${why(placed)}</div>`;
}

function track(placed: PlacedRow, bar: PlacedRow["bar"]): string {
  if (bar === undefined) {
    const none = placed.row.outcome === "pending" ? "first SVID being issued" : "no SVID found";
    return `<span class="track"><span class="none">${none}</span></span>`;
  }
  const { notBefore, notAfter } = placed.row;
  const title = `valid ${notBefore ?? "?"} → ${notAfter}`;
  const cut = `${bar.cutStart ? " cut-s" : ""}${bar.cutEnd ? " cut-e" : ""}`;
  return `<span class="track" title="${escapeHtml(title)}"><i class="bar${cut}" data-from="${pct(bar.from)}" data-to="${pct(bar.to)}"></i></span>`;
}

function why({ row }: PlacedRow): string {
  if (row.outcome !== "failed") return "";
  const f = row.failure;
  if (f === undefined) return `<span class="why">last run failed; no reason recorded</span>`;
  const at = Date.parse(f.at);
  const when = Number.isNaN(at) ? escapeHtml(f.at) : formatUtc(at, "date");
  return `<span class="why">last run failed at ${when} UTC in ${escapeHtml(f.stage)}: ${escapeHtml(f.reason)}</span>`;
}
