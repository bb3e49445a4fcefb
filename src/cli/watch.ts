/**
 * `monitor watch`: the check results on the topic, live: in a terminal an interactive table (ink),
 * a row per site and region; otherwise, or with `--plain` / `--json`, one line per check.
 *
 * @module
 */
import type { CheckResult } from "../check/result.ts";
import { REGION_PATTERN } from "../config/settings_schema.ts";
import { UsageError } from "../errors.ts";
import { createKafka } from "../kafka/client.ts";
import { SILENT } from "../log.ts";
import type { WatchSource } from "../watch/app.tsx";
import { connectDatabase, type Sql } from "../db/client.ts";
import { openIncidents } from "../db/alerts.ts";
import { kafkaTail } from "../watch/source.ts";
import { recentCheckIds } from "../watch/seen.ts";
import { keepsRegion } from "../watch/table.ts";
import { jsonLine, printable } from "../text.ts";
import { type CliContext, prepare, whenAborted } from "./context.ts";

/**
 * Runs `monitor watch` until `q`, Ctrl-C or the context's signal; a {@link UsageError} when
 * `--minutes` is not a positive number or a `--region` no region's name.
 */
export async function watchCommand(
  options: {
    readonly minutes: string;
    readonly plain?: boolean;
    readonly json?: boolean;
    readonly region?: readonly string[];
  },
  context: CliContext,
): Promise<void> {
  const minutes = Number(options.minutes);
  if (!(minutes > 0)) {
    throw new UsageError(
      `--minutes must be a positive number: current value is "${options.minutes}"`,
    );
  }
  const windowMs = minutes * 60_000;
  const regions = regionsOf(options.region ?? []);
  const { settings, log } = prepare(context);
  const terminal = Deno.stdout.isTerminal() && Deno.stdin.isTerminal();
  const interactive = terminal && !options.plain && !options.json;
  // The Kafka client's own lines would tear the interactive screen; its footer tells its state.
  const kafka = createKafka(settings.kafka, interactive ? SILENT : log);
  const source = kafkaTail({ kafka, topic: settings.kafka.topic, backfillMs: windowMs });

  if (interactive) {
    // React reads NODE_ENV as it loads: unset means its development build, twice as slow a frame.
    if (Deno.env.get("NODE_ENV") === undefined) Deno.env.set("NODE_ENV", "production");
    const [{ render }, { createElement }, { WatchApp }] = await Promise.all([
      import("ink"),
      import("react"),
      import("../watch/app.tsx"),
    ]);
    // With a database (DATABASE_URL set), the alerter's open incidents show above the footer.
    const sql = context.env.DATABASE_URL === undefined
      ? undefined
      : connectDatabase(settings.database);
    const app = render(
      createElement(WatchApp, {
        source: sql === undefined ? source : withIncidents(source, sql),
        windowMs,
        regions,
        broker: settings.kafka.brokers.join(","),
        topic: settings.kafka.topic,
      }),
      // Interactive as stdin and stdout are a terminal, whatever ink guesses from a CI variable.
      { maxFps: 10, alternateScreen: true, exitOnCtrlC: true, interactive: true },
    );
    await Promise.race([app.waitUntilExit(), whenAborted(context.signal)]);
    app.unmount();
    await sql?.end({ timeout: 5 });
    return;
  }

  // A check the topic holds twice (Kafka is at least once) is printed once.
  const seen = recentCheckIds();
  const stop = source.subscribe((event) => {
    if (event.type === "results") {
      for (const result of event.results) {
        if (!keepsRegion(regions, result.region) || seen(result.checkId)) continue;
        context.writeOut(`${options.json ? jsonLine(result) : plainLine(result)}\n`);
      }
    } else if (event.type === "connection" && event.connection.state === "failed") {
      log.warn(`${event.connection.message}; trying again`, {
        retryInMs: event.connection.retryInMs,
      });
    } else if (event.type === "connection" && event.connection.state === "connected") {
      log.info("watching", { topic: settings.kafka.topic, minutes });
    }
  });
  await whenAborted(context.signal);
  stop();
}

const INCIDENTS_EVERY_MS = 5_000;

/** `source`, and the open incidents read every few seconds (none from a database it cannot read). */
function withIncidents(source: WatchSource, sql: Sql): WatchSource {
  return {
    subscribe(dispatch) {
      let stopped = false;
      const read = () =>
        openIncidents(sql, 20).then((rows) => {
          if (stopped) return;
          const incidents = rows.map(({ openedAt, ...row }) => ({
            ...row,
            openedAtMs: openedAt.getTime(),
          }));
          dispatch({ type: "incidents", incidents });
        }, () => {});
      read();
      const timer = setInterval(read, INCIDENTS_EVERY_MS);
      const stop = source.subscribe(dispatch);
      return () => {
        stopped = true;
        clearInterval(timer);
        stop();
      };
    },
  };
}

/** The regions of `--region eu --region us,ap`, each checked and listed once. */
function regionsOf(given: readonly string[]): string[] {
  const regions = given.flatMap((text) => text.split(",")).map((name) => name.trim());
  for (const region of regions) {
    if (!REGION_PATTERN.test(region)) {
      throw new UsageError(
        `--region must be a region's name (1 to 63 letters, digits, ".", "_" or "-", from a letter or digit; a comma between two): current value is "${region}"`,
      );
    }
  }
  return [...new Set(regions)];
}

/** `2026-11-25T10:00:00.000Z  UP    home  eu  200  123ms  …` */
function plainLine(result: CheckResult): string {
  return [
    result.checkedAt,
    result.up ? "UP  " : "DOWN",
    result.siteId,
    result.region,
    String(result.statusCode ?? "-"),
    result.responseTimeMs === null ? "-" : `${Math.round(result.responseTimeMs)}ms`,
    ...(result.patternMatched === null ? [] : [result.patternMatched ? "match" : "MISSING"]),
    ...(result.error === null ? [] : [`${result.error.kind}: ${result.error.message}`]),
  ].map(printable).join("  ");
}
