import { describe, expect, it } from "vitest";
import { IngressMetrics, LATENCY_BUCKETS } from "../../ingress/index.ts";

const DURATION = "lambda_svid_ingress_request_duration_seconds";

/** The series lines of `render()` that start with `prefix`, as name → value. */
function series(text: string, prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const cut = line.lastIndexOf(" ");
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

describe("IngressMetrics", () => {
  it("counts requests by route and status, and renders cumulative latency buckets per route", () => {
    const metrics = new IngressMetrics();
    metrics.request("orders", 200, 0.0004);
    metrics.request("orders", 200, 0.003);
    metrics.request("orders", 502, 0.003);
    metrics.request("orders", 504, 45);
    metrics.request("", 404, 0.0001);
    const text = metrics.render();

    expect(series(text, "lambda_svid_ingress_requests_total{")).toEqual(
      new Map([
        ['lambda_svid_ingress_requests_total{route="orders",status="200"}', 2],
        ['lambda_svid_ingress_requests_total{route="orders",status="502"}', 1],
        ['lambda_svid_ingress_requests_total{route="orders",status="504"}', 1],
        ['lambda_svid_ingress_requests_total{route="",status="404"}', 1],
      ]),
    );
    const orders = series(text, `${DURATION}_bucket{route="orders"`);
    const expected = new Map<string, number>();
    for (const bound of LATENCY_BUCKETS) {
      // 0.0004 falls in every bucket, the two 0.003 from le=0.005 on; 45 s is beyond the last bound.
      const n = (bound >= 0.0004 ? 1 : 0) + (bound >= 0.003 ? 2 : 0);
      expected.set(`${DURATION}_bucket{route="orders",le="${bound}"}`, n);
    }
    expected.set(`${DURATION}_bucket{route="orders",le="+Inf"}`, 4);
    expect(orders).toEqual(expected);
    expect(series(text, `${DURATION}_count{`)).toEqual(
      new Map([
        [`${DURATION}_count{route="orders"}`, 4],
        [`${DURATION}_count{route=""}`, 1],
      ]),
    );
    expect(series(text, `${DURATION}_sum{route="orders"}`).values().next().value).toBeCloseTo(
      45.0064,
      9,
    );
  });

  it("puts a latency exactly on a bound in that bound's bucket", () => {
    const metrics = new IngressMetrics();
    metrics.request("orders", 200, 0.001);
    const buckets = series(metrics.render(), `${DURATION}_bucket{`);
    expect(buckets.get(`${DURATION}_bucket{route="orders",le="0.0005"}`)).toBe(0);
    expect(buckets.get(`${DURATION}_bucket{route="orders",le="0.001"}`)).toBe(1);
  });
});
