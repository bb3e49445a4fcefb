/**
 * Alert rules: the `alert` block of each site and of `defaults`, as config/ hands them over.
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
  valueAt,
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
export const channelName = z.string({ error: "must be the name of a channel" })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    error: 'must be 1 to 64 letters, digits, ".", "_" or "-"',
  });

const REGIONS_HINT = {
  error: `must be a number of regions from 1 to ${ALERT_DEFAULTS.maxRegions}, or "majority"`,
};

const threshold = z.int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" })
  .max(ALERT_DEFAULTS.maxThreshold, { error: `must be at most ${ALERT_DEFAULTS.maxThreshold}` });

/** The `alert` block of a site or of `defaults`. */
export const alertOptionsSchema = z.strictObject({
  failure_threshold: threshold.describe(
    `Consecutive failed (or slow) checks in a region before it counts as down (or slow) (default ${ALERT_DEFAULTS.failureThreshold})`,
  ).optional(),
  success_threshold: threshold.describe(
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
    .min(2, { error: "must be at least 2: a result may arrive up to an interval late" })
    .max(1_000, { error: "must be at most 1000" }).describe(
      `Intervals without any result after which the site is stale (default ${ALERT_DEFAULTS.staleAfterIntervals})`,
    ).optional(),
  channels: z.array(channelName, { error: "must be a list of channel names" })
    .describe("The channels (from the top-level channels map) notified of this site's incidents")
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
 * A site's alert rule (its own keys, then `defaults.alert`, then built-ins), reporting a channel
 * the `channels` map lacks (unless `channelNames` is `undefined`: the sites topic) and a response
 * time no check could exceed (unless `timeoutShown` is `null`: the timeout has a problem).
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
    readonly timeoutShown?: string | null;
  },
  report: Report,
): AlertRule {
  const shown = site.shown ?? ((_path: KeyPath, used: string) => used);
  const own = written.site ?? {};
  const options = { ...written.defaults, ...own };
  const at = (key: keyof AlertOptions): KeyPath =>
    own[key] !== undefined ? [...written.siteAt, key] : ["defaults", "alert", key];
  const channels = options.channels ?? [];
  channels.forEach((name, index) => {
    if (site.channelNames?.has(name) === false) {
      const path = [...at("channels"), index];
      report(path, `names no channel: "${shown(path, name)}" is not in the channels map`);
    }
  });
  const responseTimeMs = parseDurationMs(options.response_time ?? "") ?? null;
  if (responseTimeMs !== null && site.timeoutShown !== null && responseTimeMs >= site.timeoutMs) {
    report(
      at("response_time"),
      `${shown(at("response_time"), options.response_time!)} is not shorter than the timeout ${
        site.timeoutShown ?? formatDuration(site.timeoutMs)
      }: a check that slow fails instead`,
    );
  }
  return {
    failureThreshold: options.failure_threshold ?? ALERT_DEFAULTS.failureThreshold,
    successThreshold: options.success_threshold ?? ALERT_DEFAULTS.successThreshold,
    regions: options.regions ?? ALERT_DEFAULTS.regions,
    responseTimeMs,
    staleAfterMs: (options.stale_after ?? ALERT_DEFAULTS.staleAfterIntervals) * site.intervalMs,
    channels,
  };
}

/** Each site's alert rule, by its index in the file; every problem is reported at its key path. */
export function readAlertRules(
  data: { readonly defaults?: unknown; readonly sites?: unknown },
  sites: readonly BuiltSite[],
  context: ProblemContext & { readonly channelNames?: ReadonlySet<string> | undefined },
): Map<number, AlertRule> {
  // `undefined`: no block; `null`: a block with a problem.
  const parse = (at: KeyPath): AlertOptions | undefined | null => {
    const parsed = alertOptionsSchema.optional().safeParse(valueAt(data, at));
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues.map((issue) => ({ ...issue, path: [...at, ...issue.path] }));
    reportIssues(issues, context);
    return null;
  };
  const defaults = parse(["defaults", "alert"]);
  const blocks = Array.isArray(data.sites)
    ? data.sites.map((_site, index) => parse(["sites", index, "alert"]))
    : [];
  return new Map(sites.map(({ index, site, timeoutShown }) => {
    const own = blocks[index];
    const siteAt: KeyPath = ["sites", index, "alert"];
    // A block with a problem has no known value, and its default would make up problems.
    const known = own !== null && (own !== undefined || defaults !== null);
    const rule = resolveAlertRule(
      known ? { defaults: defaults ?? undefined, site: own, siteAt } : { siteAt },
      {
        ...site,
        timeoutShown,
        channelNames: context.channelNames,
        shown: (path, used) => shownValue(context.written, path, used),
      },
      context.report,
    );
    return [index, rule];
  }));
}
