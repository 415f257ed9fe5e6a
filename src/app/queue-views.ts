/**
 * rescreen's BullMQ queues as a viewer sees them: every queue it uses under RESCREEN_PREFIX, with a
 * line saying what its jobs are. `serve --queues-ui` shows them in Bull Board; the README lists the
 * same names for a team adding them to its own board.
 */
import type { VendorConfigSpec } from '../config/vendor-settings.js';
import { NOTIFICATIONS_QUEUE } from '../notify/notifications.js';
import { openQueueViews as open, type QueueDescription } from '../queueing/queue-views.js';
import { REVIEW_QUEUE } from '../review/queue.js';
import type { Runtime } from '../runtime/runtime.js';
import { SCHEDULES_QUEUE } from '../schedules/repository.js';

export type { QueueDescription } from '../queueing/queue-views.js';

/** Every queue rescreen uses: one per vendor, then notifications, review and schedules. */
export function rescreenQueues(vendors: readonly Pick<VendorConfigSpec, 'name' | 'label'>[]): QueueDescription[] {
  return [
    ...vendors.map((v) => ({ name: v.name, description: `${v.label} calls: one job per manifest line (job id <batch>#<line>)` })),
    { name: NOTIFICATIONS_QUEUE, description: 'webhook deliveries: batch.finished and the review-case events' },
    { name: REVIEW_QUEUE, description: 'scans of finished batches that open review cases' },
    { name: SCHEDULES_QUEUE, description: 'firings of scheduled re-screens (rescreen schedule)' },
  ];
}

/** Each of {@link rescreenQueues}, opened for reading on the runtime's connection and prefix. */
export function openQueueViews(runtime: Runtime): ReturnType<typeof open> {
  return open(runtime.redis, runtime.config.prefix, rescreenQueues(runtime.vendors), runtime.log);
}
