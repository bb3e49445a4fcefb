/** The part of kafkajs's internal RequestQueue that `request_queue_fix.ts` replaces. */
declare class RequestQueue {
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  pending: unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}
export default RequestQueue;
