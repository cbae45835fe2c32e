/**
 * Starts a private emulator for a benchmark process and points the AWS SDK's
 * standard settings at it, as the test setup does for test workers.
 */
import { startMoto } from "../../tools/emulator/index.ts";
import { pointSdkAtEmulator } from "../emulator/sdk-env.ts";

export async function benchEmulator(): Promise<{ stop(): Promise<void> }> {
  const moto = await startMoto();
  pointSdkAtEmulator(moto.endpoint);
  return moto;
}

/** `--name value` command line options with numeric defaults. */
export function numericArgs<T extends Record<string, number>>(defaults: T): T {
  const out: Record<string, number> = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) continue;
    const name = arg.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (!(name in defaults))
      throw new Error(`bench: unknown option ${arg}; known: ${Object.keys(defaults).join(", ")}`);
    const value = Number(argv[++i]);
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`bench: ${arg} needs a non-negative number`);
    out[name] = value;
  }
  return out as T;
}
