/**
 * A private `redis-server` for tests that freeze or kill it: a free port on 127.0.0.1, nothing on
 * disk, a child of the test process. `stop()` leaves nothing behind (a frozen server is thawed and
 * killed).
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { realClockEnv } from './cli.js';
import { freePort } from './ports.js';

export interface PrivateRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** SIGSTOP: the server holds its connections open and answers nothing (a hung host, a VM paused). */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  stop(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: 'ignore',
    env: realClockEnv(),
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL'); // delivered to a stopped process too
    await exited;
  };
  const url = `redis://127.0.0.1:${port}`;
  try {
    await answers(url);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    url,
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    stop,
  };
}

async function answers(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the private redis-server did not answer: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      client.disconnect();
    }
  }
}
