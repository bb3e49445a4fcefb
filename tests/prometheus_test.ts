import assert from "node:assert/strict";
import { Counter, Gauge, Histogram, Registry } from "../src/prometheus.ts";

Deno.test("Registry.metrics() prints histograms with cumulative buckets, sum and count per label set", () => {
  const registry = new Registry();
  const latency = registry.register(
    new Histogram("latency_seconds", "Latency", [0.1, 1], ["channel"]),
  );
  latency.observe({ channel: "slack" }, 0.05);
  latency.observe({ channel: "slack" }, 0.5);
  latency.observe({ channel: "slack" }, 3);
  latency.observe({ channel: "email" }, 0.1);
  assert.equal(
    registry.metrics(),
    [
      "# HELP latency_seconds Latency",
      "# TYPE latency_seconds histogram",
      'latency_seconds_bucket{channel="slack",le="0.1"} 1',
      'latency_seconds_bucket{channel="slack",le="1"} 2',
      'latency_seconds_bucket{channel="slack",le="+Inf"} 3',
      'latency_seconds_sum{channel="slack"} 3.55',
      'latency_seconds_count{channel="slack"} 3',
      'latency_seconds_bucket{channel="email",le="0.1"} 1',
      'latency_seconds_bucket{channel="email",le="1"} 1',
      'latency_seconds_bucket{channel="email",le="+Inf"} 1',
      'latency_seconds_sum{channel="email"} 0.1',
      'latency_seconds_count{channel="email"} 1',
      "",
    ].join("\n"),
  );
});

Deno.test("Registry.metrics() shows unlabelled metrics as zero before their first use", () => {
  const registry = new Registry();
  registry.register(new Gauge("buffered", "Buffered"));
  registry.register(new Histogram("took_seconds", "Took", [1]));
  const text = registry.metrics();
  assert.match(text, /^buffered 0$/m);
  assert.match(text, /^took_seconds_bucket\{le="\+Inf"\} 0$/m);
  assert.match(text, /^took_seconds_count 0$/m);
});

Deno.test("Counter, Gauge and startTimer() record what they are given", () => {
  const registry = new Registry();
  const done = registry.register(new Counter("done_total", "Done"));
  const lag = registry.register(new Gauge("lag", "Lag", ["partition"]));
  const took = registry.register(new Histogram("took_seconds", "Took", [60]));
  done.inc();
  done.inc(41);
  lag.set({ partition: 0 }, 7);
  lag.set({ partition: 0 }, 3);
  const seconds = took.startTimer()();
  const text = registry.metrics();
  assert.match(text, /^done_total 42$/m);
  assert.match(text, /^lag\{partition="0"\} 3$/m);
  assert.match(text, /^took_seconds_count 1$/m);
  assert.match(text, new RegExp(`^took_seconds_sum ${seconds}$`, "m"));
});

Deno.test("Registry.metrics() escapes label values and help text", () => {
  const registry = new Registry();
  registry.register(new Counter("c_total", "Back\\slash\nnewline", ["site"]))
    .inc({ site: 'a"b\\c\nd' });
  assert.equal(
    registry.metrics(),
    '# HELP c_total Back\\\\slash\\nnewline\n# TYPE c_total counter\nc_total{site="a\\"b\\\\c\\nd"} 1\n',
  );
});
