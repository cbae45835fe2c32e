/**
 * Bundles every deployable with esbuild: one ESM file per Lambda handler, the
 * layer's contents and the ingress process, into `dist/`. Run with `npm run build`.
 */
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build, type Plugin } from "esbuild";
import { zipDirectory } from "./zip.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

/** The AWS SDK and others ship CommonJS that calls require(); ESM output needs one. */
const REQUIRE_BANNER =
  'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);';

/**
 * Every bundle is loaded on a cold start, so each takes the ES module builds of
 * its dependencies (the AWS SDK's among them), which esbuild can tree-shake:
 * about a third smaller, faster to load, less memory.
 */
const PREFER_ESM: BuildOptions = { mainFields: ["module", "main"] };

/**
 * Node's built-in modules by `require`, not `import`: Node builds an ES module
 * facade for a built-in imported as ESM by reading every export, and reading
 * `node:http`'s WebSocket getters loads Node's bundled undici, 25 to 50 ms of
 * the agent's start, for nothing the agent uses. Static and dynamic imports
 * of built-ins (the AWS SDK lazy-imports `node:http`) become `require` calls
 * through {@link REQUIRE_BANNER}'s `require`.
 */
const builtinsByRequire: Plugin = {
  name: "builtins-by-require",
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) =>
      (args.kind === "import-statement" || args.kind === "dynamic-import") && isBuiltin(args.path)
        ? { path: args.path, namespace: "builtin-by-require" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "builtin-by-require" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

/**
 * Code splitting for the agent: the AWS SDK's lazy imports (credential
 * providers a Lambda function never reaches: SSO, INI files, processes, web
 * identity) become chunks loaded only when reached. In one file they are
 * modules wrapped for lazy initialisation, and so is everything they import,
 * which esbuild then cannot tree-shake: split, the agent's start loads 233 KB
 * instead of 396 KB, about a tenth less CPU to ready (issue 11).
 */
const SPLIT: BuildOptions = { splitting: true, chunkNames: "[name]-[hash]" };

/** What each deployable is built from, and where it lands under dist/. */
export const bundles: Array<{ entry: string; outfile: string; options?: BuildOptions }> = [
  { entry: "functions/issuer/handler.ts", outfile: "issuer/index.mjs", options: PREFER_ESM },
  { entry: "functions/syncer/handler.ts", outfile: "syncer/index.mjs", options: PREFER_ESM },
  {
    entry: "layers/spiffe/index.ts",
    outfile: "layer/nodejs/node_modules/@lambda-svid/spiffe/index.mjs",
    options: PREFER_ESM,
  },
  {
    entry: "layers/agent/main.ts",
    outfile: "layer/lambda-svid/agent.mjs",
    // The extension's start is on every cold start's path (issue 11: ready time).
    options: { ...PREFER_ESM, ...SPLIT, plugins: [builtinsByRequire] },
  },
  {
    entry: "layers/agent/index.ts",
    outfile: "layer/nodejs/node_modules/@lambda-svid/agent/index.mjs",
    options: PREFER_ESM,
  },
  // The ingress's container image runs this file alone (infra/kubernetes/ingress/Dockerfile).
  { entry: "ingress/main.ts", outfile: "ingress/main.mjs", options: PREFER_ESM },
];

/** The layer zip, built from `dist/layer/` after the bundles. */
export const LAYER_ZIP = "lambda-svid-layer.zip";

/**
 * The functions' deployment packages, `index.mjs` at the root (handler
 * `index.handler`): `serverless.yml` deploys the issuer's and publishes the
 * syncer's for tenant accounts.
 */
export const FUNCTION_ZIPS = {
  issuer: "lambda-svid-issuer.zip",
  syncer: "lambda-svid-syncer.zip",
} as const;

/**
 * What Lambda starts from /opt/extensions: the agent on the runtime's own node
 * (v1 supports the Node.js managed runtimes, whose node is /var/lang/bin/node).
 */
const EXTENSION_SCRIPT = `#!/bin/sh
NODE=/var/lang/bin/node
[ -x "$NODE" ] || NODE=node
exec "$NODE" "$(dirname "$0")/../lambda-svid/agent.mjs"
`;

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
  for (const { entry, outfile, options } of bundles) {
    const out = join(outDir, outfile);
    await mkdir(dirname(out), { recursive: true });
    // A split build names its entry file and writes its chunks beside it.
    const target: BuildOptions =
      options?.splitting === true
        ? {
            entryPoints: { [basename(out, ".mjs")]: join(root, entry) },
            outdir: dirname(out),
            outExtension: { ".js": ".mjs" },
          }
        : { entryPoints: [join(root, entry)], outfile: out };
    await build({ ...common, ...options, ...target });
    outputs.push(out);
  }
  for (const name of ["spiffe", "agent"]) {
    await writeFile(
      join(outDir, `layer/nodejs/node_modules/@lambda-svid/${name}/package.json`),
      `${JSON.stringify({ name: `@lambda-svid/${name}`, type: "module", main: "index.mjs", exports: "./index.mjs" }, null, 2)}\n`,
    );
  }
  const extension = join(outDir, "layer/extensions/lambda-svid");
  await mkdir(dirname(extension), { recursive: true });
  await writeFile(extension, EXTENSION_SCRIPT);
  await chmod(extension, 0o755);
  outputs.push(extension);
  const zip = join(outDir, LAYER_ZIP);
  await zipDirectory(join(outDir, "layer"), zip);
  outputs.push(zip);
  for (const [name, file] of Object.entries(FUNCTION_ZIPS)) {
    await zipDirectory(join(outDir, name), join(outDir, file));
    outputs.push(join(outDir, file));
  }
  return outputs;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outputs = await buildAll();
  for (const out of outputs) process.stdout.write(`built ${out.slice(root.length + 1)}\n`);
}
