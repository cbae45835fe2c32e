/** A plain HTTP client for tests: one request, the whole response read. */
import * as http from "node:http";

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends one request to 127.0.0.1:`port` and reads the whole response.
 *
 * @example
 * const reply = await send(port, { path: "/db/hello", headers: { "x-lambda-svid-token": token } });
 */
export function send(
  port: number,
  options: {
    path: string;
    method?: string;
    headers?: http.OutgoingHttpHeaders;
    body?: Buffer | string;
    agent?: http.Agent;
  },
): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: options.path,
        method: options.method ?? (options.body === undefined ? "GET" : "POST"),
        headers: options.headers,
        agent: options.agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", fail);
        res.on("end", () =>
          done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on("error", fail);
    req.end(options.body);
  });
}
