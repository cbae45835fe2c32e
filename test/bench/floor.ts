/**
 * The floor the issuer benchmarks measure their CPU against: the least one
 * identity costs, whatever the issuer does around it.
 */
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";

/**
 * Process CPU (ms) per sample of P-256 key generation, one signature over a
 * CSR-sized body and a PKCS#8 PEM export, with node:crypto.
 *
 * @example
 * const floorMs = floorCpuMs(1000); // about 0.15 ms on the development machine
 */
export function floorCpuMs(samples: number): number {
  const body = randomBytes(300);
  const from = process.cpuUsage();
  for (let i = 0; i < samples; i++) {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    sign("sha256", body, privateKey);
    privateKey.export({ type: "pkcs8", format: "pem" });
  }
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000 / samples;
}
