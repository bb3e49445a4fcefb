/**
 * The screen of `monitor watch`, as ink components that only render what they are given: the
 * table of sites (columns dropped, least useful first, as the terminal narrows), the detail pane
 * of one site, and the footer with the keys and the feed's health.
 *
 * @module
 */
import { Box, Text } from "ink";
import { Detail } from "./detail.tsx";
import { duration, MARKS, milliseconds, pad, patternText, sparkline } from "./format.ts";
import type { Row, WatchState } from "./state.ts";

/** What the view draws. */
export interface WatchViewProps {
  readonly state: WatchState;
  /** From {@link rowsOf}, for the same state and time. */
  readonly rows: readonly Row[];
  readonly nowMs: number;
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

// In display order.
const COLUMNS: readonly Column[] = [
  {
    title: "code",
    width: 5,
    cell: (row) => String(row.last.statusCode ?? "-"),
    right: true,
    drop: 5,
  },
  { title: "last", width: 8, cell: (row) => milliseconds(row.last.responseTimeMs), right: true },
  {
    title: "uptime",
    width: 8,
    cell: (row) => `${(row.uptime * 100).toFixed(1)}%`,
    right: true,
    drop: 4,
  },
  { title: "p95", width: 8, cell: (row) => milliseconds(row.p95Ms), right: true, drop: 3 },
  { title: "recent", width: 21, cell: (row) => sparkline(row.responseTimes, 20), drop: 0 },
  { title: "pattern", width: 8, cell: (row) => patternText(row.last.patternMatched), drop: 1 },
  { title: "error", width: 19, cell: (row) => row.last.errorKind ?? "", drop: 2 },
  {
    title: "age",
    width: 6,
    cell: (row, nowMs) => duration(nowMs - row.last.checkedAtMs),
    right: true,
  },
];
const STATUS_WIDTH = 8;
const MIN_NAME = 12;

/** The columns that fit `width`, in display order, and the width left for the site's name. */
function layout(width: number): { columns: Column[]; nameWidth: number } {
  let columns = [...COLUMNS];
  const used = () => STATUS_WIDTH + columns.reduce((sum, c) => sum + c.width, 0);
  const droppable = COLUMNS.filter((c) => c.drop !== undefined).sort((a, b) => a.drop! - b.drop!);
  for (const column of droppable) {
    if (width - used() >= MIN_NAME) break;
    columns = columns.filter((c) => c !== column);
  }
  return { columns, nameWidth: Math.max(MIN_NAME, width - used()) };
}

/**
 * The whole screen.
 *
 * @example
 * ```tsx ignore
 * <WatchView state={state} rows={rowsOf(state, now)} nowMs={now} width={100} height={30} broker="…" topic="…" />
 * ```
 */
export function WatchView(props: WatchViewProps) {
  const { state, rows, width, height } = props;
  const selected = rows.find((r) => r.siteId === state.selected);
  const body = height - 3; // header and the two footer lines
  return (
    <Box flexDirection="column" width={width}>
      {state.detail && selected !== undefined
        ? (
          <Detail
            row={selected}
            state={state}
            nowMs={props.nowMs}
            height={body + 1}
            width={width}
          />
        )
        : <Table {...props} height={body} />}
      <Footer {...props} sites={rows.length} />
    </Box>
  );
}

function Table(props: WatchViewProps) {
  const { rows, state, nowMs, width, height } = props;
  const { columns, nameWidth } = layout(width);
  const filterLine = state.editingFilter || state.filter !== "";
  const room = Math.max(1, height - (filterLine ? 1 : 0));
  const at = Math.max(0, rows.findIndex((r) => r.siteId === state.selected));
  const first = Math.min(Math.max(0, at - room + 1), Math.max(0, rows.length - room));
  const shown = rows.slice(first, first + room);
  return (
    <Box flexDirection="column" height={height + 1}>
      <Text bold wrap="truncate">
        {pad("status", STATUS_WIDTH)}
        {pad("site", nameWidth)}
        {columns.map((c) => pad(c.title, c.width, c.right)).join("")}
      </Text>
      {filterLine && (
        <Text color="cyan" wrap="truncate">
          filter: {state.filter}
          {state.editingFilter ? "▏ (Enter to keep, Esc to close)" : "  (Esc clears)"}
        </Text>
      )}
      {rows.length === 0 && (
        <Text dimColor>
          {state.filter === ""
            ? "Waiting for check results on the topic…"
            : `No site matches "${state.filter}"`}
        </Text>
      )}
      {shown.map((row) => {
        const mark = MARKS[row.status];
        const isSelected = row.siteId === state.selected;
        return (
          <Text key={row.siteId} inverse={isSelected} wrap="truncate">
            <Text color={mark.color}>{pad(`${mark.symbol} ${mark.word}`, STATUS_WIDTH)}</Text>
            {pad(row.siteName, nameWidth)}
            {columns.map((c) => pad(c.cell(row, nowMs), c.width, c.right)).join("")}
          </Text>
        );
      })}
    </Box>
  );
}

function Footer(props: WatchViewProps & { sites: number }) {
  const { state } = props;
  const connection = state.connection;
  return (
    <Box flexDirection="column">
      <Text dimColor wrap="truncate">
        q quit · ↑↓ select · Enter details · / filter · s sort: {state.sort} · p{" "}
        {state.frozen === null ? "pause" : "resume"}
      </Text>
      <Text wrap="truncate">
        {state.frozen !== null && <Text color="yellow" bold>PAUSED ·</Text>}
        broker {props.broker} · topic {props.topic} · {props.sites} sites ·{" "}
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
