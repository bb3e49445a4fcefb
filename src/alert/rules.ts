/**
 * Alert rules: the `alert` block of each site and of `defaults`, as the sites file holds them.
 * config/ hands the blocks over as written; {@link readAlertRules} parses them, applies the
 * defaults and checks the rules across fields.
 *
 * @module
 */
import { z } from "zod";
import { durationSchema, formatDuration, parseDurationMs } from "../config/duration.ts";
import type { BuiltSite } from "../config/sites.ts";
import {
  type ProblemContext,
  type Report,
  reportIssues,
  shownValue,
} from "../config/sites_problems.ts";
import type { KeyPath } from "../config/yaml_source.ts";

/** What `alert` keys default to, and their bounds. */
export const ALERT_DEFAULTS = {
  failureThreshold: 3,
  successThreshold: 2,
  regions: 1,
  staleAfterIntervals: 3,
  maxThreshold: 100,
  maxRegions: 100,
} as const;

/** A channel's name: its key in the `channels` map. */
export const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** What {@link CHANNEL_NAME} allows, for messages. */
export const CHANNEL_NAME_HINT = 'must be 1 to 64 letters, digits, ".", "_" or "-"';

const REGIONS_HINT = {
  error: `must be a number of regions from 1 to ${ALERT_DEFAULTS.maxRegions}, or "majority"`,
};

function threshold(what: string) {
  return z.int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" })
    .max(ALERT_DEFAULTS.maxThreshold, {
      error: `must be at most ${ALERT_DEFAULTS.maxThreshold}`,
    }).describe(what);
}

/** The `alert` block of a site or of `defaults`. */
export const alertOptionsSchema = z.strictObject({
  failure_threshold: threshold(
    `Consecutive failed (or slow) checks in a region before it counts as down (or slow) (default ${ALERT_DEFAULTS.failureThreshold})`,
  ).optional(),
  success_threshold: threshold(
    `Consecutive good checks in a region before it counts as up again (default ${ALERT_DEFAULTS.successThreshold})`,
  ).optional(),
  // Each alternative says it all: the sites file reports the one of the value's type.
  regions: z.union([
    z.int(REGIONS_HINT).min(1, REGIONS_HINT).max(ALERT_DEFAULTS.maxRegions, REGIONS_HINT),
    z.literal("majority", REGIONS_HINT),
  ], REGIONS_HINT).describe(
    'How many of the regions reporting must see the site down (or slow) to open an incident, or "majority" (default 1)',
  ).optional(),
  response_time: durationSchema(1, 24 * 3_600_000).describe(
    "Checks slower than this count as slow: enough of them in a row open a degraded incident",
  ).optional(),
  stale_after: z.int({ error: "must be a whole number of intervals" })
    // One interval would be too tight: a check arrives up to its timeout after it is due.
    .min(2, { error: "must be at least 2: a result may arrive up to an interval late" })
    .max(1_000, { error: "must be at most 1000" }).describe(
      `Intervals without any result after which the site is stale (default ${ALERT_DEFAULTS.staleAfterIntervals})`,
    ).optional(),
  channels: z.array(
    z.string({ error: "must be the name of a channel" }).regex(CHANNEL_NAME, {
      error: CHANNEL_NAME_HINT,
    }),
    { error: "must be a list of channel names" },
  ).describe("The channels (from the top-level channels map) notified of this site's incidents")
    .optional(),
}).describe("When an incident opens and resolves, and whom it notifies");

type AlertOptions = z.infer<typeof alertOptionsSchema>;

/** A site's alert rule, defaults applied: what the incident state machine runs on. */
export interface AlertRule {
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly regions: number | "majority";
  /** Checks slower than this are slow; `null`: no check is. */
  readonly responseTimeMs: number | null;
  /** No result for this long and the site is stale; also how long a region counts as reporting. */
  readonly staleAfterMs: number;
  readonly channels: readonly string[];
}

/**
 * A site's alert rule: the site's `alert` keys, then those of `defaults.alert`, then the built-in
 * defaults. Reports a channel that the `channels` map lacks and a response time that no check
 * could exceed.
 *
 * @param site `channelNames` is `undefined` where the map is not at hand (the sites topic); `shown`
 *   tells how a message shows a value (as written when it came from a `${NAME}` reference).
 */
export function resolveAlertRule(
  written: {
    readonly defaults?: AlertOptions | undefined;
    readonly site?: AlertOptions | undefined;
    readonly siteAt: KeyPath;
  },
  site: {
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly channelNames?: ReadonlySet<string> | undefined;
    readonly shown?: (path: KeyPath, used: string) => string;
    readonly timeoutShown?: string;
  },
  report: Report,
): AlertRule {
  const shown = site.shown ?? ((_path: KeyPath, used: string) => used);
  const defaults = written.defaults ?? {};
  const own = written.site ?? {};
  const at = (key: keyof AlertOptions): KeyPath =>
    own[key] !== undefined ? [...written.siteAt, key] : ["defaults", "alert", key];

  const channels = own.channels ?? defaults.channels ?? [];
  channels.forEach((name, index) => {
    if (site.channelNames?.has(name) === false) {
      const path = [...at("channels"), index];
      report(path, `names no channel: "${shown(path, name)}" is not in the channels map`);
    }
  });
  const responseTime = own.response_time ?? defaults.response_time;
  const responseTimeMs = responseTime === undefined ? null : parseDurationMs(responseTime) ?? null;
  if (responseTimeMs !== null && responseTimeMs >= site.timeoutMs) {
    report(
      at("response_time"),
      `${shown(at("response_time"), responseTime!)} is not shorter than the timeout ${
        site.timeoutShown ?? formatDuration(site.timeoutMs)
      }: a check that slow fails instead`,
    );
  }
  const staleAfter = own.stale_after ?? defaults.stale_after ?? ALERT_DEFAULTS.staleAfterIntervals;
  return {
    failureThreshold: own.failure_threshold ?? defaults.failure_threshold ??
      ALERT_DEFAULTS.failureThreshold,
    successThreshold: own.success_threshold ?? defaults.success_threshold ??
      ALERT_DEFAULTS.successThreshold,
    regions: own.regions ?? defaults.regions ?? ALERT_DEFAULTS.regions,
    responseTimeMs,
    staleAfterMs: staleAfter * site.intervalMs,
    channels,
  };
}

/**
 * The alert rule of each site of a sites file, by its index in the file; every problem of the
 * blocks is reported at its key path.
 */
export function readAlertRules(
  data: { readonly defaults?: unknown; readonly sites?: unknown },
  sites: readonly BuiltSite[],
  context: ProblemContext & { readonly channelNames?: ReadonlySet<string> | undefined },
): Map<number, AlertRule> {
  // `undefined`: no block; `null`: a block with a problem.
  const parse = (entry: unknown, at: KeyPath): AlertOptions | undefined | null => {
    const block = entry !== null && typeof entry === "object"
      ? (entry as { readonly alert?: unknown }).alert
      : undefined;
    const parsed = alertOptionsSchema.optional().safeParse(block);
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues.map((issue) => ({ ...issue, path: [...at, ...issue.path] }));
    reportIssues(issues, context);
    return null;
  };
  const defaults = parse(data.defaults, ["defaults", "alert"]);
  const blocks = Array.isArray(data.sites)
    ? data.sites.map((site, index) => parse(site, ["sites", index, "alert"]))
    : [];
  return new Map(sites.map(({ index, site, timeoutShown }) => {
    const own = blocks[index];
    const siteAt: KeyPath = ["sites", index, "alert"];
    // A block with a problem has no known value, and its default would make up problems.
    const known = own !== null && (own !== undefined || defaults !== null);
    const rule = resolveAlertRule(
      known ? { defaults: defaults ?? undefined, site: own, siteAt } : { siteAt },
      {
        intervalMs: site.intervalMs,
        // (An unknown timeout: no response time is compared with it.)
        timeoutMs: timeoutShown === null ? Infinity : site.timeoutMs,
        channelNames: context.channelNames,
        shown: (path, used) => shownValue(context.written, path, used),
        ...(timeoutShown === null ? {} : { timeoutShown }),
      },
      context.report,
    );
    return [index, rule];
  }));
}
