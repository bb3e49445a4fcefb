/**
 * The screen of `monitor watch`, as ink components that only render what they are given: the
 * table of sites (columns dropped, least useful first, as the terminal narrows), the detail pane
 * of one site, and the footer with the keys and the feed's health.
 *
 * @module
 */
import { Box, Text } from "ink";
import stringWidth from "string-width";
import type { RecentCheck, Row, Status, WatchState } from "./state.ts";

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

const MARKS: Record<Status, { symbol: string; word: string; color: string }> = {
  up: { symbol: "✔", word: "up", color: "green" },
  down: { symbol: "✖", word: "down", color: "red" },
  degraded: { symbol: "▲", word: "degr", color: "yellow" },
  stale: { symbol: "?", word: "stale", color: "gray" },
};

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

function Detail(
  { row, state, nowMs, height, width }: {
    row: Row;
    state: WatchState;
    nowMs: number;
    height: number;
    width: number;
  },
) {
  const site = (state.frozen ?? state.sites).get(row.siteId)!;
  const mark = MARKS[row.status];
  const checks = [...site.recent].reverse().slice(0, Math.max(1, height - 3));
  return (
    <Box flexDirection="column" height={height}>
      <Text bold wrap="truncate">
        <Text color={mark.color}>{mark.symbol} {mark.word}</Text> {site.siteName} ({site.siteId}) —
        {" "}
        {site.url}
      </Text>
      <Text dimColor wrap="truncate">
        p95 {milliseconds(row.p95Ms)} · uptime {(row.uptime * 100).toFixed(1)}% · every{" "}
        {row.intervalMs === null ? "?" : duration(row.intervalMs)} · last{" "}
        {duration(nowMs - row.last.checkedAtMs)} ago · Enter or Esc to close
      </Text>
      {checks.map((check) => <CheckLine key={check.checkId} check={check} width={width} />)}
    </Box>
  );
}

function CheckLine({ check, width }: { check: RecentCheck; width: number }) {
  const time = new Date(check.checkedAtMs).toISOString().slice(11, 19);
  const mark = check.up ? MARKS.up : MARKS.down;
  const detail = check.errorKind === null ? "" : `${check.errorKind}: ${check.errorMessage ?? ""}`;
  return (
    <Text wrap="truncate">
      {`${time}  `}
      <Text color={mark.color}>{pad(mark.symbol, 2)}</Text>
      {pad(String(check.statusCode ?? "-"), 5)}
      {pad(milliseconds(check.responseTimeMs), 9, true)}{"  "}
      {pad(patternText(check.patternMatched), 8)}
      {truncate(detail, Math.max(0, width - 40))}
    </Text>
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

/**
 * `text` cut or padded to exactly `width` columns of the terminal, the last one blank. Columns, not
 * code units: a CJK character or an emoji takes two, a combining mark none.
 */
function pad(text: string, width: number, right = false): string {
  const shown = stringWidth(text) < width ? text : `${truncate(text, width - 2)}…`;
  const fill = " ".repeat(Math.max(0, width - 1 - stringWidth(shown)));
  return right ? `${fill}${shown} ` : `${shown}${fill} `;
}

const GRAPHEMES = new Intl.Segmenter();

/** The longest start of `text` that fits in `width` columns, never splitting a character. */
function truncate(text: string, width: number): string {
  let used = 0;
  let end = 0;
  for (const { segment } of GRAPHEMES.segment(text)) {
    used += stringWidth(segment);
    if (used > width) break;
    end += segment.length;
  }
  return text.slice(0, end);
}

const BARS = "▁▂▃▄▅▆▇█";

/**
 * The last `width` values as bars, scaled between their minimum and maximum; `·` where a check
 * had no response time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sparkline } from "./view.tsx";
 * assert.equal(sparkline([10, 20, null, 80], 20), "▁▂·█");
 * ```
 */
export function sparkline(values: readonly (number | null)[], width: number): string {
  const shown = values.slice(-width);
  const numbers = shown.filter((v): v is number => v !== null);
  const min = Math.min(...numbers);
  const span = Math.max(...numbers) - min;
  return shown.map((v) =>
    v === null ? "·" : BARS[span === 0 ? 3 : Math.round(((v - min) / span) * (BARS.length - 1))]
  ).join("");
}

function milliseconds(ms: number | null): string {
  if (ms === null) return "-";
  return ms < 10 ? `${ms.toFixed(1)}ms` : `${Math.round(ms)}ms`;
}

function patternText(matched: boolean | null): string {
  return matched === null ? "" : matched ? "match" : "MISSING";
}

/**
 * A duration as a terminal has room for it: `12s`, `4m`, `3h`, `2d`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { duration } from "./view.tsx";
 * assert.equal(duration(90_000), "1m");
 * ```
 */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
