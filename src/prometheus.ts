/**
 * Counters, gauges and histograms in the Prometheus text exposition format (version 0.0.4): with
 * `npm:prom-client`, `deno compile` overflowed its stack (denoland/deno#36746).
 *
 * @module
 */

type Labels<L extends string> = Readonly<Record<L, string | number>>;

/** Labels then a number, or the number alone for a metric without labels. */
type Args<L extends string> = [L] extends [never] ? [value: number]
  : [labels: Labels<L>, value: number];

/** The content type of {@linkcode Registry.metrics}. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The metrics of one program, printed together in the order they were registered. */
export class Registry {
  readonly #metrics: Metric<string>[] = [];

  register<M extends Metric<string>>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }

  /** Every metric in the text exposition format, as `/metrics` serves it. */
  metrics(): string {
    return this.#metrics.map((metric) => metric.exposition()).join("");
  }
}

/**
 * A metric's series, keyed by their labels as printed: each holds a counter's or gauge's value, or
 * a histogram's cumulative bucket counts, sum and count. One without labels shows from the start.
 */
abstract class Metric<L extends string> {
  readonly #series = new Map<string, number[]>();
  abstract readonly type: "counter" | "gauge" | "histogram";

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[] = [],
    readonly width = 1,
  ) {}

  /** The series that `args` names, made on first use, and the number given with it. */
  protected at(args: readonly unknown[]): [number[], number | undefined] {
    const [labels, value] = typeof args[0] === "object" ? args : [undefined, args[0]];
    const key = this.labelNames.map((name) => {
      const text = String((labels as Labels<L> | undefined)?.[name] ?? "");
      return `${name}="${text.replace(/[\\"\n]/g, escapeChar)}"`;
    }).join(",");
    let series = this.#series.get(key);
    if (series === undefined) this.#series.set(key, series = Array(this.width).fill(0));
    return [series, value as number | undefined];
  }

  protected lines(values: readonly number[], labels: string): string[] {
    return [`${this.name}${braces(labels)} ${values[0]}`];
  }

  exposition(): string {
    if (this.labelNames.length === 0) this.at([]);
    const lines = [
      `# HELP ${this.name} ${this.help.replace(/[\\\n]/g, escapeChar)}`,
      `# TYPE ${this.name} ${this.type}`,
    ];
    for (const [labels, values] of this.#series) lines.push(...this.lines(values, labels));
    return lines.join("\n") + "\n";
  }
}

/** A value that only goes up. */
export class Counter<L extends string = never> extends Metric<L> {
  readonly type = "counter";
  /** Adds `by` (default 1) to the series with these labels. */
  inc(...args: [L] extends [never] ? [by?: number] : [labels: Labels<L>, by?: number]): void {
    const [series, by = 1] = this.at(args);
    series[0]! += by;
  }
}

/** A value that goes up and down. */
export class Gauge<L extends string = never> extends Metric<L> {
  readonly type = "gauge";
  set(...args: Args<L>): void {
    const [series, value] = this.at(args);
    series[0] = value!;
  }
}

/** Observations counted in buckets of upper bounds. */
export class Histogram<L extends string = never> extends Metric<L> {
  readonly type = "histogram";
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
    labelNames: readonly L[] = [],
  ) {
    super(name, help, labelNames, buckets.length + 2);
  }
  protected override lines(values: readonly number[], labels: string): string[] {
    const [sum, count] = values.slice(-2);
    const le = (bound: unknown) => braces(labels ? `${labels},le="${bound}"` : `le="${bound}"`);
    return [
      ...this.buckets.map((bound, i) => `${this.name}_bucket${le(bound)} ${values[i]}`),
      `${this.name}_bucket${le("+Inf")} ${count}`,
      `${this.name}_sum${braces(labels)} ${sum}`,
      `${this.name}_count${braces(labels)} ${count}`,
    ];
  }
  observe(...args: Args<L>): void {
    const [series, value = 0] = this.at(args);
    this.buckets.forEach((bound, i) => {
      if (value <= bound) series[i]!++;
    });
    series[this.buckets.length]! += value;
    series[this.buckets.length + 1]!++;
  }
  /** Starts a clock; calling what it returns observes the seconds since (unlabelled histograms). */
  startTimer(): () => number {
    const started = performance.now();
    return () => {
      const seconds = (performance.now() - started) / 1000;
      (this.observe as (value: number) => void)(seconds);
      return seconds;
    };
  }
}

function braces(labels: string): string {
  return labels ? `{${labels}}` : "";
}

function escapeChar(char: string): string {
  return char === "\n" ? "\\n" : `\\${char}`;
}
