/**
 * The configuration reference, rendered from the parts' catalogues: each
 * variable once, under the part that reads it, or under "Shared" with the
 * parts that read it when several do. `npm run docs:config` writes it to
 * `docs/configuration.md`.
 */
import { formatDuration } from "./duration.ts";
import { ConfigSchemaError, ConfigSchemaReason } from "./errors.ts";
import { type Catalogue, defaultText, expectedText, type VariableSpec } from "./schema.ts";

/**
 * The Markdown reference of `catalogues`, in their order.
 *
 * @param command the command that regenerates the file, named in its header.
 * @throws {ConfigSchemaError} when two parts declare one name differently.
 * @example
 * writeFileSync("docs/configuration.md", renderReference([ISSUER_CATALOGUE, AGENT_CATALOGUE], "npm run docs:config"));
 */
export function renderReference(catalogues: readonly Catalogue[], command: string): string {
  const readers = new Map<string, { spec: VariableSpec; parts: string[] }>();
  for (const catalogue of catalogues) {
    for (const spec of catalogue.variables) {
      const seen = readers.get(spec.name);
      if (seen === undefined) readers.set(spec.name, { spec, parts: [catalogue.part] });
      else if (seen.spec !== spec)
        throw new ConfigSchemaError(
          ConfigSchemaReason.CONFLICT,
          `${spec.name} in ${seen.parts.join(", ")} and ${catalogue.part}`,
        );
      else seen.parts.push(catalogue.part);
    }
  }
  const shared = [...readers.values()].filter((r) => r.parts.length > 1);
  const out = [
    "# Configuration reference",
    "",
    `<!-- Generated from the parts' configuration catalogues by \`${command}\`; do not edit. -->`,
    "",
    "Every part reads its settings from environment variables, validated once at start: a bad",
    'value stops the part with `config: <VARIABLE> is "<value>"; expected <accepts>` (secret',
    "values are never shown). An unset or blank variable takes its default. Durations are whole",
    "numbers with units `ms`, `s`, `m`, `h`, `d`, combined as in `1h30m`. AWS endpoints, Region",
    "and credentials come from the AWS SDK's standard variables (`AWS_REGION`, `AWS_ENDPOINT_URL`,",
    "profiles, the Lambda role), not from these.",
    "",
    "Parts: " +
      catalogues.map((c) => `[${c.part}](#${c.part.replaceAll(" ", "-")})`).join(", ") +
      (shared.length > 0 ? ", [shared](#shared)" : ""),
  ];
  for (const catalogue of catalogues) {
    const own = catalogue.variables.filter((s) => readers.get(s.name)?.parts.length === 1);
    const common = catalogue.variables.filter((s) => !own.includes(s));
    out.push("", `## ${catalogue.part}`, "", `${catalogue.title}.`);
    if (own.length > 0) out.push("", ...table(own));
    if (common.length > 0)
      out.push(
        "",
        `${own.length > 0 ? "Also reads" : "Reads"} the [shared](#shared) ${common.map((s) => `\`${s.name}\``).join(", ")}.`,
      );
  }
  if (shared.length > 0) {
    out.push("", "## shared", "", "Read by more than one part, by one declaration.", "");
    out.push(
      ...table(
        shared.map((r) => r.spec),
        (s) => readers.get(s.name)?.parts ?? [],
      ),
    );
  }
  return `${out.join("\n")}\n`;
}

function table(specs: readonly VariableSpec[], readBy?: (s: VariableSpec) => string[]): string[] {
  const head = [
    "variable",
    "type",
    "default",
    "accepts",
    "meaning",
    ...(readBy ? ["read by"] : []),
  ];
  const rows = specs.map((s) => [
    `\`${s.name}\``,
    typeText(s),
    defaultCell(s),
    acceptsCell(s),
    s.description.replaceAll("|", "\\|"),
    ...(readBy ? [readBy(s).join(", ")] : []),
  ]);
  return [head, head.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`);
}

function typeText(spec: VariableSpec): string {
  switch (spec.kind) {
    case "required":
      return "string, required";
    case "oneOf":
      return "one of";
    default:
      return spec.kind;
  }
}

/** Numeric ranges from the declared bounds; for the others, the declared form. */
function acceptsCell(spec: VariableSpec): string {
  switch (spec.kind) {
    case "integer":
    case "number":
      return `${spec.min} to ${spec.max}`;
    case "duration": {
      const max = typeof spec.max === "number" ? formatDuration(spec.max) : spec.max.derived;
      return `${formatDuration(spec.min)} to ${max}`;
    }
    case "oneOf":
      return spec.allowed.map((a) => `\`${a}\``).join(", ");
    default:
      return plain(expectedText(spec));
  }
}

/** A literal default in a code span; `required`, derived and unset ones in words. */
function defaultCell(spec: VariableSpec): string {
  const text = defaultText(spec);
  const literal =
    spec.kind !== "required" &&
    !(spec.kind === "string" && spec.default === undefined) &&
    !((spec.kind === "integer" || spec.kind === "duration") && typeof spec.default !== "number");
  return literal ? `\`${text}\`` : text.replaceAll("|", "\\|");
}

/** Text written for messages, not Markdown: its punctuation shown as typed. */
function plain(text: string): string {
  return text.replace(/[\\|<>*_[\]`]/g, (c) => `\\${c}`);
}
