/**
 * Counters, gauges and histograms in the Prometheus text exposition format (version 0.0.4), the
 * few lines of it the monitor needs. `npm:prom-client` did this until it made `deno compile`
 * overflow its stack (its `tdigest` → `bintrees` dependency, denoland/deno#36746); the monitor
 * never used the summaries that dependency exists for.
 *
 * @module
 */

/** The label values of one series, by label name. */
export type Labels<L extends string> = Readonly<Record<L, string | number>>;

/** The content type of {@linkcode Registry.metrics}. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What every metric has: a name, a help text, its label names and a way to print its series. */
interface Metric {
  readonly name: string;
  exposition(): string;
}

/** The metrics of one program, printed together. */
export class Registry {
  readonly #metrics: Metric[] = [];

  /** Adds a metric; {@linkcode metrics} prints them in the order they were added. */
  register<M extends Metric>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }

  /**
   * Every metric in the text exposition format.
   *
   * @returns The text `/metrics` serves.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Counter, Registry } from "./prometheus.ts";
   * const registry = new Registry();
   * registry.register(new Counter("jobs_total", "Jobs done", ["queue"])).inc({ queue: "a\"b" }, 2);
   * assert.equal(
   *   registry.metrics(),
   *   '# HELP jobs_total Jobs done\n# TYPE jobs_total counter\njobs_total{queue="a\\"b"} 2\n',
   * );
   * ```
   */
  metrics(): string {
    return this.#metrics.map((metric) => metric.exposition()).join("");
  }
}

/** The series of one metric by label values; a metric without labels shows its one series from the start. */
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

  exposition(): string {
    if (this.labelNames.length === 0) this.series(undefined); // zero until the first observation
    const lines = [`# HELP ${this.name} ${this.help.replace(/[\\\n]/g, escapeChar)}`];
    lines.push(`# TYPE ${this.name} ${this.type}`);
    for (const [labels, series] of this.#series) lines.push(...this.lines(series, labels));
    return lines.join("\n") + "\n";
  }
}

/** A value that only goes up. */
export class Counter<L extends string = never> extends Family<L, { value: number }> {
  constructor(name: string, help: string, labelNames: readonly L[] = []) {
    super(name, help, labelNames, "counter");
  }
  protected create() {
    return { value: 0 };
  }
  protected lines(series: { value: number }, labels: string) {
    return [`${this.name}${braces(labels)} ${series.value}`];
  }
  /** Adds `by` (default 1) to the series with these labels. */
  inc(...args: [L] extends [never] ? [by?: number] : [labels: Labels<L>, by?: number]): void {
    const [labels, by = 1] = typeof args[0] === "object" ? args : [undefined, args[0]];
    this.series(labels as Labels<L> | undefined).value += by as number;
  }
}

/** A value that goes up and down. */
export class Gauge<L extends string = never> extends Family<L, { value: number }> {
  constructor(name: string, help: string, labelNames: readonly L[] = []) {
    super(name, help, labelNames, "gauge");
  }
  protected create() {
    return { value: 0 };
  }
  protected lines(series: { value: number }, labels: string) {
    return [`${this.name}${braces(labels)} ${series.value}`];
  }
  /** Sets the series with these labels. */
  set(...args: [L] extends [never] ? [value: number] : [labels: Labels<L>, value: number]): void {
    const [labels, value] = args.length === 2 ? args : [undefined, args[0]];
    this.series(labels as Labels<L> | undefined).value = value as number;
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
  /** Counts a value (in the buckets it is at most) in the series with these labels. */
  observe(
    ...args: [L] extends [never] ? [value: number] : [labels: Labels<L>, value: number]
  ): void {
    const [labels, value] = args.length === 2 ? args : [undefined, args[0]];
    const series = this.series(labels as Labels<L> | undefined);
    this.buckets.forEach((bound, i) => {
      if ((value as number) <= bound) series.counts[i]!++;
    });
    series.sum += value as number;
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
