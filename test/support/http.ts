/** A plain HTTP client for tests: one request, the whole response read. */
import * as http from "node:http";
import * as net from "node:net";

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

/**
 * Writes `head` (request line and headers, CRLF-separated, without the final
 * blank line) to 127.0.0.1:`port` byte for byte and reads the one response.
 * `http.request` normalises some request targets; this does not.
 *
 * @example
 * const reply = await sendRaw(port, "GET /db/../admin HTTP/1.1\r\nHost: localhost");
 */
export function sendRaw(port: number, head: string): Promise<Reply> {
  return new Promise((done, fail) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", fail);
    socket.on("end", () => {
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf("\r\n\r\n");
      if (split === -1)
        return fail(new Error(`no response head in ${JSON.stringify(raw.toString())}`));
      const [statusLine = "", ...lines] = raw.subarray(0, split).toString("latin1").split("\r\n");
      const headers: http.IncomingHttpHeaders = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      done({
        status: Number(statusLine.split(" ")[1]),
        headers,
        body: raw.subarray(split + 4),
      });
    });
    socket.write(`${head}\r\nConnection: close\r\n\r\n`);
  });
}
