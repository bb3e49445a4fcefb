/**
 * The detail pane of `monitor watch`: one row's figures, origin, connection and checks, newest
 * first, each line cut to the terminal's width; text from the topic arrives printable already.
 *
 * @module
 */
import { Text } from "ink";
import stringWidth from "string-width";
import { duration, fit, MARKS, milliseconds, pad, patternText, truncate } from "./format.ts";
import { type RecentCheck, recentChecks } from "./history.ts";
import { type ConnectionDetails, rowOf, type SiteState, statusAt } from "./site.ts";
import { displayed, type WatchState } from "./state.ts";
import { siteAt } from "./table.ts";

/** What the pane draws. */
export interface DetailProps {
  readonly state: WatchState;
  readonly site: SiteState;
  readonly height: number;
  readonly width: number;
}

/** The pane of one site in one region. */
export function Detail({ state, site, height, width }: DetailProps) {
  const { nowMs } = state;
  const row = rowOf(site, state);
  const connection = connectionLines(site.details, nowMs, width);
  const room = Math.max(1, height - 4 - connection.length);
  const checks = recentChecks(site.recent).reverse().slice(0, room);
  // How the site stands in the other regions, in the order of their names.
  const table = displayed(state);
  const also = table.regions.flatMap((region) => {
    const other = region === site.region ? undefined : siteAt(table, site.siteId, region);
    return other === undefined ? [] : [`${region} ${MARKS[statusAt(other, nowMs)].text}`];
  });
  const origin = [`region ${site.region}`, `checker ${site.checker}`];
  if (also.length > 0) origin.push(`also ${also.join(", ")}`);
  return (
    <>
      <Text bold wrap="truncate">
        <Text color={MARKS[row.status].color}>{MARKS[row.status].text}</Text> {site.siteName}{" "}
        ({site.siteId}) — {site.url}
      </Text>
      <Text dimColor wrap="truncate">
        p95 {milliseconds(row.p95Ms)} · uptime {(row.uptime * 100).toFixed(1)}% · every{" "}
        {row.intervalMs === null ? "?" : duration(row.intervalMs)} · last{" "}
        {duration(nowMs - row.last.checkedAtMs)} ago · Enter or Esc to close
      </Text>
      {[origin.join(SEPARATOR), ...connection].map((line, i) => (
        <Text key={i} wrap="truncate">{line}</Text>
      ))}
      {checks.map((check, i) => <CheckLine key={i} check={check} width={width} />)}
    </>
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

const PHASES = [
  ["dns", "dnsMs"],
  ["connect", "connectMs"],
  ["tls", "tlsMs"],
  ["first byte", "firstByteMs"],
  ["transfer", "transferMs"],
] as const;

/** The most alternative names of a certificate listed before "+N more". */
const ALT_NAMES_SHOWN = 5;

const SEPARATOR = " · ";
const ISSUED_BY = " issued by ";

/**
 * What a check saw of the connection, as lines of at most `width` columns; what it did not record
 * is left out, never shown as zero.
 */
function connectionLines(details: ConnectionDetails, nowMs: number, width: number): string[] {
  const phases = PHASES.flatMap(([label, key]) => {
    const ms = details[key];
    return ms === null ? [] : [`${label} ${milliseconds(ms)}`];
  });
  return [
    phases.length === 0 ? null : phases.join(SEPARATOR),
    addressLine(details),
    tlsLine(details, nowMs, width),
    altNamesLine(details.certAltNames, width),
  ].filter((line) => line !== null);
}

function addressLine({ httpVersion, remoteAddress }: ConnectionDetails): string | null {
  // An address without a response: the check connected, then failed (TLS, a timeout).
  if (httpVersion === null) return remoteAddress === null ? null : `connected to ${remoteAddress}`;
  return remoteAddress === null
    ? `HTTP/${httpVersion}`
    : `HTTP/${httpVersion} from ${remoteAddress}`;
}

/** `TLSv1.3 · CN=a.example issued by CN=CA · expires 2027-03-01 (in 96d)`, names cut to fit. */
function tlsLine(details: ConnectionDetails, nowMs: number, width: number): string | null {
  const { tlsVersion, certSubject, certIssuer, certExpiresAt } = details;
  const expiry = certExpiresAt === null ? null : expiryText(Date.parse(certExpiresAt), nowMs);
  const around = [tlsVersion, expiry].filter((part) => part !== null);
  let certificate: string | null = null;
  if (certSubject !== null || certIssuer !== null) {
    // Names run to a thousand characters: cut them, not the expiry after them.
    const room = width - stringWidth(around.join(SEPARATOR)) -
      (around.length === 0 ? 0 : SEPARATOR.length);
    certificate = certSubject === null
      ? `issued by ${fit(certIssuer!, room - "issued by ".length)}`
      : certIssuer === null
      ? fit(certSubject, room)
      : fitBoth(certSubject, certIssuer, room - ISSUED_BY.length).join(ISSUED_BY);
  }
  const parts = [tlsVersion, certificate, expiry].filter((part) => part !== null);
  return parts.length === 0 ? null : parts.join(SEPARATOR);
}

function expiryText(expiresAtMs: number, nowMs: number): string {
  const date = new Date(expiresAtMs).toISOString().slice(0, 10);
  return expiresAtMs >= nowMs
    ? `expires ${date} (in ${duration(expiresAtMs - nowMs)})`
    : `expired ${date} (${duration(nowMs - expiresAtMs)} ago)`;
}

/** Two texts cut to `width` columns between them: each may have half, the shorter what it needs. */
function fitBoth(a: string, b: string, width: number): [string, string] {
  const aRoom = Math.max(Math.floor(width / 2), width - stringWidth(b));
  return [fit(a, aRoom), fit(b, width - Math.min(aRoom, stringWidth(a)))];
}

/** `alt names DNS:a.example, DNS:www.a.example +3 more`: the first few that fit, and a count. */
function altNamesLine(names: readonly string[] | null, width: number): string | null {
  if (names === null || names.length === 0) return null;
  const more = (shown: number) => shown < names.length ? ` +${names.length - shown} more` : "";
  for (let shown = Math.min(names.length, ALT_NAMES_SHOWN); shown > 1; shown--) {
    const line = `alt names ${names.slice(0, shown).join(", ")}${more(shown)}`;
    if (stringWidth(line) <= width) return line;
  }
  // Only the first, cut to keep the count of the others in sight.
  return `alt names ${fit(names[0]!, width - "alt names ".length - more(1).length)}${more(1)}`;
}
