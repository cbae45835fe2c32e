/**
 * Bundles every deployable with esbuild: one ESM file per Lambda handler and
 * the layer's contents, into `dist/`. Run with `npm run build`.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

/** The AWS SDK and others ship CommonJS that calls require(); ESM output needs one. */
const REQUIRE_BANNER =
  'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);';

/** What each deployable is built from, and where it lands under dist/. */
export const bundles: Array<{ entry: string; outfile: string }> = [
  { entry: "functions/issuer/handler.ts", outfile: "issuer/index.mjs" },
  {
    entry: "layers/spiffe/index.ts",
    outfile: "layer/nodejs/node_modules/@lambda-svid/spiffe/index.mjs",
  },
];

const common: BuildOptions = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  minify: true,
  sourcemap: false,
  legalComments: "none",
  banner: { js: REQUIRE_BANNER },
  logLevel: "warning",
};

/** Builds everything into `outDir` (default `dist/`); tests build into a directory of their own. */
export async function buildAll(outDir: string = dist): Promise<string[]> {
  await rm(outDir, { recursive: true, force: true });
  const outputs: string[] = [];
  for (const { entry, outfile } of bundles) {
    const out = join(outDir, outfile);
    await mkdir(dirname(out), { recursive: true });
    await build({ ...common, entryPoints: [join(root, entry)], outfile: out });
    outputs.push(out);
  }
  await writeFile(
    join(outDir, "layer/nodejs/node_modules/@lambda-svid/spiffe/package.json"),
    `${JSON.stringify({ name: "@lambda-svid/spiffe", type: "module", main: "index.mjs", exports: "./index.mjs" }, null, 2)}\n`,
  );
  return outputs;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outputs = await buildAll();
  for (const out of outputs) process.stdout.write(`built ${out.slice(root.length + 1)}\n`);
}
