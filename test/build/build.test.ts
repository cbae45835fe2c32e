import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAll, FUNCTION_ZIPS } from "../../scripts/build.ts";
import { TestCa } from "../support/ca.ts";

let outputs: string[];
beforeAll(async () => {
  outputs = await buildAll(await mkdtemp(join(tmpdir(), "lambda-svid-dist-")));
}, 120_000);

describe("npm run build", () => {
  it("the layer's SPIFFE module runs on plain node, outside the project, and verifies an SVID", async () => {
    const spiffe = outputs.find((o) => o.endsWith("@lambda-svid/spiffe/index.mjs")) as string;
    expect(spiffe).toBeDefined();
    const ca = await TestCa.root("example.org");
    const svid = await ca.svid("/prod/web");
    const dir = await mkdtemp(join(tmpdir(), "lambda-svid-build-"));
    writeFileSync(join(dir, "chain.pem"), svid.chainPem);
    writeFileSync(join(dir, "bundle.pem"), ca.root.certPem);
    const script = `
      import { readFileSync } from "node:fs";
      const m = await import(${JSON.stringify(spiffe)});
      const bundle = m.X509Bundle.fromPem("example.org", readFileSync("bundle.pem", "utf8"));
      const { id } = m.verifyX509Svid(readFileSync("chain.pem", "utf8"), bundle);
      process.stdout.write(id.toString());
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: dir });
    expect(out.toString()).toBe("spiffe://example.org/prod/web");
  });

  it.each([
    [
      "issuer/index.mjs",
      { LAMBDA_SVID_TRUST_DOMAIN: "Bad_Domain" },
      'config: LAMBDA_SVID_TRUST_DOMAIN is "Bad_Domain"',
    ],
    [
      "syncer/index.mjs",
      { LAMBDA_SVID_KEYWHIZ_URL: "http://keywhiz" },
      'config: LAMBDA_SVID_KEYWHIZ_URL is "http://keywhiz"',
    ],
  ])(
    "the %s Lambda bundle loads on plain node and refuses a bad variable by name",
    (bundle, env, message) => {
      const file = outputs.find((o) => o.endsWith(bundle)) as string;
      const script = `import(${JSON.stringify(file)}).then(() => process.stdout.write("loaded"), (e) => process.stdout.write(e.message))`;
      const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        env: { PATH: process.env.PATH ?? "", AWS_REGION: "us-east-1", ...env },
      });
      expect(out.toString()).toContain(message);
    },
  );

  it.each(Object.entries(FUNCTION_ZIPS))(
    "the %s zip holds its bundle alone, as index.mjs at the root (handler index.handler)",
    async (name, zip) => {
      const file = outputs.find((o) => o.endsWith(`/${zip}`)) as string;
      expect(file).toBeDefined();
      const dir = await mkdtemp(join(tmpdir(), "lambda-svid-zip-"));
      execFileSync("unzip", ["-q", file, "-d", dir]);
      expect(execFileSync("ls", ["-A", dir]).toString()).toBe("index.mjs\n");
      const bundle = outputs.find((o) => o.endsWith(`${name}/index.mjs`)) as string;
      expect(readFileSync(join(dir, "index.mjs")).equals(readFileSync(bundle))).toBe(true);
    },
  );
});
