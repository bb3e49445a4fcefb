/**
 * Properties of the incident state machine over arbitrary histories: checks from up to three
 * regions, some late, some delivered again, with ticks between, under arbitrary rules.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { applyAlertEvent, initialAlertState } from "../../src/alert/incidents.ts";
import type { AlertRule } from "../../src/alert/rules.ts";
import {
  type AlertState,
  alertStateSchema,
  type CheckSeen,
  type Transition,
} from "../../src/alert/state.ts";
import { at, check, type Outcome, run, type TestEvent } from "./_checks.ts";

const REGIONS = ["eu", "us", "ap"] as const;

/** Thresholds 3/2, one region, no response time. */
const RULE_3_2: AlertRule = {
  failureThreshold: 3,
  successThreshold: 2,
  regions: 1,
  responseTimeMs: null,
  staleAfterMs: 180_000,
  channels: [],
};

/** Enough runs that a few hundred incidents of each kind open and resolve. */
const RUNS = { numRuns: 500 };

const rules: fc.Arbitrary<AlertRule> = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 5 }),
  successThreshold: fc.integer({ min: 1, max: 5 }),
  regions: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant("majority" as const)),
  responseTimeMs: fc.option(fc.constant(2_000), { nil: null }),
  staleAfterMs: fc.integer({ min: 2, max: 6 }).map((n) => n * 60_000),
  channels: fc.constant([]),
});

/** One step of a history, before times and ids are given out. */
type Step =
  | {
    readonly kind: "check";
    readonly region: number;
    readonly outcome: Outcome;
    readonly advanceS: number;
    readonly lateS: number;
  }
  | { readonly kind: "tick"; readonly advanceS: number }
  | { readonly kind: "again"; readonly back: number };

const steps: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant("check" as const),
        region: fc.integer({ min: 0, max: 2 }),
        outcome: fc.constantFrom<Outcome>("ok", "slow", "fail"),
        advanceS: fc.integer({ min: 0, max: 120 }),
        lateS: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 600 })),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("tick" as const),
        advanceS: fc.integer({ min: 0, max: 400 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("again" as const), back: fc.nat(20) }),
    },
  ),
  { maxLength: 80 },
);

/** Times and ids for a history: the clock only moves on; a late check started before it. */
function eventsOf(history: readonly Step[]): TestEvent[] {
  let clockS = 0;
  const checks: CheckSeen[] = [];
  return history.map((step, index): TestEvent => {
    if (step.kind === "again") {
      return checks[checks.length - 1 - step.back] ?? { tick: clockS };
    }
    clockS += step.advanceS;
    if (step.kind === "tick") return { tick: clockS };
    const id = `c${String(index).padStart(4, "0")}`;
    const seen = check(id, clockS - step.lateS, step.outcome, REGIONS[step.region]);
    checks.push(seen);
    return seen;
  });
}

/** Every transition of a history, with the state after each event. */
function trace(rule: AlertRule, events: readonly TestEvent[], roundTrip = false) {
  let state: AlertState = initialAlertState("shop", at(0));
  const steps: { transitions: readonly Transition[]; state: AlertState }[] = [];
  for (const event of events) {
    const step = applyAlertEvent(
      rule,
      roundTrip ? JSON.parse(JSON.stringify(state)) : state,
      "tick" in event ? { type: "tick", at: at(event.tick) } : { type: "result", result: event },
    );
    state = step.state;
    steps.push(step);
  }
  return steps;
}

Deno.test("no history opens two incidents of one kind at once; every resolve follows its open", () => {
  fc.assert(
    fc.property(rules, steps, (rule, history) => {
      const open = new Map<string, string>();
      for (const { transitions, state } of trace(rule, eventsOf(history))) {
        for (const t of transitions) {
          if (t.type === "opened") {
            assert.equal(open.has(t.incident.kind), false, `second ${t.incident.kind} opened`);
            open.set(t.incident.kind, t.incident.id);
          } else {
            assert.equal(open.get(t.incident.kind), t.incident.id, "resolved what was not open");
            assert.ok(t.resolvedAt >= t.incident.openedAt, "resolved before it opened");
            open.delete(t.incident.kind);
          }
        }
        for (const kind of ["down", "degraded", "stale"] as const) {
          assert.equal(state.open[kind]?.id, open.get(kind));
        }
      }
    }),
    RUNS,
  );
});

Deno.test("incident ids are never reused", () => {
  fc.assert(
    fc.property(rules, steps, (rule, history) => {
      const ids = run(eventsOf(history), rule).transitions
        .filter((t) => t.type === "opened").map((t) => t.incident.id);
      assert.equal(new Set(ids).size, ids.length);
    }),
    RUNS,
  );
});

Deno.test("down opens only on a failed check and resolves only on a good one", () => {
  fc.assert(
    fc.property(rules, steps, (rule, history) => {
      const events = eventsOf(history);
      const up = new Map(events.flatMap((e) => "tick" in e ? [] : [[e.checkId, e.up] as const]));
      for (const t of run(events, rule).transitions) {
        if (t.incident.kind !== "down") continue;
        if (t.type === "opened") assert.equal(up.get(t.incident.openedByCheckId!), false);
        else assert.equal(up.get(t.resolvedByCheckId), true);
      }
    }),
    RUNS,
  );
});

Deno.test("a state stored as JSON and read back gives the same transitions, and validates", () => {
  fc.assert(
    fc.property(rules, steps, (rule, history) => {
      const events = eventsOf(history);
      const direct = trace(rule, events);
      const stored = trace(rule, events, true);
      assert.deepEqual(stored, direct);
      for (const { state } of direct) alertStateSchema.parse(state);
    }),
    RUNS,
  );
});

Deno.test("an event applied twice in a row changes nothing the second time", () => {
  fc.assert(
    fc.property(rules, steps, fc.nat(), (rule, history, pick) => {
      const events = eventsOf(history);
      if (events.length === 0) return;
      const index = pick % events.length;
      const before = run(events.slice(0, index + 1), rule).state;
      const again = run([events[index]!], rule, before);
      assert.deepEqual(again.transitions, []);
      assert.deepEqual(again.state, before);
    }),
    RUNS,
  );
});

Deno.test("with thresholds 3/2, a site whose failures never run three in a row never goes down", () => {
  const runs = fc.array(
    fc.record({
      failures: fc.integer({ min: 0, max: 2 }),
      successes: fc.integer({ min: 1, max: 3 }),
    }),
    { maxLength: 30 },
  );
  fc.assert(
    fc.property(runs, fc.constantFrom(...REGIONS), (pattern, region) => {
      const outcomes = pattern.flatMap(({ failures, successes }): Outcome[] => [
        ...Array<Outcome>(failures).fill("fail"),
        ...Array<Outcome>(successes).fill("ok"),
      ]);
      const events = outcomes.map((outcome, i) => check(`c${i}`, 60 * (i + 1), outcome, region));
      assert.deepEqual(run(events, RULE_3_2).transitions, []);
    }),
    RUNS,
  );
});

Deno.test("with regions: majority, one region of three failing alone never opens an incident", () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom<Outcome>("ok", "slow", "fail"), { maxLength: 40 }),
      fc.constantFrom(...REGIONS),
      (badOutcomes, bad) => {
        const events = badOutcomes.flatMap((outcome, i) =>
          REGIONS.map((region, r) =>
            check(`${region}${i}`, 60 * (i + 1) + r, region === bad ? outcome : "ok", region)
          )
        );
        const rule = { ...RULE_3_2, regions: "majority" as const, responseTimeMs: 2_000 };
        assert.deepEqual(run(events, rule).transitions, []);
      },
    ),
  );
});
