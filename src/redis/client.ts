/**
 * The Redis connection type the rest of rescreen names: ioredis is imported only under src/redis/,
 * the stores and the queue module (eslint's no-restricted-imports keeps it so); every other folder
 * takes its connection by this name from here.
 */
export type { Redis } from 'ioredis';
