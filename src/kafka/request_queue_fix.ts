/**
 * A fix for kafkajs 2.2.4's request queue, applied when this module is loaded. After every check
 * of its queue, a broker connection re-armed a timer at `throttledUntil - Date.now()`, negative
 * when nothing is throttled: Node's `TimeoutNegativeWarning` on stderr (a line that is not JSON
 * in `--log-format json` output) and a wake-up every millisecond per connection for as long as
 * the process runs (1.4 % of a core for an idle producer). With nothing pending and no throttle
 * there is nothing to check: a new request and an answered one check the queue themselves.
 *
 * Adapted from kafkajs's `RequestQueue.scheduleCheckPendingRequests`
 * (https://github.com/tulios/kafkajs, src/network/requestQueue/index.js, MIT licence, © 2018
 * Túlio Ornelas) with the change proposed in tulios/kafkajs#1768 and its review (issues #1751,
 * #1704; not released).
 *
 * @module
 */
// @ts-types="./request_queue_fix.d.ts"
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

/** kafkajs's own constant: how soon a queue with pending requests is checked again. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests() {
  let scheduleAt = this.throttledUntil - Date.now();
  if (this.throttleCheckTimeoutId) return;
  if (this.pending.length > 0) {
    scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL_MS;
  } else if (scheduleAt <= 0) {
    return;
  }
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, scheduleAt);
};
