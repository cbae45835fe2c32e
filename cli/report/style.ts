/**
 * The report's stylesheet, inlined into the page (its hash is in the page's
 * Content-Security-Policy, so it must not change between hashing and writing).
 *
 * Every row is its own grid with the same fixed-minimum columns as the header
 * and the list, so columns line up without the rows knowing each other, and
 * `content-visibility: auto` lets the browser skip the thousands of rows off
 * screen. One overlay, placed in the timeline column of the list's grid,
 * draws the now line, the renewal threshold and the alarm band through all
 * rows at once.
 */

/**
 * The CSS text.
 *
 * @example
 * `<style>${REPORT_CSS}</style>`
 */
export const REPORT_CSS = `
:root {
  color-scheme: light;
  --cols: 106px 112px minmax(110px, 1fr) 84px minmax(150px, 1.4fr) 112px 68px minmax(320px, 3.2fr);
  --gap: 10px;
  --ink: #1d2329;
  --muted: #56616b;
  --rule: #e3e7eb;
  --page: #f4f6f8;
  --now: #1864ab;
  --renew: #8a5a00;
  --band: rgba(247, 103, 7, 0.11);
  font: 13px/1.35 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  color: var(--ink);
  background: var(--page);
}
body { margin: 0; }
[hidden] { display: none !important; }
.s-ok { --c: #2b8a3e; }
.s-due { --c: #d9a400; }
.s-alarm { --c: #e8590c; }
.s-expired { --c: #7d2a22; }
.s-failed { --c: #e03131; }
.s-pending { --c: #3b5bdb; }
.s-missing { --c: #868e96; }
.top { padding: 14px 20px 4px; }
h1 { display: inline; font-size: 18px; margin: 0 12px 0 0; }
.meta { color: var(--muted); }
.summary { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0 4px; }
.card {
  appearance: none; font: inherit; color: inherit; text-align: left; cursor: pointer;
  min-width: 100px; padding: 5px 12px 6px; background: #fff;
  border: 1px solid #d3d8dd; border-left: 5px solid var(--c, #495057); border-radius: 6px;
}
.card .n { display: block; font-size: 21px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .l { font-size: 12px; color: var(--muted); }
.card.zero { opacity: 0.5; }
.card.hot { background: color-mix(in srgb, var(--c) 12%, #fff); }
.card[aria-pressed="true"] { outline: 2px solid var(--now); outline-offset: 1px; }
.sticky {
  position: sticky; top: 0; z-index: 3; padding: 0 20px;
  background: var(--page); border-bottom: 1px solid #cfd5da;
}
.filters { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 6px 14px; padding: 6px 0 4px; }
.filters label {
  display: flex; flex-direction: column; gap: 2px;
  font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.03em;
}
.filters input, .filters select {
  font: inherit; font-size: 13px; min-width: 150px; max-width: 240px; padding: 3px 6px;
  color: var(--ink); background: #fff; border: 1px solid #aeb6bf; border-radius: 4px;
}
.filters output { padding-bottom: 4px; color: var(--muted); font-variant-numeric: tabular-nums; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-left: auto; padding-bottom: 4px; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; vertical-align: -2px; margin-right: 4px; }
.legend .k-now { width: 0; height: 13px; border-left: 2px solid var(--now); }
.legend .k-renew { width: 0; height: 13px; border-left: 2px dashed var(--renew); }
.legend .k-band { width: 14px; height: 13px; background: var(--band); border: 1px solid rgba(232, 89, 12, 0.4); }
.legend .k-bar { width: 22px; height: 9px; border-radius: 3px; background: var(--c); }
.grid { display: grid; grid-template-columns: var(--cols); column-gap: var(--gap); }
.head { height: 36px; align-items: end; padding-bottom: 3px; font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.03em; }
.head > span { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.axis { position: relative; align-self: stretch; overflow: visible !important; text-transform: none; letter-spacing: 0; }
.tick { position: absolute; top: 0; height: 15px; padding-left: 3px; border-left: 1px solid #b9c0c7; white-space: nowrap; }
.tick.day { border-left-color: #495057; color: var(--ink); font-weight: 600; }
.axis .label { position: absolute; bottom: 0; transform: translateX(-50%); font-weight: 700; white-space: nowrap; }
.axis .label.now { color: var(--now); }
.axis .label.renew { color: var(--renew); }
main { padding: 0 20px 40px; }
.rows { position: relative; display: grid; grid-template-columns: var(--cols); column-gap: var(--gap); }
.r {
  grid-column: 1 / -1; display: grid; grid-template-columns: var(--cols); column-gap: var(--gap);
  align-items: center; min-height: 24px; background: #fff; border-bottom: 1px solid var(--rule);
  content-visibility: auto; contain-intrinsic-size: auto 25px;
}
.r > span { min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.r > span:first-child { padding-left: 6px; }
.r.s-failed { background: #ffeded; box-shadow: inset 5px 0 0 var(--c); }
.r.s-expired { background: #f8eeec; }
.r.s-alarm { background: #fff4eb; }
.r.s-missing { color: var(--muted); }
.mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
.badge {
  display: inline-block; padding: 1px 7px; border-radius: 9px;
  font-size: 11px; font-weight: 650; color: #fff; background: var(--c);
}
.s-due .badge { color: #2b2000; }
.left { text-align: right; font-variant-numeric: tabular-nums; }
.left.neg { color: #c92a2a; font-weight: 650; }
.track { position: relative; align-self: stretch; }
.bar { position: absolute; top: 6px; height: 12px; min-width: 3px; border-radius: 3px; background: var(--c); }
.bar.cut-s { border-top-left-radius: 0; border-bottom-left-radius: 0; border-left: 2px dotted #fff; }
.bar.cut-e { border-top-right-radius: 0; border-bottom-right-radius: 0; border-right: 2px dotted #fff; }
.s-pending .bar {
  background-image: repeating-linear-gradient(135deg, rgba(255, 255, 255, 0.45) 0 4px, transparent 4px 8px);
}
.s-failed .bar {
  background-image: repeating-linear-gradient(135deg, rgba(0, 0, 0, 0.22) 0 3px, transparent 3px 7px);
}
.none {
  position: absolute; top: 4px; bottom: 4px; left: 0; right: 0; padding-left: 8px;
  font-size: 11px; font-style: italic; line-height: 14px; color: var(--muted);
  border: 1px dashed #adb5bd; border-radius: 3px;
}
.s-pending .none { border-color: var(--c); color: var(--c); }
.why {
  grid-column: 2 / -1; padding: 0 0 4px; font-size: 12px; color: #b02525;
  white-space: normal !important;
}
.overlay { position: absolute; grid-column: 8; top: 0; bottom: 0; left: 0; right: 0; z-index: 2; pointer-events: none; }
.overlay .grid-line { position: absolute; top: 0; bottom: 0; border-left: 1px solid rgba(0, 0, 0, 0.07); }
.overlay .grid-line.day { border-left-color: rgba(0, 0, 0, 0.2); }
.band { position: absolute; top: 0; bottom: 0; background: var(--band); }
.line { position: absolute; top: 0; bottom: 0; margin-left: -1px; }
.line.now { border-left: 2px solid var(--now); }
.line.renew { border-left: 2px dashed var(--renew); }
#empty { padding: 24px 6px; color: var(--muted); }
`;
