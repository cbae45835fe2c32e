/**
 * Reads a Terraform module the way the tests need it without the AWS provider:
 * parsed with `@cdktf/hcl2json`, and the small part of Terraform's expression
 * language the module's policy and environment arguments use evaluated against
 * given inputs, so a test can render the module's real `templatefile()` calls.
 *
 * Anything the evaluator does not know (a function, an operator, a reference
 * that is neither an input, a local nor in the given world) throws: a test then
 * fails instead of checking a guess.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type PolicyDocument, renderPolicyText } from "../../infra/policies/render.ts";

/**
 * hcl2json's type definitions reference the DOM library, which would retype
 * WebCrypto for the whole project (`Crypto` becomes the DOM's), so it is
 * loaded untyped and given the two signatures used here.
 */
const { convertFiles, getExpressionAst } = createRequire(import.meta.url)("@cdktf/hcl2json") as {
  convertFiles(directory: string): Promise<ModuleJson>;
  getExpressionAst(filename: string, expression: string): Promise<unknown>;
};

/** The JSON form hcl2json gives a module: block type → labels → list of bodies. */
// biome-ignore lint/suspicious/noExplicitAny: hcl2json's output is untyped JSON
export type ModuleJson = Record<string, any>;

/** A value the evaluator produces: what Terraform values the module's expressions take. */
export type TfValue = string | number | boolean | null | TfValue[] | { [key: string]: TfValue };

interface Ast {
  type: string;
  meta?: { value?: string; name?: string; fullAccessor?: string; operator?: string; type?: string };
  children?: Ast[];
}

/**
 * Parses every `.tf` file of a directory.
 *
 * @example
 * const mod = await loadModule("infra/terraform/modules/tenant");
 * Object.keys(mod.variable); // ["issuer_role_arn", ...]
 */
export async function loadModule(dir: string): Promise<ModuleJson> {
  return convertFiles(dir);
}

/** What a module sees: its directory, its inputs, and values for references outside it. */
export interface Scope {
  dir: string;
  module: ModuleJson;
  /** Input variables by name; a missing one takes the variable's `default`. */
  inputs: Record<string, TfValue>;
  /** Values of data sources and resource attributes, by their full reference (`aws_kms_key.tenant[0].arn`). */
  world: Record<string, TfValue>;
}

/** One `templatefile()` call of the module, rendered. */
export interface RenderedTemplate {
  /** `resource.aws_iam_role.writer.assume_role_policy` */
  address: string;
  /** Path of the template file, resolved. */
  file: string;
  values: Record<string, string>;
  doc: PolicyDocument;
}

/**
 * The value of an attribute as hcl2json gives it (`"${expr}"`, a template
 * string, or a plain literal), evaluated in the scope.
 */
export async function evaluateAttribute(scope: Scope, raw: unknown): Promise<TfValue> {
  if (typeof raw !== "string") return raw as TfValue;
  const whole = /^\$\{([\s\S]*)\}$/.exec(raw);
  if (whole && balanced(whole[1] as string)) return evaluate(scope, await ast(whole[1] as string));
  if (!raw.includes("${")) return raw;
  return evaluate(scope, await ast(`"${raw}"`));
}

/**
 * Finds every `templatefile()` call in the module's resources and renders it
 * with the strict policy renderer (every placeholder needs a value and every
 * value a placeholder, unlike Terraform, which ignores extra values).
 *
 * As Terraform does, a resource whose `count` is 0 is not rendered, and one
 * with `for_each` is rendered once per element, with `each.key` and
 * `each.value` set and the key in its address (`...execute_api["GET"].policy`).
 */
export async function renderTemplateCalls(scope: Scope): Promise<RenderedTemplate[]> {
  const out: RenderedTemplate[] = [];
  for (const [type, byName] of Object.entries(scope.module.resource ?? {}))
    for (const [name, bodies] of Object.entries(byName as Record<string, unknown[]>))
      for (const body of bodies as Array<Record<string, unknown>>)
        for (const [suffix, instance] of await instances(scope, body))
          for (const [address, raw] of attributes(body, `resource.${type}.${name}${suffix}`)) {
            if (typeof raw !== "string" || !raw.includes("templatefile(")) continue;
            out.push(await renderTemplateCall(instance, address, raw));
          }
  return out;
}

/** The scopes a resource block is evaluated in: none for `count = 0`, one per `for_each` element. */
async function instances(
  scope: Scope,
  body: Record<string, unknown>,
): Promise<Array<[string, Scope]>> {
  if ("count" in body) {
    const count = await evaluateAttribute(scope, body.count);
    return count === 0 ? [] : [["", scope]];
  }
  if (!("for_each" in body)) return [["", scope]];
  const each = await evaluateAttribute(scope, body.for_each);
  if (each === null || typeof each !== "object")
    throw new Error("terraform: for_each is neither a set nor a map");
  const entries: Array<[string, TfValue]> = Array.isArray(each)
    ? each.map((v) => [String(v), v])
    : Object.entries(each);
  return entries.map(([key, value]) => [
    `[${JSON.stringify(key)}]`,
    { ...scope, world: { ...scope.world, "each.key": key, "each.value": value } },
  ]);
}

async function renderTemplateCall(
  scope: Scope,
  address: string,
  raw: string,
): Promise<RenderedTemplate> {
  const whole = /^\$\{([\s\S]*)\}$/.exec(raw);
  if (!whole) throw new Error(`terraform: ${address}: templatefile() inside a string template`);
  const root = await ast(whole[1] as string);
  if (root.type !== "function" || root.meta?.name !== "templatefile")
    throw new Error(`terraform: ${address}: templatefile() is not the whole expression`);
  const [pathNode, varsNode] = root.children ?? [];
  const file = resolve(scope.dir, String(await evaluate(scope, pathNode as Ast)));
  const vars = await evaluate(scope, varsNode as Ast);
  if (vars === null || typeof vars !== "object" || Array.isArray(vars))
    throw new Error(`terraform: ${address}: templatefile() variables are not an object`);
  const values = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)]));
  const doc = renderPolicyText(address, await readFile(file, "utf8"), values);
  return { address, file, values, doc };
}

/** Every attribute in a nested hcl2json tree, with a dotted address. */
export function* attributes(node: unknown, address: string): Generator<[string, unknown]> {
  if (Array.isArray(node)) {
    for (const item of node) yield* attributes(item, address);
  } else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) yield* attributes(value, `${address}.${key}`);
  } else {
    yield [address, node];
  }
}

async function ast(expression: string): Promise<Ast> {
  const node = (await getExpressionAst("module.tf", expression)) as Ast | null;
  if (!node) throw new Error(`terraform: cannot parse ${expression}`);
  return node;
}

/** True when `${` ... `}` wraps the whole text, not `${a}-${b}`. */
function balanced(inner: string): boolean {
  let depth = 0;
  for (const c of inner) {
    if (c === "{") depth += 1;
    if (c === "}") depth -= 1;
    if (depth < 0) return false;
  }
  return depth === 0;
}

async function evaluate(scope: Scope, node: Ast): Promise<TfValue> {
  const children = node.children ?? [];
  switch (node.type) {
    case "literalValue":
      return literal(node);
    case "template": {
      const parts = await Promise.all(children.map((c) => evaluate(scope, c)));
      return parts.map(String).join("");
    }
    case "scopeTraversal":
      return reference(scope, node.meta?.fullAccessor ?? node.meta?.value ?? "");
    case "object": {
      // hcl2json gives the items' source text by key; each is parsed on its own.
      const items = (node.meta as { items?: Record<string, string> }).items ?? {};
      const out: Record<string, TfValue> = {};
      for (const [key, source] of Object.entries(items))
        out[key] = await evaluate(scope, await ast(source));
      return out;
    }
    case "conditional": {
      const [cond, yes, no] = children;
      return (await evaluate(scope, cond as Ast)) === true
        ? evaluate(scope, yes as Ast)
        : evaluate(scope, no as Ast);
    }
    case "binaryOp": {
      const [left, right] = await Promise.all(children.map((c) => evaluate(scope, c)));
      const op = /\s(==|!=)\s/.exec(node.meta?.value ?? "")?.[1];
      if (op === "==") return JSON.stringify(left) === JSON.stringify(right);
      if (op === "!=") return JSON.stringify(left) !== JSON.stringify(right);
      throw new Error(`terraform: operator not modelled in ${node.meta?.value}`);
    }
    case "tuple":
      return Promise.all(children.map((c) => evaluate(scope, c)));
    case "function":
      return call(
        node.meta?.name ?? "",
        await Promise.all(children.map((c) => evaluate(scope, c))),
      );
    default:
      throw new Error(`terraform: expression type ${node.type} not modelled: ${node.meta?.value}`);
  }
}

function literal(node: Ast): TfValue {
  const value = node.meta?.value;
  if (node.meta?.type === "string") return value ?? "";
  if (value === "null") return null;
  if (value === "true" || value === "false") return value === "true";
  if (node.meta?.type === "number") return Number(value);
  throw new Error(`terraform: literal not modelled: ${value}`);
}

function call(name: string, args: TfValue[]): TfValue {
  switch (name) {
    case "coalesce":
      return args.find((a) => a !== null && a !== "") ?? null;
    case "join":
      return (args[1] as TfValue[]).map(String).join(String(args[0]));
    case "toset":
      return [...new Set((args[0] as TfValue[]).map((v) => JSON.stringify(v)))].map(
        (v) => JSON.parse(v) as TfValue,
      );
    case "tostring":
      return args[0] === null ? null : String(args[0]);
    default:
      throw new Error(`terraform: function ${name}() not modelled`);
  }
}

async function reference(scope: Scope, accessor: string): Promise<TfValue> {
  if (accessor in scope.world) return scope.world[accessor] as TfValue;
  if (accessor === "path.module") return scope.dir;
  const [head, name, ...rest] = accessor.split(".");
  let value: TfValue;
  if (head === "var" && name !== undefined) {
    const declared = scope.module.variable?.[name]?.[0];
    if (!declared) throw new Error(`terraform: no variable ${name}`);
    value = name in scope.inputs ? (scope.inputs[name] as TfValue) : (declared.default ?? null);
  } else if (head === "local" && name !== undefined) {
    const block = (scope.module.locals ?? []).find((l: object) => name in l);
    if (!block) throw new Error(`terraform: no local ${name}`);
    value = await evaluateAttribute(scope, block[name]);
  } else {
    throw new Error(`terraform: reference ${accessor} is not in the test's world`);
  }
  for (const attr of rest) {
    if (value === null || typeof value !== "object" || Array.isArray(value))
      throw new Error(`terraform: ${accessor}: .${attr} of a non-object`);
    if (!(attr in value)) throw new Error(`terraform: ${accessor}: no attribute ${attr}`);
    value = value[attr] as TfValue;
  }
  return value;
}

/** The directory of a module, from a path relative to the repository root. */
export function repoPath(relative: string): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "../..", relative);
}
