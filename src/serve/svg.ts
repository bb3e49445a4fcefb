/**
 * Inline SVG: shields-style badges, the 90-day uptime bar, and a site's charts (coloured by the
 * stylesheet, light and dark); and {@link html}, which every text from the database passes through.
 *
 * @module
 */
import { printable } from "../text.ts";

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Text safe in an element or a quoted attribute: `& < > " '` as entities, controls as U+FFFD (a
 * bidirectional override among them could make one name pose as another).
 */
export function html(text: string): string {
  return printable(text).replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}

/** How a share of checks up is classed and coloured. */
export function uptimeClass(uptime: number | null): "none" | "up" | "ok" | "warn" | "down" {
  if (uptime === null) return "none";
  return uptime >= 0.999 ? "up" : uptime >= 0.99 ? "ok" : uptime >= 0.95 ? "warn" : "down";
}

/** A share as a percentage for people: two decimals, and never "100 %" unless it is. */
export function percent(uptime: number | null): string {
  if (uptime === null) return "no data";
  // 0.57 * 10_000 is 5699.999…: the nudge undoes the float error, far below a real difference.
  return `${(Math.floor(uptime * 10_000 + 1e-9) / 100).toFixed(2)} %`;
}

const BADGE_COLOURS = {
  up: "#2e7d32",
  ok: "#5b7d12",
  warn: "#9a6700",
  down: "#c62828",
  none: "#616161",
} as const;

/** A shields-style badge, a standalone SVG document: a grey label and a coloured value. */
export function badge(label: string, value: string, tone: keyof typeof BADGE_COLOURS): string {
  // Verdana 11 px, roughly: wide enough for any text, not measured.
  const left = [...label].length * 7 + 10;
  const right = [...value].length * 7 + 10;
  const title = html(`${label}: ${value}`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${
    left + right
  }" height="20" role="img" aria-label="${title}"><title>${title}</title><rect width="${left}" height="20" fill="#555"/><rect x="${left}" width="${right}" height="20" fill="${
    BADGE_COLOURS[tone]
  }"/><g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle"><text x="${
    left / 2
  }" y="14">${html(label)}</text><text x="${left + right / 2}" y="14">${
    html(value)
  }</text></g></svg>`;
}

/** One UTC day (`YYYY-MM-DD`) of a site across regions. */
export type Day = { readonly day: string; readonly checks: number; readonly failures: number };

/** The uptime bar, one cell a day, oldest first; `label` is what a screen reader says. */
export function dayBar(days: readonly Day[], label: string): string {
  const cells = days.map((day, i) => {
    const uptime = day.checks === 0 ? null : (day.checks - day.failures) / day.checks;
    return `<rect x="${i * 5}" width="4" height="24" rx="1" class="${
      uptimeClass(uptime)
    }"><title>${day.day}: ${percent(uptime)}</title></rect>`;
  });
  return `<svg class="bar" viewBox="0 0 ${
    days.length * 5 - 1
  } 24" preserveAspectRatio="none" role="img" aria-label="${html(label)}">${cells.join("")}</svg>`;
}

/** A point of a chart: its time and values. */
export type Point = { readonly start: Date; readonly values: readonly (number | null)[] };

const CHART_WIDTH = 600;
const CHART_HEIGHT = 160;

/** Stacked bars, one per point (oldest first), one layer per value (a phase). */
export function stackedBars(
  points: readonly Point[],
  options: { readonly layers: readonly string[]; readonly label: string },
): string {
  const total = (point: Point) => point.values.reduce<number>((sum, v) => sum + (v ?? 0), 0);
  const most = Math.max(1, ...points.map(total));
  const step = CHART_WIDTH / Math.max(1, points.length);
  const bars = points.map((point, i) => {
    let y = CHART_HEIGHT;
    const title = `${point.start.toISOString().slice(0, 16).replace("T", " ")} UTC: ${
      point.values.map((v, k) => `${options.layers[k]} ${v === null ? "–" : `${v.toFixed(1)} ms`}`)
        .join(", ")
    }`;
    const parts = point.values.map((value, k) => {
      const height = ((value ?? 0) / most) * (CHART_HEIGHT - 10);
      y -= height;
      return `<rect x="${(i * step).toFixed(1)}" y="${y.toFixed(1)}" width="${
        Math.max(1, step - 1).toFixed(1)
      }" height="${height.toFixed(1)}" class="layer${k}"/>`;
    });
    return `<g><title>${html(title)}</title>${parts.join("")}</g>`;
  });
  const legend = options.layers.length < 2
    ? ""
    : `<p class="legend">${
      options.layers.map((name, k) => `<span class="key layer${k}"></span>${html(name)}`).join(" ")
    }</p>`;
  return `<figure><svg class="chart" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img" aria-label="${
    html(options.label)
  }"><line x1="0" y1="${CHART_HEIGHT}" x2="${CHART_WIDTH}" y2="${CHART_HEIGHT}" class="axis"/>${
    bars.join("")
  }</svg><figcaption>${html(options.label)}; highest ${
    most.toFixed(0)
  } ms</figcaption>${legend}</figure>`;
}
