/**
 * `report --html`: the page renderFleetReport writes, loaded from a file in
 * headless Chromium (Debian's, found or installed by scripts/chromium.ts;
 * driven by playwright-core) and inspected through its DOM. No Chromium is a
 * failure, not a skip: CI installs it.
 *
 * Writes screenshots for a person to look at: test/.artifacts/report.png (the
 * small fleet) and test/.artifacts/report-5000.png (5,000 identities).
 */

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FleetRow, FleetThresholds } from "../../cli/fleet/row.ts";
import { ReportError, ReportReason, renderFleetReport } from "../../cli/report/index.ts";
import { buildReportModel } from "../../cli/report/model.ts";
import {
  ChromiumError,
  ChromiumReason,
  ensureChromium,
  findChromium,
} from "../../scripts/chromium.ts";
import { thrown } from "../support/thrown.ts";

const ARTIFACTS = fileURLToPath(new URL("../.artifacts/", import.meta.url));
const H = 3_600_000;
const NOW = "2026-11-24T12:00:00.000Z";
const NOW_MS = Date.parse(NOW);
const THRESHOLDS: FleetThresholds = { now: NOW, alarmBelowMs: 6 * H, renewBeforeMs: 8 * H };
const HOSTILE_SERVICE = `<img src=x onerror="window.__pwned='service'">`;
const HOSTILE_ENV = `"><script>window.__pwned='environment'</script>`;
const HOSTILE_REASON = `</span><img src=x onerror="window.__pwned='reason'">`;

/** An identity whose 24-hour SVID was issued `ageHours` before now. */
function svid(
  accountId: string,
  service: string,
  environment: string,
  ageHours: number,
  outcome: FleetRow["outcome"] = "issued",
): FleetRow {
  const notBefore = NOW_MS - ageHours * H;
  return {
    accountId,
    service,
    environment,
    spiffeId: `spiffe://example.org/${encodeURIComponent(service)}/${encodeURIComponent(environment)}/${accountId}`,
    notBefore: new Date(notBefore).toISOString(),
    notAfter: new Date(notBefore + 24 * H).toISOString(),
    outcome,
  };
}

function unissued(
  accountId: string,
  service: string,
  environment: string,
  outcome: FleetRow["outcome"],
): FleetRow {
  return {
    accountId,
    service,
    environment,
    spiffeId: `spiffe://example.org/${service}/${environment}/${accountId}`,
    outcome,
  };
}

/** The small fleet, with the state each identity must be drawn in. */
const FLEET: { row: FleetRow; state: string }[] = [
  { row: svid("111111111111", "payments", "prod", 1), state: "ok" },
  { row: svid("222222222222", "payments", "staging", 2, "checked"), state: "ok" },
  { row: svid("333333333333", "ledger", "prod", 17), state: "due" },
  { row: svid("444444444444", "ledger", "staging", 20), state: "alarm" },
  { row: svid("555555555555", "search", "prod", 30), state: "expired" },
  {
    row: {
      ...svid("666666666666", "search", "dev", 21),
      outcome: "failed",
      failure: { stage: "push", reason: "AccessDenied", at: "2026-11-24T11:40:00.000Z" },
    },
    state: "failed",
  },
  { row: unissued("777777777777", "billing", "dev", "missing"), state: "missing" },
  { row: unissued("888888888888", "billing", "prod", "pending"), state: "pending" },
  { row: svid("999999999999", "ledger", "dev", 10, "pending"), state: "pending" },
  { row: svid("101010101010", HOSTILE_SERVICE, "prod", 3), state: "ok" },
  { row: svid("121212121212", "search", HOSTILE_ENV, 5), state: "ok" },
  {
    row: {
      ...svid("131313131313", "payments", "dev", 4),
      outcome: "failed",
      failure: { stage: "ca", reason: HOSTILE_REASON, at: "2026-11-24T11:50:00.000Z" },
    },
    state: "failed",
  },
];
const ROWS = FLEET.map((f) => f.row);

let browser: Browser;
let executablePath: string;
let dir: string;
let server: Server;
/** Requests that reached the loopback server the page must never talk to. */
let serverHits = 0;

beforeAll(async () => {
  executablePath = await ensureChromium({
    onInstall: () => process.stdout.write("report test: installing chromium with apt-get\n"),
  });
  browser = await chromium.launch({ executablePath });
  dir = await mkdtemp(join(tmpdir(), "lambda-svid-report-"));
  await mkdir(ARTIFACTS, { recursive: true });
  server = createServer((_req, res) => {
    serverHits += 1;
    res.end("x");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  url: string;
  requests: string[];
  /** Requests that got no answer (Chromium reports a request the policy blocks, then its failure). */
  failed: string[];
  problems: string[];
}

/** Writes the report to a file and opens it, recording every request and every page error. */
async function open(html: string, name: string): Promise<Opened> {
  const file = join(dir, name);
  await writeFile(file, html);
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  const requests: string[] = [];
  const problems: string[] = [];
  const failed: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("requestfailed", (r) => failed.push(r.url()));
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
  });
  const url = pathToFileURL(file).href;
  await page.goto(url);
  return { page, url, requests, failed, problems };
}

/** The accounts of the rows the filters leave visible, in page order. */
function visibleAccounts(page: Page): Promise<string[]> {
  return page.$$eval(".r", (els) =>
    els.filter((e) => !e.hidden).map((e) => e.dataset.account ?? ""),
  );
}

/**
 * What the browser computed for the element. Page functions here reach the
 * page's globals through the element (`ownerDocument.defaultView`): this
 * project typechecks against Node's globals, not the DOM's.
 */
function styleOf(locator: Locator): Promise<{ background: string; image: string; shadow: string }> {
  return locator.first().evaluate((el) => {
    const s = el.ownerDocument.defaultView.getComputedStyle(el);
    return { background: s.backgroundColor, image: s.backgroundImage, shadow: s.boxShadow };
  });
}

/** The element's box on the page, which must be laid out. */
async function box(
  locator: Locator,
): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await locator.first().boundingBox();
  expect(b).not.toBeNull();
  return b as { x: number; y: number; width: number; height: number };
}

describe("report --html in headless Chromium", () => {
  let small: Opened;

  beforeAll(async () => {
    small = await open(renderFleetReport(ROWS, THRESHOLDS), "report.html");
  });

  it("loads from file:// with its own style and script and no error, warning or other request", async () => {
    expect(small.problems).toEqual([]);
    expect(small.requests).toEqual([small.url]);
    expect(await small.page.locator("html").getAttribute("data-setup-ms")).toMatch(/^\d+\.\d$/);
    const csp = await small.page
      .locator('meta[http-equiv="Content-Security-Policy"]')
      .getAttribute("content");
    expect(csp).toMatch(/^default-src 'none'; /);
  });

  it("shows every identity once, sorted by time left with the ones without an SVID first", async () => {
    const ids = await small.page.$$eval(".r .id", (els) => els.map((e) => e.title));
    const paths = await small.page.$$eval(".r .id", (els) => els.map((e) => e.textContent));
    const expected = [...ROWS]
      .sort(
        (a, b) =>
          (a.notAfter ? Date.parse(a.notAfter) : -Infinity) -
            (b.notAfter ? Date.parse(b.notAfter) : -Infinity) ||
          a.accountId.localeCompare(b.accountId),
      )
      .map((r) => r.spiffeId);
    expect(ids).toEqual(expected);
    // One trust domain: said once at the top, each row shows its ID's path.
    expect(paths).toEqual(expected.map((id) => id.slice("spiffe://example.org".length)));
    expect(await small.page.locator(".meta").textContent()).toMatch(
      / · 12 identities in spiffe:\/\/example\.org$/,
    );
  });

  it("draws each identity in its state and counts the states at the top", async () => {
    const drawn = Object.fromEntries(
      await small.page.$$eval(".r", (els) => els.map((e) => [e.dataset.account, e.dataset.state])),
    );
    expect(drawn).toEqual(Object.fromEntries(FLEET.map((f) => [f.row.accountId, f.state])));

    const counts = Object.fromEntries(
      await small.page.$$eval(".card", (els) =>
        els.map((e) => [e.dataset.state || "all", e.querySelector(".n")?.textContent]),
      ),
    );
    expect(counts).toEqual({
      all: "12",
      failed: "2",
      missing: "1",
      expired: "1",
      alarm: "1",
      pending: "2",
      due: "1",
      ok: "4",
    });
  });

  it("highlights a failed identity with its stage and reason, apart from healthy ones", async () => {
    const failed = small.page.locator('.r[data-account="666666666666"]');
    const healthy = small.page.locator('.r[data-account="111111111111"]');
    expect(await failed.locator(".badge").textContent()).toBe("Failed");
    expect(await failed.locator(".why").textContent()).toBe(
      "last run failed at Nov 24 11:40 UTC in push: AccessDenied",
    );
    const f = await styleOf(failed);
    const h = await styleOf(healthy);
    const [r, g, b] = (f.background.match(/\d+/g) ?? []).map(Number);
    expect(r).toBeGreaterThan((g ?? 255) + 10);
    expect(r).toBeGreaterThan((b ?? 255) + 10);
    expect(f.background).not.toBe(h.background);
    expect(f.shadow).toMatch(/inset/);
    expect(h.shadow).toBe("none");
  });

  it("draws missing and pending identities distinctly: no bar, a labelled empty track, a striped bar", async () => {
    const track = (account: string) =>
      small.page.locator(`.r[data-account="${account}"] .track`).evaluate((el) => ({
        text: el.textContent,
        bars: el.querySelectorAll(".bar").length,
      }));
    expect(await track("777777777777")).toEqual({ text: "no SVID found", bars: 0 });
    expect(await track("888888888888")).toEqual({ text: "first SVID being issued", bars: 0 });
    const pendingBar = await styleOf(small.page.locator('.r[data-account="999999999999"] .bar'));
    const healthyBar = await styleOf(small.page.locator('.r[data-account="111111111111"] .bar'));
    expect(pendingBar.image).toMatch(/^repeating-linear-gradient/);
    expect(healthyBar.image).toBe("none");
  });

  it("puts the now line, the renewal threshold, the alarm band and each bar's end where their times fall", async () => {
    const { page } = small;
    const start = Date.parse((await page.locator("#rows").getAttribute("data-axis-start")) ?? "");
    const end = Date.parse((await page.locator("#rows").getAttribute("data-axis-end")) ?? "");
    const overlay = await box(page.locator("#overlay"));
    const track = await box(page.locator('.r[data-account="111111111111"] .track'));
    const bar = await box(page.locator('.r[data-account="111111111111"] .bar'));
    const band = await box(page.locator("#alarm-band"));
    const middle = async (selector: string) => {
      const b = await box(page.locator(selector));
      return b.x + b.width / 2;
    };
    const geometry = {
      nowX: await middle("#now-line"),
      nowLabelX: await middle(".axis .label.now"),
      renewX: await middle("#renew-line"),
    };
    const x = (ms: number) => overlay.x + ((ms - start) / (end - start)) * overlay.width;
    // The overlay and every row's track are the same column of the same grid.
    expect(Math.abs(track.x - overlay.x)).toBeLessThan(0.5);
    expect(Math.abs(track.width - overlay.width)).toBeLessThan(0.5);
    expect(Math.abs(geometry.nowX - x(NOW_MS))).toBeLessThan(1.5);
    expect(Math.abs(geometry.nowLabelX - x(NOW_MS))).toBeLessThan(1.5);
    expect(Math.abs(geometry.renewX - x(NOW_MS + 8 * H))).toBeLessThan(1.5);
    expect(Math.abs(band.x - x(NOW_MS))).toBeLessThan(1.5);
    expect(Math.abs(band.x + band.width - x(NOW_MS + 6 * H))).toBeLessThan(1.5);
    const healthy = FLEET[0]?.row as FleetRow;
    expect(Math.abs(bar.x - x(Date.parse(healthy.notBefore as string)))).toBeLessThan(1.5);
    expect(Math.abs(bar.x + bar.width - x(Date.parse(healthy.notAfter as string)))).toBeLessThan(
      1.5,
    );
  });

  it("filters by account, service, environment and state through its controls", async () => {
    const { page } = small;
    const all = FLEET.map((f) => f.row.accountId);
    const expectShown = async (accounts: string[]) =>
      expect((await visibleAccounts(page)).sort()).toEqual([...accounts].sort());

    await page.fill("#f-account", "4444");
    await expectShown(["444444444444"]);
    expect(await page.locator("#shown").textContent()).toBe("1 of 12 identities shown");
    expect(await page.locator('.card[data-state="alarm"] .n').textContent()).toBe("1");
    expect(await page.locator('.card[data-state="ok"] .n').textContent()).toBe("0");
    await page.fill("#f-account", "");

    await page.selectOption("#f-environment", "staging");
    await expectShown(["222222222222", "444444444444"]);

    await page.fill("#f-service", "LEDGER");
    await expectShown(["444444444444"]);
    await page.selectOption("#f-environment", "");
    await expectShown(["333333333333", "444444444444", "999999999999"]);
    await page.fill("#f-service", "");

    await page.click('.card[data-state="failed"]');
    await expectShown(["666666666666", "131313131313"]);
    expect(await page.locator("#f-state").inputValue()).toBe("failed");
    await page.click('.card[data-state="failed"]');
    await expectShown(all);

    await page.fill("#f-account", "000000");
    expect(await visibleAccounts(page)).toEqual([]);
    expect(await page.locator("#empty").isVisible()).toBe(true);
    await page.fill("#f-account", "");
    expect(await page.locator("#empty").isVisible()).toBe(false);
    await expectShown(all);
  });

  it("shows hostile row text as text: nothing it contains runs, loads or adds elements", async () => {
    const { page } = small;
    expect(
      await page.locator("html").evaluate((root) => root.ownerDocument.defaultView.__pwned),
    ).toBeUndefined();
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.locator("script").count()).toBe(1);
    expect(await page.locator('.r[data-account="101010101010"] > span').nth(2).textContent()).toBe(
      HOSTILE_SERVICE,
    );
    expect(
      await page.locator('.r[data-account="121212121212"]').getAttribute("data-environment"),
    ).toBe(HOSTILE_ENV);
    expect(await page.locator('.r[data-account="131313131313"] .why').textContent()).toBe(
      `last run failed at Nov 24 11:50 UTC in ca: ${HOSTILE_REASON}`,
    );
    await page.selectOption("#f-environment", HOSTILE_ENV);
    expect(await visibleAccounts(page)).toEqual(["121212121212"]);
    await page.selectOption("#f-environment", "");
  });

  it("forbids every fetch: a request the page tries is refused before it leaves", async () => {
    const { page, url, requests, failed } = small;
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const violations = await page.locator("html").evaluate(async (root, to) => {
      const doc = root.ownerDocument;
      const win = doc.defaultView;
      const seen: string[] = [];
      doc.addEventListener("securitypolicyviolation", (e: { effectiveDirective: string }) =>
        seen.push(e.effectiveDirective),
      );
      const fetched = await win.fetch(`${to}fetch`).then(
        () => "answered",
        () => "refused",
      );
      const img = new win.Image();
      img.src = `${to}img`;
      const link = doc.createElement("link");
      link.rel = "stylesheet";
      link.href = `${to}css`;
      doc.head.append(link);
      // Violation events are queued tasks: wait for the three, or give up after five seconds.
      for (let waited = 0; new Set(seen).size < 3 && waited < 5000; waited += 50) {
        await new Promise((resolve) => win.setTimeout(resolve, 50));
      }
      return { fetched, seen: [...new Set(seen)].sort() };
    }, target);
    expect(violations).toEqual({
      fetched: "refused",
      seen: ["connect-src", "img-src", "style-src-elem"],
    });
    expect(serverHits).toBe(0);
    const tried = requests.filter((r) => r !== url).sort();
    expect(tried).toEqual([`${target}css`, `${target}img`]);
    await expect.poll(() => [...failed].sort()).toEqual(tried);
  });

  it("writes a screenshot for a person to look at", async () => {
    const path = join(ARTIFACTS, "report.png");
    await small.page.locator("#f-account").blur();
    await small.page.screenshot({ path, fullPage: true });
    process.stdout.write(`report: screenshot ${path}\n`);
  });
});

/** A deterministic pseudo-random fleet of `n` identities in every state. */
function bigFleet(n: number): FleetRow[] {
  let seed = 12;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const environments = ["prod", "staging", "dev", "test"];
  return Array.from({ length: n }, (_, i) => {
    const accountId = String(100_000_000_000 + i * 7919).padStart(12, "0");
    const service = `svc-${String(i % 313).padStart(3, "0")}`;
    const environment = environments[i % environments.length] as string;
    const pick = random();
    if (pick < 0.004) return unissued(accountId, service, environment, "missing");
    if (pick < 0.008) return unissued(accountId, service, environment, "pending");
    // Most SVIDs renewed on time (within 16 hours of issue); a few stragglers in every later state.
    const age = random() < 0.94 ? random() * 16 : 16 + random() * 10;
    const row = svid(accountId, service, environment, age);
    if (pick < 0.02) {
      return {
        ...row,
        outcome: "failed",
        failure: { stage: "push", reason: "ThrottlingException", at: NOW },
      };
    }
    return row;
  });
}

describe("report --html at 5,000 identities", () => {
  it("renders every row and filters quickly enough to use; prints the times", async () => {
    const rows = bigFleet(5000);
    const renderStarted = performance.now();
    const text = renderFleetReport(rows, THRESHOLDS);
    const renderMs = performance.now() - renderStarted;

    const loadStarted = performance.now();
    const { page, problems } = await open(text, "report-5000.html");
    const loadMs = performance.now() - loadStarted;
    expect(problems).toEqual([]);
    expect(await page.locator(".r").count()).toBe(5000);

    const html = page.locator("html");
    const timing = await html.evaluate((root) => {
      const win = root.ownerDocument.defaultView;
      const nav = win.performance.getEntriesByType("navigation")[0];
      return {
        domContentLoaded: nav.domContentLoadedEventEnd as number,
        load: nav.loadEventEnd as number,
        setup: Number(root.dataset.setupMs),
        firstPaint: win.performance.getEntriesByName("first-contentful-paint")[0]
          ?.startTime as number,
      };
    });
    /** One keystroke's worth of filtering, timed in the page up to the layout it causes. */
    const typeService = (text: string) =>
      html.evaluate((root, value) => {
        const win = root.ownerDocument.defaultView;
        const input = root.ownerDocument.getElementById("f-service");
        const started = win.performance.now();
        input.value = value;
        input.dispatchEvent(new win.Event("input", { bubbles: true }));
        root.ownerDocument.body.getBoundingClientRect();
        return (win.performance.now() - started) as number;
      }, text);
    const filterMs = await typeService("svc-007");
    const shown = await visibleAccounts(page);
    expect(shown).toHaveLength(rows.filter((r) => r.service === "svc-007").length);
    const unfilterMs = await typeService("");
    expect(await visibleAccounts(page)).toHaveLength(5000);
    const path = join(ARTIFACTS, "report-5000.png");
    await page.screenshot({ path });

    process.stdout.write(
      [
        `report: 5000 identities, ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB of HTML`,
        `report: renderFleetReport ${renderMs.toFixed(0)} ms`,
        `report: Chromium first rows painted ${timing.firstPaint.toFixed(0)} ms after navigation start`,
        `report: Chromium DOM ready ${timing.domContentLoaded.toFixed(0)} ms (parse and build, script setup ${timing.setup.toFixed(0)} ms of it), load event ${timing.load.toFixed(0)} ms, goto from the test ${loadMs.toFixed(0)} ms`,
        `report: one filter keystroke over 5000 rows, with layout: ${filterMs.toFixed(1)} ms (to ${shown.length} rows), ${unfilterMs.toFixed(1)} ms (back to all)`,
        `report: screenshot ${path}`,
        "",
      ].join("\n"),
    );
  });
});

/** An identity with exactly `leftMs` to live at NOW. */
function leaving(leftMs: number, outcome: FleetRow["outcome"] = "issued"): FleetRow {
  return {
    ...svid("111111111111", "payments", "prod", 0, outcome),
    notBefore: new Date(NOW_MS + leftMs - 24 * H).toISOString(),
    notAfter: new Date(NOW_MS + leftMs).toISOString(),
  };
}

describe("report model", () => {
  it.each([
    [8 * H + 1, "issued", "ok"],
    [8 * H, "issued", "due"],
    [6 * H, "checked", "due"],
    [6 * H - 1, "issued", "alarm"],
    [1, "issued", "alarm"],
    [0, "issued", "expired"],
    [20 * H, "pending", "pending"],
    [7 * H, "pending", "pending"],
    [2 * H, "pending", "alarm"],
    [-H, "pending", "expired"],
    [20 * H, "failed", "failed"],
    [-H, "failed", "failed"],
  ] as const)(
    "%d ms left after %s is %s (renewal at 8 h, alarm under 6 h)",
    (left, outcome, state) => {
      expect(buildReportModel([leaving(left, outcome)], THRESHOLDS).rows[0]?.state).toBe(state);
    },
  );

  it("an identity without an SVID is missing unless its first one is pending", () => {
    const states = buildReportModel(
      (["issued", "checked", "missing", "pending", "failed"] as const).map((o) =>
        unissued("111111111111", "payments", o, o),
      ),
      THRESHOLDS,
    ).rows.map((r) => [r.row.environment, r.state]);
    expect(Object.fromEntries(states)).toEqual({
      issued: "missing",
      checked: "missing",
      missing: "missing",
      pending: "pending",
      failed: "failed",
    });
  });

  it("keeps the axis on the fleet's usual lifetime: a year-long certificate is drawn cut, not stretching it", () => {
    const model = buildReportModel(
      [
        ...Array.from({ length: 5 }, (_, i) => svid(`10000000000${i}`, "payments", "prod", i)),
        { ...svid("999999999999", "legacy", "prod", 1), notAfter: "2027-11-24T12:00:00.000Z" },
      ],
      THRESHOLDS,
    );
    expect(model.axis.endMs - NOW_MS).toBeLessThanOrEqual(2 * 24 * H * 1.07);
    const legacy = model.rows.find((r) => r.row.service === "legacy");
    expect(legacy?.bar).toMatchObject({ to: 100, cutEnd: true, cutStart: false });
    expect(model.marks.now).toBeGreaterThan(0);
    expect(model.marks.renew).toBeGreaterThan(model.marks.alarm);
  });
});

describe("renderFleetReport input", () => {
  it.each([
    [{ ...THRESHOLDS, now: "24 Nov 2026" }, [], ReportReason.BAD_NOW, 'got "24 Nov 2026"'],
    [{ ...THRESHOLDS, renewBeforeMs: -1 }, [], ReportReason.BAD_THRESHOLD, "renewBeforeMs is -1"],
    [
      THRESHOLDS,
      [{ ...svid("111111111111", "payments", "prod", 1), notAfter: "tomorrow" }],
      ReportReason.BAD_TIME,
      'spiffe://example.org/payments/prod/111111111111: notAfter "tomorrow"',
    ],
  ] as const)("refuses %j with %s", (thresholds, rows, reason, detail) => {
    const error = thrown(
      () => renderFleetReport(rows as readonly FleetRow[], thresholds),
      ReportError,
    );
    expect(error.reason).toBe(reason);
    expect(error.message).toBe(`${reason}: ${detail}`);
  });
});

describe("scripts/chromium.ts", () => {
  it("finds chromium on the PATH it is given, and nothing on an empty one", () => {
    const dirOf = executablePath.slice(0, executablePath.lastIndexOf("/"));
    expect(findChromium({ PATH: dirOf })).toBe(executablePath);
    expect(findChromium({ PATH: "" })).toBeUndefined();
  });

  it("takes CHROME_PATH as it is, and refuses one that names no executable", () => {
    expect(findChromium({ CHROME_PATH: executablePath, PATH: "" })).toBe(executablePath);
    const error = thrown(() => findChromium({ CHROME_PATH: "/nonexistent/chrome" }), ChromiumError);
    expect(error.message).toBe(`${ChromiumReason.BAD_CHROME_PATH}: "/nonexistent/chrome"`);
  });
});
