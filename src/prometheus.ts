/**
 * Counters, gauges and histograms in the Prometheus text exposition format (version 0.0.4).
 * `npm:prom-client` made `deno compile` overflow its stack (denoland/deno#36746) through a
 * dependency that only its summaries, which the monitor never used, need.
 *
 * @module
 */

/** The label values of one series, by label name. */
type Labels<L extends string> = Readonly<Record<L, string | number>>;

/** The content type of {@linkcode Registry.metrics}. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

interface Metric {
  readonly name: string;
  exposition(): string;
}

/** The metrics of one program, printed together in the order they were registered. */
export class Registry {
  readonly #metrics: Metric[] = [];

  register<M extends Metric>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }

  /** Every metric in the text exposition format, as `/metrics` serves it. */
  metrics(): string {
    return this.#metrics.map((metric) => metric.exposition()).join("");
  }
}

/** Labels then a value, or the value alone for a metric without labels. */
type Args<L extends string> = [L] extends [never] ? [value: number]
  : [labels: Labels<L>, value: number];

/** The series of one metric by label values; one without labels shows its series from the start. */
abstract class Family<L extends string, S> implements Metric {
  readonly #series = new Map<string, S>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    readonly type: "counter" | "gauge" | "histogram",
  ) {}

  protected abstract create(): S;
  protected abstract lines(series: S, labels: string): string[];

  /** The series with these labels, made on first use. */
  protected series(labels: Labels<L> | undefined): S {
    const key = this.labelNames.map((name) => `${name}="${escape(String(labels?.[name] ?? ""))}"`)
      .join(",");
    let series = this.#series.get(key);
    if (series === undefined) this.#series.set(key, series = this.create());
    return series;
  }

  protected at(args: readonly unknown[]): [S, number | undefined] {
    const [labels, value] = typeof args[0] === "object" ? args : [undefined, args[0]];
    return [this.series(labels as Labels<L> | undefined), value as number | undefined];
  }

  exposition(): string {
    if (this.labelNames.length === 0) this.series(undefined);
    const lines = [`# HELP ${this.name} ${this.help.replace(/[\\\n]/g, escapeChar)}`];
    lines.push(`# TYPE ${this.name} ${this.type}`);
    for (const [labels, series] of this.#series) lines.push(...this.lines(series, labels));
    return lines.join("\n") + "\n";
  }
}

abstract class Scalar<L extends string> extends Family<L, { value: number }> {
  protected create() {
    return { value: 0 };
  }
  protected lines(series: { value: number }, labels: string) {
    return [`${this.name}${braces(labels)} ${series.value}`];
  }
}

/** A value that only goes up. */
export class Counter<L extends string = never> extends Scalar<L> {
  constructor(name: string, help: string, labelNames: readonly L[] = []) {
    super(name, help, labelNames, "counter");
  }
  /** Adds `by` (default 1) to the series with these labels. */
  inc(...args: [L] extends [never] ? [by?: number] : [labels: Labels<L>, by?: number]): void {
    const [series, by = 1] = this.at(args);
    series.value += by;
  }
}

/** A value that goes up and down. */
export class Gauge<L extends string = never> extends Scalar<L> {
  constructor(name: string, help: string, labelNames: readonly L[] = []) {
    super(name, help, labelNames, "gauge");
  }
  set(...args: Args<L>): void {
    const [series, value] = this.at(args);
    series.value = value!;
  }
}

interface Buckets {
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Observations counted in buckets of upper bounds. */
export class Histogram<L extends string = never> extends Family<L, Buckets> {
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
    labelNames: readonly L[] = [],
  ) {
    super(name, help, labelNames, "histogram");
  }
  protected create(): Buckets {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  protected lines({ counts, sum, count }: Buckets, labels: string) {
    const le = (bound: string) => braces(labels ? `${labels},le="${bound}"` : `le="${bound}"`);
    return [
      ...this.buckets.map((bound, i) => `${this.name}_bucket${le(String(bound))} ${counts[i]}`),
      `${this.name}_bucket${le("+Inf")} ${count}`,
      `${this.name}_sum${braces(labels)} ${sum}`,
      `${this.name}_count${braces(labels)} ${count}`,
    ];
  }
  observe(...args: Args<L>): void {
    const [series, value = 0] = this.at(args);
    this.buckets.forEach((bound, i) => {
      if (value <= bound) series.counts[i]!++;
    });
    series.sum += value;
    series.count++;
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

function escape(value: string): string {
  return value.replace(/[\\"\n]/g, escapeChar);
}

function escapeChar(char: string): string {
  return char === "\n" ? "\\n" : `\\${char}`;
}
