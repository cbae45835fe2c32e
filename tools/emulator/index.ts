/**
 * The local AWS emulator harness: moto in server mode, pinned in
 * `requirements.txt`, run from the project's own `.venv/` (`venv.ts`) on a free
 * loopback port (`moto.ts`, `serve.py`), optionally judging requests against
 * IAM (`iam_authorization.py`).
 *
 * A development tool, not product code and not a test: `npm start` (cli/),
 * `npm run check:infra` (scripts/), the benchmarks and the integration tests all
 * start it from here. It may import Node and nothing of the project; nothing
 * in functions/, layers/ or lib/ may import it, so no product code knows moto.
 *
 * @example
 * import { startMoto } from "./tools/emulator/index.ts";
 * const moto = await startMoto();
 * process.env.AWS_ENDPOINT_URL = moto.endpoint;
 * await moto.stop();
 *
 * @module
 */
export { answers, freePort, type Moto, type MotoOptions, startMoto } from "./moto.ts";
export { EmulatorSetupError, ensureMotoVenv, type VenvOptions } from "./venv.ts";
