/**
 * The screen of `monitor watch`, as ink components that render what they are given: the table
 * (only the rows on screen derived and drawn, columns dropped, least useful first, as the terminal
 * narrows), the detail pane of one row, and the footer with the keys and the feed's health.
 *
 * @module
 */
import { printable } from "../text.ts";
import { Box, Text } from "ink";
import { Detail } from "./detail.tsx";
import {
  duration,
  MARKS,
  milliseconds,
  pad,
  patternText,
  sparkline,
  statusText,
} from "./format.ts";
import { otherRegions, type Row, rowOf, windowOf } from "./rows.ts";
import { displayed, selectedSite, type WatchState } from "./state.ts";

/** What the view draws. */
export interface WatchViewProps {
  readonly state: WatchState;
  readonly width: number;
  readonly height: number;
  readonly broker: string;
  readonly topic: string;
}

interface Column {
  readonly title: string;
  readonly width: number;
  readonly cell: (row: Row, nowMs: number) => string;
  readonly right?: boolean;
  /** When the terminal is too narrow, columns go in this order (lowest first); never if unset. */
  readonly drop?: number;
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

// In display order.
const COLUMNS: readonly Column[] = [
  { title: "code", width: 5, cell: (r) => String(r.last.statusCode ?? "-"), right: true, drop: 5 },
  { title: "last", width: 8, cell: (r) => milliseconds(r.last.responseTimeMs), right: true },
  { title: "uptime", width: 8, cell: (r) => percent(r.uptime), right: true, drop: 4 },
  { title: "p95", width: 8, cell: (r) => milliseconds(r.p95Ms), right: true, drop: 3 },
  { title: "recent", width: 21, cell: (r) => sparkline(r.responseTimes, 20), drop: 0 },
  { title: "pattern", width: 8, cell: (r) => patternText(r.last.patternMatched), drop: 1 },
  { title: "error", width: 19, cell: (r) => r.last.errorKind ?? "", drop: 2 },
  { title: "age", width: 6, cell: (r, nowMs) => duration(nowMs - r.last.checkedAtMs), right: true },
];
const STATUS_WIDTH = 8;
const MIN_NAME = 12;
/** The region column: its title's width, and the most a long region's name may take. */
const REGION_WIDTH = { min: 7, max: 12 };

/**
 * The columns that fit `width`, in display order, and the width left for the site's name, beside
 * a region column of `regionWidth` (0 when there is none).
 */
function layout(width: number, regionWidth: number): { columns: Column[]; nameWidth: number } {
  let columns = [...COLUMNS];
  const used = () => STATUS_WIDTH + regionWidth + columns.reduce((sum, c) => sum + c.width, 0);
  const droppable = COLUMNS.filter((c) => c.drop !== undefined).sort((a, b) => a.drop! - b.drop!);
  for (const column of droppable) {
    if (width - used() >= MIN_NAME) break;
    columns = columns.filter((c) => c !== column);
  }
  return { columns, nameWidth: Math.max(MIN_NAME, width - used()) };
}

/**
 * @returns How many rows of the table a screen `height` lines high shows (what Page Up and Page
 *   Down move by), a line going to the filter while there is one.
 */
export function tableRoom(state: WatchState, height: number): number {
  // The header and the footer's lines.
  return Math.max(1, height - 1 - footerLines(state) - (hasFilterLine(state) ? 1 : 0));
}

function hasFilterLine(state: WatchState): boolean {
  return state.editingFilter || state.filter !== "";
}

/** The footer's lines: keys and status, and the open incidents when there are any. */
function footerLines(state: WatchState): number {
  return state.incidents.length > 0 ? 3 : 2;
}

/** The whole screen. */
export function WatchView(props: WatchViewProps) {
  const { state, width, height } = props;
  const site = state.detail ? selectedSite(state) : undefined;
  return (
    <Box flexDirection="column" width={width}>
      {site !== undefined
        ? (
          <Detail
            site={site}
            row={rowOf(site, state)}
            others={otherRegions(state, site)}
            nowMs={state.nowMs}
            height={height - footerLines(state)}
            width={width}
          />
        )
        : <Table {...props} />}
      <Footer {...props} />
    </Box>
  );
}

function Table(props: WatchViewProps) {
  const { state, width, height } = props;
  const nowMs = state.nowMs;
  const { regions } = displayed(state);
  // A region column once results come from more than one: with one, every row would say it.
  const regionWidth = regions.length < 2 ? 0 : Math.min(
    REGION_WIDTH.max,
    Math.max(REGION_WIDTH.min, ...regions.map((r) => r.length + 1)),
  );
  const { columns, nameWidth } = layout(width, regionWidth);
  const { rows, total } = windowOf(state, tableRoom(state, height));
  return (
    <Box flexDirection="column" height={height - footerLines(state)}>
      <Text bold wrap="truncate">
        {pad("status", STATUS_WIDTH)}
        {pad("site", nameWidth)}
        {regionWidth > 0 && pad("region", regionWidth)}
        {columns.map((c) => pad(c.title, c.width, c.right)).join("")}
      </Text>
      {hasFilterLine(state) && (
        <Text color="cyan" wrap="truncate">
          filter: {state.filter}
          {state.editingFilter ? "▏ (Enter to keep, Esc to close)" : "  (Esc clears)"}
        </Text>
      )}
      {total === 0 && <Text dimColor>{emptyText(state)}</Text>}
      {rows.map((row: Row) => {
        const mark = MARKS[row.status];
        const isSelected = row.key === state.selected;
        return (
          <Text key={row.key} inverse={isSelected} wrap="truncate">
            <Text color={mark.color}>{pad(statusText(row.status), STATUS_WIDTH)}</Text>
            {pad(row.siteName, nameWidth)}
            {regionWidth > 0 && pad(row.region, regionWidth)}
            {columns.map((c) => pad(c.cell(row, nowMs), c.width, c.right)).join("")}
          </Text>
        );
      })}
    </Box>
  );
}

/** What the table says when it has no rows. */
function emptyText(state: WatchState): string {
  if (state.filter !== "") return `No site matches "${state.filter}"`;
  const from = state.regions.length === 0
    ? ""
    : ` from region${state.regions.length === 1 ? "" : "s"} ${state.regions.join(", ")}`;
  return `Waiting for check results${from} on the topic…`;
}

function Footer(props: WatchViewProps) {
  const { state } = props;
  const connection = state.connection;
  const table = displayed(state);
  // One region: a row is a site. Several: rows (as filtered), sites and regions (all).
  const counts = table.regions.length < 2
    ? `${table.shown.length} sites`
    : `${table.shown.length} rows · ${table.siteIds.size} sites · ${table.regions.length} regions`;
  return (
    <Box flexDirection="column">
      {state.incidents.length > 0 && (
        <Text color="red" wrap="truncate">
          {state.incidents.length} open incident{state.incidents.length === 1 ? "" : "s"}:{" "}
          {state.incidents.map((i) =>
            `${printable(i.siteName)} ${i.kind} ${duration(state.nowMs - i.openedAtMs)}${
              i.regions.length === 0 ? "" : ` (${i.regions.map(printable).join(", ")})`
            }`
          ).join(" · ")}
        </Text>
      )}
      <Text dimColor wrap="truncate">
        q quit · ↑↓ select · Enter details · / filter · s sort: {state.sort} · p{" "}
        {state.frozen === null ? "pause" : "resume"}
      </Text>
      <Text wrap="truncate">
        {state.frozen !== null && <Text color="yellow" bold>PAUSED ·</Text>}
        broker {props.broker} · topic {props.topic} · {counts} ·{" "}
        {state.messagesPerSecond.toFixed(1)} msg/s · lag {state.lag}
        {state.unreadable > 0 && ` · ${state.unreadable} unreadable`}
        {connection.state === "connecting" && <Text color="yellow">· connecting…</Text>}
        {connection.state === "failed" && (
          <Text color="red">
            · {connection.message} (retrying in {duration(connection.retryInMs)})
          </Text>
        )}
      </Text>
    </Box>
  );
}
