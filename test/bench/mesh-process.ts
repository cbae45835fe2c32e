/**
 * The mesh stand-in as a process of its own, for `bench:agent`. In the
 * bench's own process the mesh's TLS server and the direct client's TLS
 * client shared one thread, the direct path's bottleneck with concurrent
 * clients, while the proxied path had the agent's process beside them: the
 * floor was slowed and the proxy's cost hidden. Here the mesh has its own
 * thread on both paths, as a mesh service has its own machine.
 *
 * Started with `fork`; the first message is {@link MeshStart}; it answers
 * {@link MeshReady}, then {@link MeshCount} for each `report` message. TLS
 * connections are counted only between `count-on` and `count-off`.
 */
import type { TLSSocket } from "node:tls";
import { authorizeId, parseSvidSecret } from "../../layers/spiffe/index.ts";
import { MeshStandIn } from "../support/mesh.ts";

/** The mesh's SVID secret (its SVID and the trust bundle) and the one client it accepts. */
export interface MeshStart {
  secret: string;
  clientId: string;
}
export interface MeshReady {
  port: number;
}
/** TLS connections accepted while counting, and the most open at once, since the last report. */
export interface MeshCount {
  opened: number;
  peak: number;
}
export type MeshCommand = "count-on" | "count-off" | "report";

process.once("message", async (start: MeshStart) => {
  const { svid, bundles } = parseSvidSecret({ SecretString: start.secret });
  const mesh = await MeshStandIn.start(svid, bundles, authorizeId(start.clientId));
  let on = false;
  let opened = 0;
  let peak = 0;
  const live = new Set<TLSSocket>();
  mesh.server.on("secureConnection", (socket: TLSSocket) => {
    if (!on) return;
    opened++;
    live.add(socket);
    peak = Math.max(peak, live.size);
    socket.once("close", () => live.delete(socket));
  });
  process.on("message", (command: MeshCommand) => {
    if (command === "count-on") on = true;
    else if (command === "count-off") on = false;
    else {
      process.send?.({ opened, peak } satisfies MeshCount);
      opened = 0;
      peak = 0;
      live.clear();
    }
  });
  process.once("disconnect", () => void mesh.close().then(() => process.exit(0)));
  process.send?.({ port: mesh.port } satisfies MeshReady);
});
