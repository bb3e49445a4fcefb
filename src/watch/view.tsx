/**
 * The screen of `monitor watch`, as ink components that render what they are given: the table
 * (only the rows on screen derived) or the detail pane, and a footer of keys and the feed's health.
 *
 * @module
 */
import { printable } from "../text.ts";
import { Box, Text } from "ink";
import { Detail } from "./detail.tsx";
import { duration, MARKS, milliseconds, pad, patternText, sparkline } from "./format.ts";
import { type Row, rowOf } from "./site.ts";
import { displayed, selectedIndex, selectedSite, type WatchState } from "./state.ts";

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
}

const COLUMNS: readonly Column[] = [
  { title: "code", width: 5, cell: (r) => String(r.last.statusCode ?? "-"), right: true },
  { title: "last", width: 8, cell: (r) => milliseconds(r.last.responseTimeMs), right: true },
  { title: "uptime", width: 8, cell: (r) => `${(r.uptime * 100).toFixed(1)}%`, right: true },
  { title: "p95", width: 8, cell: (r) => milliseconds(r.p95Ms), right: true },
  { title: "recent", width: 21, cell: (r) => sparkline(r.responseTimes, 20) },
  { title: "pattern", width: 8, cell: (r) => patternText(r.last.patternMatched) },
  { title: "error", width: 19, cell: (r) => r.last.errorKind ?? "" },
  { title: "age", width: 6, cell: (r, nowMs) => duration(nowMs - r.last.checkedAtMs), right: true },
];
/** The columns a narrow terminal drops, least useful first. */
const DROP_ORDER = ["recent", "pattern", "error", "p95", "uptime", "code"];
const STATUS_WIDTH = 8;
const MIN_NAME = 12;
/** The region column: its title's width, and the most a long region's name may take. */
const REGION_WIDTH = { min: 7, max: 12 };

/**
 * The columns that fit `width`, and the width left for the site's name; a region column once
 * results come from more than one region (with one, every row would say it).
 */
function layout(width: number, regions: readonly string[]) {
  const regionWidth = regions.length < 2 ? 0 : Math.min(
    REGION_WIDTH.max,
    Math.max(REGION_WIDTH.min, ...regions.map((r) => r.length + 1)),
  );
  let columns = [...COLUMNS];
  const used = () => STATUS_WIDTH + regionWidth + columns.reduce((sum, c) => sum + c.width, 0);
  for (const title of DROP_ORDER) {
    if (width - used() >= MIN_NAME) break;
    columns = columns.filter((c) => c.title !== title);
  }
  return { columns, regionWidth, nameWidth: Math.max(MIN_NAME, width - used()) };
}

/** @returns How many table rows a screen `height` lines high shows: what Page Up/Down move by. */
export function tableRoom(state: WatchState, height: number): number {
  return Math.max(1, height - 1 - footerLines(state) - (hasFilterLine(state) ? 1 : 0));
}

function hasFilterLine(state: WatchState): boolean {
  return state.editingFilter || state.filter !== "";
}

function footerLines(state: WatchState): number {
  return state.incidents.length > 0 ? 3 : 2;
}

/** The whole screen. */
export function WatchView(props: WatchViewProps) {
  const { state, width, height } = props;
  const site = state.detail ? selectedSite(state) : undefined;
  const bodyHeight = height - footerLines(state);
  return (
    <Box flexDirection="column" width={width}>
      <Box flexDirection="column" height={bodyHeight}>
        {site !== undefined
          ? <Detail state={state} site={site} height={bodyHeight} width={width} />
          : <Table {...props} />}
      </Box>
      <Footer {...props} />
    </Box>
  );
}

function Table(props: WatchViewProps) {
  const { state, width, height } = props;
  const nowMs = state.nowMs;
  const { shown, regions } = displayed(state);
  const { columns, regionWidth, nameWidth } = layout(width, regions);
  // The rows on screen, from the top or ending at the selected row once it is further down.
  const room = tableRoom(state, height);
  const at = Math.max(0, selectedIndex(state));
  const first = Math.min(Math.max(0, at - room + 1), Math.max(0, shown.length - room));
  const rows = shown.slice(first, first + room).map((site) => rowOf(site, state));
  return (
    <>
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
      {shown.length === 0 && <Text dimColor>{emptyText(state)}</Text>}
      {rows.map((row) => (
        <Text key={row.key} inverse={row.key === state.selected} wrap="truncate">
          <Text color={MARKS[row.status].color}>{pad(MARKS[row.status].text, STATUS_WIDTH)}</Text>
          {pad(row.siteName, nameWidth)}
          {regionWidth > 0 && pad(row.region, regionWidth)}
          {columns.map((c) => pad(c.cell(row, nowMs), c.width, c.right)).join("")}
        </Text>
      ))}
    </>
  );
}

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
