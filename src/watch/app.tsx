/**
 * The interactive shell of `monitor watch`: feeds the reducer the source's events, the keys and a
 * clock tick, and draws {@link WatchView} at the terminal's size.
 *
 * @module
 */
import { useApp, useInput, useWindowSize } from "ink";
import { useEffect, useReducer } from "react";
import { initialState, reduce, type WatchEvent } from "./state.ts";
import { tableRoom, WatchView } from "./view.tsx";

/** Where events come from: the Kafka tail, or a test. */
export interface WatchSource {
  /** Starts delivering events; returns how to stop. */
  subscribe(dispatch: (event: WatchEvent) => void): () => void;
}

/** What the app needs. */
export interface WatchAppProps {
  readonly source: WatchSource;
  readonly windowMs: number;
  readonly broker: string;
  readonly topic: string;
  /** Show only results from these regions (`--region`); from every region when empty or unset. */
  readonly regions?: readonly string[];
  readonly now?: () => number;
}

/** The app. `q` (or Ctrl-C) quits; the other keys are the reducer's. */
export function WatchApp(
  { source, windowMs, broker, topic, regions = [], now = Date.now }: WatchAppProps,
) {
  const [state, dispatch] = useReducer(
    reduce,
    undefined,
    () => initialState(windowMs, { nowMs: now(), regions }),
  );
  const { exit } = useApp();
  const { columns, rows } = useWindowSize(); // re-renders on resize
  const width = columns || 100;
  const height = rows || 30;

  useEffect(() => source.subscribe(dispatch), [source]);
  useEffect(() => {
    // Ages and staleness move on even when nothing arrives.
    const timer = setInterval(() => dispatch({ type: "tick", nowMs: now() }), 1_000);
    return () => clearInterval(timer);
  }, [now]);
  useInput((input, key) => {
    if (input === "q" && !state.editingFilter && !state.detail) {
      exit();
      return;
    }
    dispatch({ type: "key", input, key, page: tableRoom(state, height) });
  });

  return <WatchView state={state} width={width} height={height} broker={broker} topic={topic} />;
}
