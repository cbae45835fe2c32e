/**
 * Vitest global setup for the integration project: one moto for the whole run,
 * shared by every test file and worker, stopped afterwards whether tests pass or fail.
 * Test files isolate from each other by account and name (see `accounts.ts`), never
 * by resetting the emulator.
 */
import type { TestProject } from "vitest/node";
import { startMoto } from "../../tools/emulator/index.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the shared moto server, e.g. `http://127.0.0.1:41234`. */
    awsEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto();
  project.provide("awsEndpoint", moto.endpoint);
  return () => moto.stop();
}
