/**
 * The ingress's counters, rendered in the Prometheus text format on the
 * health port. Every label takes its values from a bounded set (route names
 * from the route file, status codes, the fixed denial and error reasons), so
 * a caller cannot grow the series.
 */

/** Upper bounds, in seconds, of the request latency histogram's buckets. */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;

/** The route label of requests that matched no route. */
export const NO_ROUTE = "";

/** One route's requests: counts by status, and the latency histogram. */
interface RouteRequests {
  statuses: Map<number, number>;
  /** Requests whose latency fell in each bucket alone (not cumulative: one increment a request). */
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * The ingress's metrics.
 *
 * @example
 * const metrics = new IngressMetrics();
 * metrics.request("orders", 200, 0.0012);
 * res.end(metrics.render());
 */
export class IngressMetrics {
  /** By route name; label text is made by {@link render}, not once per request. */
  private readonly requests = new Map<string, RouteRequests>();
  private readonly denials = new Map<string, number>();
  private readonly handshakeFailures = new Map<string, number>();
  private handshakes = 0;
  private connections = 0;
  private openConnections = 0;
  private rotations = 0;
  private svidNotAfter = 0;

  /** One answered request: `status` as sent to the caller, `seconds` from its head to its end. */
  request(route: string, status: number, seconds: number): void {
    let r = this.requests.get(route);
    if (r === undefined) {
      r = { statuses: new Map(), buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.requests.set(route, r);
    }
    r.statuses.set(status, (r.statuses.get(status) ?? 0) + 1);
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] as number)) i++;
    if (i < LATENCY_BUCKETS.length) r.buckets[i] = (r.buckets[i] as number) + 1;
    r.sum += seconds;
    r.count += 1;
  }

  /** A caller refused by a route's ACL. */
  denial(route: string, reason: string): void {
    increment(this.denials, labels({ route, reason }));
  }

  /** A TCP connection accepted; {@link connectionClosed} when it ends. */
  connectionOpened(): void {
    this.connections += 1;
    this.openConnections += 1;
  }

  connectionClosed(): void {
    this.openConnections -= 1;
  }

  /** A TLS handshake whose client passed the SPIFFE check. */
  handshake(): void {
    this.handshakes += 1;
  }

  /** A refused or broken handshake, by its fixed reason or error code. */
  handshakeFailure(reason: string): void {
    increment(this.handshakeFailures, labels({ reason }));
  }

  /** The ingress's own SVID is now one valid until `notAfter`; `rotated` after the first. */
  svid(notAfter: Date, rotated: boolean): void {
    this.svidNotAfter = notAfter.getTime() / 1000;
    if (rotated) this.rotations += 1;
  }

  /** All series in the Prometheus text exposition format (version 0.0.4). */
  render(): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family(
      "lambda_svid_ingress_requests_total",
      "counter",
      "Requests answered, by route and status.",
    );
    for (const [route, r] of this.requests) {
      for (const [status, n] of r.statuses)
        out.push(
          `lambda_svid_ingress_requests_total{${labels({ route, status: String(status) })}} ${n}`,
        );
    }
    family("lambda_svid_ingress_denials_total", "counter", "Callers refused by a route's ACL.");
    for (const [key, n] of this.denials) out.push(`lambda_svid_ingress_denials_total{${key}} ${n}`);
    const latency = "lambda_svid_ingress_request_duration_seconds";
    family(latency, "histogram", "Time from a request's head to the end of its answer.");
    for (const [route, r] of this.requests) {
      const key = labels({ route });
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((bound, i) => {
        cumulative += r.buckets[i] as number;
        out.push(`${latency}_bucket{${key},le="${bound}"} ${cumulative}`);
      });
      out.push(
        `${latency}_bucket{${key},le="+Inf"} ${r.count}`,
        `${latency}_sum{${key}} ${r.sum}`,
        `${latency}_count{${key}} ${r.count}`,
      );
    }
    family(
      "lambda_svid_ingress_tls_handshakes_total",
      "counter",
      "TLS handshakes whose client passed the SPIFFE check.",
    );
    out.push(`lambda_svid_ingress_tls_handshakes_total ${this.handshakes}`);
    family(
      "lambda_svid_ingress_tls_handshake_failures_total",
      "counter",
      "Refused or broken TLS handshakes, by reason.",
    );
    for (const [key, n] of this.handshakeFailures)
      out.push(`lambda_svid_ingress_tls_handshake_failures_total{${key}} ${n}`);
    family("lambda_svid_ingress_connections_total", "counter", "TCP connections accepted.");
    out.push(`lambda_svid_ingress_connections_total ${this.connections}`);
    family("lambda_svid_ingress_connections_open", "gauge", "TCP connections open now.");
    out.push(`lambda_svid_ingress_connections_open ${this.openConnections}`);
    family(
      "lambda_svid_ingress_svid_not_after_seconds",
      "gauge",
      "When the ingress's own SVID expires (Unix time).",
    );
    out.push(`lambda_svid_ingress_svid_not_after_seconds ${this.svidNotAfter}`);
    family(
      "lambda_svid_ingress_svid_rotations_total",
      "counter",
      "SVID rotations applied without a restart.",
    );
    out.push(`lambda_svid_ingress_svid_rotations_total ${this.rotations}`);
    return `${out.join("\n")}\n`;
  }
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function labels(values: Record<string, string>): string {
  return Object.entries(values)
    .map(
      ([name, value]) =>
        `${name}="${value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`))}"`,
    )
    .join(",");
}
