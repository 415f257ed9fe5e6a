/** Free TCP ports on 127.0.0.1 for servers a test starts. */
import { createServer } from 'node:net';

/** Whether nothing listens on `port` of 127.0.0.1 right now. */
export async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port in 20000–39999 that is free now (and `port + also` for each offset given, e.g. a cluster bus). */
export async function freePort(also: readonly number[] = []): Promise<number> {
  for (;;) {
    const p = 20_000 + Math.floor(Math.random() * 20_000);
    if ((await portFree(p)) && (await Promise.all(also.map((d) => portFree(p + d)))).every(Boolean)) return p;
  }
}
