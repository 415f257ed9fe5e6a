/**
 * Queues opened to be looked at (Bull Board under `serve --queues-ui`), never to be run. They never
 * write the queues' meta (`skipMetasUpdate`): a viewer must not reset what the producers and workers
 * set there (the vendor queues' short event stream, QUEUE_STREAMS in ./names.ts).
 */
import { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Redis } from '../redis/client.js';

export interface QueueDescription {
  /** The BullMQ queue name (its keys are `<prefix>:<name>:…`). */
  readonly name: string;
  /** What its jobs are, in a line. */
  readonly description: string;
}

export interface QueueView extends QueueDescription {
  readonly queue: Queue;
}

/** Opens each queue on `connection` (shared: `close` leaves it open) under `prefix`. */
export function openQueueViews(connection: Redis, prefix: string, queues: readonly QueueDescription[], log: Logger): { readonly views: QueueView[]; readonly close: () => Promise<void> } {
  const views = queues.map((q) => {
    const queue = new Queue(q.name, { connection, prefix, skipMetasUpdate: true });
    queue.on('error', (error) => log.debug({ err: error.message, queue: q.name }, 'redis connection error (queue view)'));
    return { ...q, queue };
  });
  return {
    views,
    close: async () => {
      await Promise.all(views.map((v) => v.queue.waitUntilReady().catch(() => undefined)));
      await Promise.all(views.map((v) => v.queue.close()));
    },
  };
}
