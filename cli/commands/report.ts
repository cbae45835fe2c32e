/**
 * `lambda-svid report --html FILE`: reads the fleet as `status` does and
 * writes the self-contained HTML page `cli/report` renders (no network
 * fetches; open it from the file).
 */
import { writeFile } from "node:fs/promises";
import { Command } from "commander";
import { CliError, CliReason } from "../errors.ts";
import { EXIT_CODES_HELP, ExitCode } from "../exit.ts";
import { loadFleetConfig, readFleet, readThresholds } from "../fleet/index.ts";
import { renderFleetReport } from "../report/index.ts";
import { guarded, type Io } from "./io.ts";

async function report(io: Io, file: string): Promise<void> {
  const config = loadFleetConfig(io.env);
  const thresholds = readThresholds(io.env, config, io.now());
  const fleet = await readFleet(config);
  const html = renderFleetReport(fleet.rows, thresholds);
  await writeFile(file, html).catch((err: unknown) => {
    throw new CliError(
      CliReason.REPORT_UNWRITABLE,
      `${JSON.stringify(file)}: ${err instanceof Error ? err.message : String(err)}`,
    );
  });
  io.out.write(
    `wrote ${file}: ${fleet.rows.length} identities from ${fleet.source}, ${html.length} bytes\n`,
  );
  io.exit(ExitCode.OK);
}

/**
 * The `report` command.
 *
 * @example
 * program.addCommand(reportCommand(io));
 */
export function reportCommand(io: Io): Command {
  return new Command("report")
    .summary("write the fleet as a self-contained HTML page")
    .description(
      "Write the fleet as one self-contained HTML page: every identity's validity window on a timeline with now and the renewal threshold marked, failures highlighted, filterable by account, service and environment.",
    )
    .requiredOption("--html <file>", "where to write the page")
    .addHelpText(
      "after",
      `
Examples:
  $ lambda-svid report --html fleet.html && xdg-open fleet.html
  $ lambda-svid --local report --html /tmp/local-fleet.html

Reads the fleet exactly as status does (state table, or secret metadata).
${EXIT_CODES_HELP}`,
    )
    .action((opts: { html: string }) => guarded(io, "report", () => report(io, opts.html)));
}
