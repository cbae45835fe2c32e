/**
 * The report's only script, inlined into the page and allowed by its hash in
 * the page's Content-Security-Policy. It reads nothing but the page: it
 * places the bars and marks from their `data-*` percentages (through the
 * CSSOM, which the policy allows where `style` attributes would not be), and
 * filters the rows by account, service, environment and state, recounting
 * the summary for what the filters leave.
 *
 * Text from the rows is only ever compared, never written back as markup.
 * `data-setup-ms` on the root element records how long the setup took, for
 * the report's test to print.
 */

/**
 * The JavaScript text.
 *
 * @example
 * `<script>${REPORT_JS}</script>`
 */
export const REPORT_JS = `
"use strict";
(() => {
  const started = performance.now();
  const doc = document;
  const byId = (id) => doc.getElementById(id);

  for (const el of doc.querySelectorAll("[data-at]")) el.style.left = el.dataset.at + "%";
  for (const el of doc.querySelectorAll("[data-to]")) {
    const from = Number(el.dataset.from);
    el.style.left = from + "%";
    el.style.width = Number(el.dataset.to) - from + "%";
  }

  const rows = Array.from(byId("rows").getElementsByClassName("r"), (el) => ({
    el,
    account: el.dataset.account.toLowerCase(),
    service: el.dataset.service.toLowerCase(),
    environment: el.dataset.environment,
    state: el.dataset.state,
  }));
  const form = byId("filters");
  const account = byId("f-account");
  const service = byId("f-service");
  const environment = byId("f-environment");
  const state = byId("f-state");
  const shown = byId("shown");
  const empty = byId("empty");
  const cards = Array.from(doc.querySelectorAll(".card"));

  const apply = () => {
    const a = account.value.trim().toLowerCase();
    const s = service.value.trim().toLowerCase();
    const e = environment.value;
    const st = state.value;
    const tally = { all: 0 };
    let visible = 0;
    for (const row of rows) {
      const match =
        (a === "" || row.account.includes(a)) &&
        (s === "" || row.service.includes(s)) &&
        (e === "" || row.environment === e);
      if (match) {
        tally.all += 1;
        tally[row.state] = (tally[row.state] || 0) + 1;
      }
      const show = match && (st === "" || row.state === st);
      if (row.el.hidden === show) row.el.hidden = !show;
      if (show) visible += 1;
    }
    for (const card of cards) {
      const key = card.dataset.state || "all";
      const n = tally[key] || 0;
      card.querySelector(".n").textContent = n.toLocaleString("en-US");
      card.classList.toggle("zero", n === 0);
      card.setAttribute("aria-pressed", String(card.dataset.state === st));
    }
    shown.textContent =
      visible.toLocaleString("en-US") + " of " + rows.length.toLocaleString("en-US") + " identities shown";
    empty.hidden = visible > 0;
  };

  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", (event) => event.preventDefault());
  for (const card of cards) {
    card.addEventListener("click", () => {
      state.value = state.value === card.dataset.state ? "" : card.dataset.state;
      apply();
    });
  }
  apply();
  doc.documentElement.dataset.setupMs = (performance.now() - started).toFixed(1);
})();
`;
