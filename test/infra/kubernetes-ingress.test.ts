/**
 * The example Kubernetes manifest of the ingress (infra/kubernetes/ingress),
 * read with the `yaml` package: its route file is accepted by the ingress's
 * own route loader, its container environment by the ingress's own
 * configuration reader, the paths, ports, identity and security settings
 * agree with each other, as `kubectl apply` would not check, and the
 * container runs what the Dockerfile beside it builds from `npm run build`.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadIngressConfig, parseRoutes } from "../../ingress/index.ts";
import { bundles } from "../../scripts/build.ts";
import { repoPath } from "../support/terraform.ts";

const MANIFEST = repoPath("infra/kubernetes/ingress/ingress.yaml");
const DOCKERFILE = repoPath("infra/kubernetes/ingress/Dockerfile");
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as parsed YAML
type K8s = Record<string, any>;

let objects: K8s[];

function one(kind: string, name: string): K8s {
  const found = objects.filter((o) => o.kind === kind && o.metadata?.name === name);
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0] as K8s;
}

const deployment = () => one("Deployment", "lambda-svid-ingress");
const pod = () => deployment().spec.template.spec;
const container = (name: string): K8s => {
  const all = [...pod().containers, ...(pod().initContainers ?? [])];
  const found = all.find((c: K8s) => c.name === name);
  if (found === undefined) throw new Error(`no container ${name}`);
  return found;
};
const env = (name: string): Record<string, string> =>
  Object.fromEntries(container(name).env.map((e: K8s) => [e.name, e.value]));
/** The volume mounted at the directory of `path` in `containerName`, and the file's name in it. */
function mountOf(containerName: string, path: string): { volume: K8s; file: string } {
  const mount = container(containerName).volumeMounts.find((m: K8s) =>
    path.startsWith(`${m.mountPath}/`),
  );
  if (mount === undefined) throw new Error(`${path} is on no volume of ${containerName}`);
  const volume = pod().volumes.find((v: K8s) => v.name === mount.name);
  return { volume, file: path.slice(mount.mountPath.length + 1) };
}

/** One build stage of a Dockerfile: its FROM line's words and its other instructions, in order. */
interface Stage {
  from: string[];
  instructions: Array<{ op: string; args: string }>;
}

/** The Dockerfile's stages; comments dropped, continuation lines joined. */
function dockerStages(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  for (const line of lines) {
    const [op = "", ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    if (op.toUpperCase() === "FROM") stages.push({ from: rest, instructions: [] });
    else stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

beforeAll(() => {
  const docs = parseAllDocuments(readFileSync(MANIFEST, "utf8"));
  if (!Array.isArray(docs)) throw new Error("the manifest holds no YAML documents");
  for (const doc of docs) expect(doc.errors).toEqual([]);
  objects = docs.map((doc) => doc.toJS() as K8s);
});

describe("ingress Kubernetes manifest", () => {
  it("holds the ServiceAccount, the two ConfigMaps, the Deployment and the Service, in one namespace", () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ServiceAccount/lambda-svid-ingress",
      "ConfigMap/lambda-svid-ingress-routes",
      "ConfigMap/lambda-svid-ingress-spiffe-helper",
      "Deployment/lambda-svid-ingress",
      "Service/lambda-svid-ingress",
      "NetworkPolicy/lambda-svid-ingress",
    ]);
    expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set(["orders"]));
  });

  it("runs the pod as the IRSA ServiceAccount", () => {
    const account = one("ServiceAccount", "lambda-svid-ingress");
    expect(account.metadata.annotations["eks.amazonaws.com/role-arn"]).toMatch(ROLE_ARN);
    expect(pod().serviceAccountName).toBe("lambda-svid-ingress");
  });

  it("mounts a route file that the ingress's route loader accepts", () => {
    const { volume, file } = mountOf(
      "ingress",
      env("ingress").LAMBDA_SVID_INGRESS_ROUTES_FILE ?? "(unset)",
    );
    const configMap = one("ConfigMap", volume.configMap.name);
    const table = parseRoutes(configMap.data[file], `${configMap.metadata.name}/${file}`);
    expect(table.routes.map((r) => [r.name, r.target.kind])).toEqual([
      ["orders-api", "execute-api"],
      ["invoices", "lambda"],
      ["orders-site", "s3"],
    ]);
    for (const route of table.routes) expect(route.target.roleArn).toMatch(ROLE_ARN);
  });

  it("configures the ingress with variables its configuration reader accepts", () => {
    const variables = env("ingress");
    const config = loadIngressConfig(variables);
    expect(config.svid).toMatchObject({ source: "files" });
    const ports = Object.fromEntries(
      container("ingress").ports.map((p: K8s) => [p.name, p.containerPort]),
    );
    expect(ports).toEqual({ https: config.port, health: config.healthPort });
    // The kubelet probes the pod's address.
    expect(config.healthHost).toBe("0.0.0.0");
    expect(container("ingress").readinessProbe.httpGet).toEqual({
      path: "/healthz",
      port: "health",
    });
    expect(container("ingress").livenessProbe.tcpSocket).toEqual({ port: "health" });
    const service = one("Service", "lambda-svid-ingress");
    expect(service.spec.ports).toEqual([{ name: "https", port: 443, targetPort: "https" }]);
    expect(service.spec.selector).toEqual(deployment().spec.selector.matchLabels);
  });

  it("reads the SVID files the SPIFFE helper sidecar writes, from a memory volume they share", () => {
    const { svid } = loadIngressConfig(env("ingress"));
    if (svid.source !== "files") throw new Error("expected the files source");
    const helper = container("spiffe-helper");
    expect(helper.restartPolicy).toBe("Always");
    const conf = one("ConfigMap", "lambda-svid-ingress-spiffe-helper").data[
      "helper.conf"
    ] as string;
    const setting = (key: string) => new RegExp(`^${key} = "([^"]*)"$`, "m").exec(conf)?.[1];
    const written = ["svid_file_name", "svid_key_file_name", "svid_bundle_file_name"].map(
      (key) => `${setting("cert_dir")}/${setting(key)}`,
    );
    expect([svid.certFile, svid.keyFile, svid.bundleFile]).toEqual(written);
    for (const path of written) {
      const read = mountOf("ingress", path).volume;
      expect(mountOf("spiffe-helper", path).volume).toBe(read);
      expect(read.emptyDir.medium).toBe("Memory");
    }
    expect(helper.startupProbe.httpGet.port).toBe(Number(/bind_port = "(\d+)"/.exec(conf)?.[1]));
  });

  it("runs non-root, with read-only root file systems and no capabilities", () => {
    expect(pod().securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    for (const name of ["ingress", "spiffe-helper"]) {
      const c = container(name);
      expect(c.securityContext, name).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(c.resources.requests, name).toMatchObject({ cpu: expect.any(String) });
      expect(c.resources.limits.memory, name).toEqual(expect.any(String));
    }
  });

  it("admits other pods to the mTLS port only, and lets out only HTTPS and DNS", () => {
    const policy = one("NetworkPolicy", "lambda-svid-ingress").spec;
    expect(policy.podSelector.matchLabels).toEqual(deployment().spec.selector.matchLabels);
    expect(policy.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(policy.ingress).toEqual([{ ports: [{ protocol: "TCP", port: "https" }] }]);
    expect(policy.egress.flatMap((rule: K8s) => rule.ports)).toEqual([
      { protocol: "TCP", port: 443 },
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ]);
  });

  it("runs the image's entrypoint: the ingress bundle alone, copied from npm run build, as non-root", () => {
    const stages = dockerStages(readFileSync(DOCKERFILE, "utf8"));
    expect(stages.map((s) => s.from)).toEqual([
      ["node:22-bookworm", "AS", "build"],
      ["gcr.io/distroless/nodejs22-debian12:nonroot"],
    ]);
    const [build, runtime] = stages as [Stage, Stage];
    const workdir = build.instructions.find((i) => i.op === "WORKDIR")?.args;
    expect(build.instructions.filter((i) => i.op === "RUN").map((i) => i.args)).toEqual([
      "npm ci --no-audit --no-fund",
      "npm run build",
    ]);
    const bundle = bundles.find((b) => b.entry === "ingress/main.ts");
    expect(bundle?.outfile).toBe("ingress/main.mjs");
    // The runtime stage takes one file from the build: no node_modules, no source, no tsx.
    const copies = runtime.instructions.filter((i) => i.op === "COPY" || i.op === "ADD");
    expect(copies).toEqual([
      { op: "COPY", args: `--from=build ${workdir}/dist/${bundle?.outfile} /app/main.mjs` },
    ]);
    expect(runtime.instructions.find((i) => i.op === "USER")?.args).toBe("nonroot");
    const entrypoint = runtime.instructions.find((i) => i.op === "ENTRYPOINT")?.args ?? "[]";
    expect(JSON.parse(entrypoint)).toEqual(["/nodejs/bin/node", "/app/main.mjs"]);

    const ingress = container("ingress");
    expect(ingress.command).toEqual(JSON.parse(entrypoint));
    expect(ingress.args).toBeUndefined();
    // The image is the documented placeholder, to be replaced with the operator's registry.
    expect(ingress.image).toMatch(/^registry\.example\.org\/.+:\d+\.\d+\.\d+$/);
    const ports = ingress.ports.map((p: K8s) => String(p.containerPort)).sort();
    const exposed = runtime.instructions
      .find((i) => i.op === "EXPOSE")
      ?.args.split(" ")
      .sort();
    expect(ports).toEqual(exposed);
  });
});
