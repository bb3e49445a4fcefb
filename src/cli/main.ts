/**
 * The `monitor` command line: parses an explicit argument list, runs one subcommand, and turns
 * errors into exit codes: 0 success, 1 a service or a bug, 2 a user's mistake.
 *
 * @module
 */
import { Command, CommanderError } from "commander";
import { ConfigError, ServiceError, UsageError } from "../errors.ts";
import { VERSION } from "../version.ts";
import type { CliContext } from "./context.ts";

/** Runs the command line on `args` (after the program name) and returns the exit code. */
export async function runMonitor(args: readonly string[], context: CliContext): Promise<number> {
  try {
    await buildProgram(context).parseAsync([...args], { from: "user" });
    return 0;
  } catch (error) {
    return report(error, context);
  }
}

function buildProgram(outside: CliContext): Command {
  // Set before any subcommand is added, so that each one inherits the exit override and output.
  const program = new Command("monitor")
    .description("Checks websites, publishes the results to Kafka and stores them in PostgreSQL.")
    .version(VERSION)
    .option("--log-format <format>", "log lines as text or json (LOG_FORMAT)")
    .option("--metrics-port <port>", "serve /metrics and /healthz on this port (METRICS_PORT)")
    .exitOverride()
    .showHelpAfterError('(run "monitor --help" for usage)')
    .configureOutput({ writeOut: outside.writeOut, writeErr: outside.writeErr });
  const env = { ...outside.env };
  const context: CliContext = { ...outside, env };
  program.hook("preAction", () => {
    const flags: { logFormat?: string; metricsPort?: string } = program.opts();
    if (flags.logFormat !== undefined) env.LOG_FORMAT = flags.logFormat;
    if (flags.metricsPort !== undefined) env.METRICS_PORT = flags.metricsPort;
  });
  const configOption = ["-c, --config <file>", "the sites file (YAML)"] as const;
  // Each command passes its options as parsed to its module, loaded when it runs (the Kafka client
  // alone takes half a second) by a literal specifier, so that a compiled binary carries it.
  program.command("produce")
    .description("check every site on its interval and publish each result to Kafka")
    .option(
      "-c, --config <file>",
      "the sites file (YAML); without it, the sites topic's sites, shared with the region's other checkers",
    )
    .option("--region <name>", "the region checked from (MONITOR_REGION)")
    .option("--once", "check every site once, publish, and exit")
    .action(async (options) => (await import("./produce.ts")).produceCommand(options, context));
  program.command("alert")
    .description("turn failing checks into incidents and notify the sites' channels")
    .requiredOption(...configOption)
    .action(async (options) => (await import("./alert.ts")).alertCommand(options, context));
  program.command("consume")
    .description("store the results from Kafka in PostgreSQL (consumer group KAFKA_GROUP_ID)")
    .action(async () => (await import("./consume.ts")).consumeCommand(context));
  program.command("migrate")
    .description("apply the database migrations that are not applied yet")
    .action(async () => (await import("./migrate.ts")).migrateCommand(context));
  program.command("prune")
    .description(
      "drop stored checks and rollups older than RETAIN_CHECKS_DAYS / RETAIN_ROLLUPS_DAYS",
    )
    .action(async () => (await import("./prune.ts")).pruneCommand(context));
  program.command("run")
    .description("migrate, then produce and consume in one process")
    .requiredOption(...configOption)
    .action(async (options) => (await import("./run.ts")).runCommand(options, context));
  program.command("serve")
    .description(
      "serve the status page, badges and JSON API on SERVE_ADDRESS:SERVE_PORT (read-only)",
    )
    .action(async () => (await import("./serve.ts")).serveCommand(context));
  program.command("schema")
    .description("print the JSON Schemas of the message format and the sites file")
    .option("--write <dir>", "write them as files into this directory")
    .action(async (options) => (await import("./schema.ts")).schemaCommand(options, context));
  program.command("watch")
    .description(
      "show the check results on the topic live (a table in a terminal, lines otherwise)",
    )
    .option("-m, --minutes <n>", "show the last n minutes at start; p95 and uptime over them", "15")
    .option("--plain", "print one line per check, even in a terminal")
    .option("--json", "print each check as a JSON line")
    .option(
      "--region <names>",
      "show only the checks from these regions (repeatable, or a comma list)",
      (name: string, names: string[]) => [...names, name],
      [] as string[],
    )
    .action(async (options) => (await import("./watch.ts")).watchCommand(options, context));
  const sites = program.command("sites")
    .description("the sites topic (KAFKA_SITES_TOPIC): configuration as code");
  sites.command("apply")
    .description("validate a sites file, print how the topic differs, publish the difference")
    .argument("<file>", "the sites file (YAML)")
    .option("--dry-run", "print the difference, publish nothing")
    .action(async (file: string, options) =>
      (await import("./sites.ts")).sitesApplyCommand({ file, ...options }, context)
    );
  sites.command("list")
    .description("print the sites on the topic: id and URL, or each message as JSON")
    .option("--json", "print each site's message as a JSON line")
    .action(async (options) => (await import("./sites.ts")).sitesListCommand(options, context));
  program.command("settings")
    .description("print the effective settings (environment and defaults), passwords masked")
    .action(async () => (await import("./settings.ts")).settingsCommand(context));
  return program;
}

function report(error: unknown, context: CliContext): number {
  if (error instanceof CommanderError) {
    // Help and version "errors" are successes, already printed.
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof ConfigError) {
    const count = error.problems.length;
    context.writeErr(
      `${error.message}\n${count} problem${count === 1 ? "" : "s"} found; nothing was started\n`,
    );
    return 2;
  }
  if (error instanceof UsageError || error instanceof ServiceError) {
    context.writeErr(`${error.message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
  // The reader went away (`monitor schema | head`): nothing more to say, to no one.
  if (error instanceof Deno.errors.BrokenPipe) return 0;
  const detail = error instanceof Error ? error.stack ?? error.message : String(error);
  // A bug's report, with the user part of any URI masked, so that it can be pasted into an issue.
  const masked = detail.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s'"`]*@/gi, "$1***@");
  context.writeErr(`Unexpected error (a bug; please report it): ${masked}\n`);
  return 1;
}
