/**
 * A vendor stand-in written on bare node:http (not rescreen's simulator): it answers every POST with
 * an OOTO-shaped JSON body of a chosen size, streamed as fast as the client takes it (with a
 * Content-Length or chunked), and it reports per answer how many bytes it got out before the client
 * went away, and whether the connection closed before the answer was complete.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface BigAnswerOptions {
  /** Body size, bytes. */
  readonly bytes: number;
  /** `length`: a Content-Length header; `chunked`: none (Transfer-Encoding: chunked). */
  readonly framing: 'length' | 'chunked';
  /** HTTP status. Default 200. */
  readonly status?: number;
  /** Hold every answer until this many requests have come in (so they stream at the same time). Default 1. */
  readonly together?: number;
}

/** What the stand-in saw of one answer. */
export interface AnswerSeen {
  /** Bytes of the body accepted by the socket (handed to the kernel) before the answer ended. */
  readonly bytesSent: number;
  /** True when the connection closed before the whole body was written. */
  readonly closedEarly: boolean;
}

export interface BigAnswerServer {
  readonly url: string;
  /** Requests received so far. */
  readonly requests: number;
  /** Answers that have ended (completed or cut off), in the order they ended. */
  readonly answers: readonly AnswerSeen[];
  /** Most answers streaming at the same time. */
  readonly mostAtOnce: number;
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

/**
 * The body: `{"transactionId":"tx-big","result":{"deepfake":{"score":0.9,"fine":true}},"pad":"xxx…"}`
 * of exactly `bytes` bytes (a valid OOTO deepfake answer, whatever its size), produced chunk by chunk.
 */
function* bodyChunks(bytes: number): Generator<Buffer> {
  const head = Buffer.from('{"transactionId":"tx-big","result":{"deepfake":{"score":0.9,"fine":true}},"pad":"');
  const tail = Buffer.from('"}');
  if (bytes < head.length + tail.length) throw new Error(`a body needs at least ${head.length + tail.length} bytes`);
  yield head;
  let pad = bytes - head.length - tail.length;
  const filler = Buffer.alloc(CHUNK, 'x');
  while (pad > 0) {
    const n = Math.min(pad, CHUNK);
    yield n === CHUNK ? filler : filler.subarray(0, n);
    pad -= n;
  }
  yield tail;
}

/** Writes the body with backpressure: never more queued in the process than one chunk past the socket's buffer. */
async function stream(res: ServerResponse, bytes: number): Promise<void> {
  for (const chunk of bodyChunks(bytes)) {
    if (res.destroyed) return;
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  if (!res.destroyed) res.end();
}

export async function startBigAnswerServer(options: BigAnswerOptions): Promise<BigAnswerServer> {
  let requests = 0;
  let streaming = 0;
  let mostAtOnce = 0;
  const answers: AnswerSeen[] = [];
  const waiting: (() => void)[] = [];
  const together = options.together ?? 1;
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // A worker asks a loopback base URL once whether it is the rescreen simulator (no credentials,
    // not a vendor call, never paid): not this server, and not one of its requests.
    if (req.method === 'GET' && req.url === '/__sim/identity') {
      res.writeHead(404).end();
      return;
    }
    requests += 1;
    // Take the whole upload first, as a vendor does, then answer.
    req.resume();
    req.on('end', () => {
      if (requests >= together) for (const go of waiting.splice(0)) go();
      if (requests < together) waiting.push(answer);
      else answer();
    });
    function answer(): void {
      const socket = res.socket;
      const before = socket?.bytesWritten ?? 0;
      const headers: Record<string, string | number> = { 'content-type': 'application/json' };
      if (options.framing === 'length') headers['content-length'] = options.bytes;
      res.writeHead(options.status ?? 200, headers);
      streaming += 1;
      mostAtOnce = Math.max(mostAtOnce, streaming);
      res.on('close', () => {
        streaming -= 1;
        answers.push({ bytesSent: (socket?.bytesWritten ?? before) - before, closedEarly: !res.writableFinished });
      });
      void stream(res, options.bytes);
    }
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    answers,
    get mostAtOnce() {
      return mostAtOnce;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
