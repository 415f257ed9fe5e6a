import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { GLAIR_MAX_BYTES } from '../../../src/vendors/glair/vendor.js';
import {
  ErrorCodes,
  MediaFetchError,
  MediaRejectedError,
  MediaUnavailableError,
  type RescreenError,
} from '../../../src/errors/errors.js';
import { createMediaLoader } from '../../../src/media/loader.js';
import { gif, jpeg, mp4, png } from './fixtures.js';

/** Signed-URL style query: none of it may ever appear in an error message. */
const SECRET = 'SECRET-TOKEN-1234';
const QUERY = `?X-Amz-Signature=${SECRET}&X-Amz-Credential=AKIA${SECRET}`;
const CAP = 64 * 1024;

let server: Server;
let base: string;
let agent: Agent;
let loader: ReturnType<typeof createMediaLoader>;
/** The media server of these tests is on 127.0.0.1, which the default host policy refuses. */
const LOCAL_MEDIA = { allowHosts: ['127.0.0.1'], allowPrivate: false };

/** What the endless route did: bytes it managed to hand to the socket, and whether the client hung up. */
let endless: { sent: number; closed: Promise<void> } | undefined;
const requests: string[] = [];

function route(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  requests.push(url.pathname);
  res.on('error', () => undefined);
  const send = (status: number, body: Buffer, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-length': String(body.length), ...headers });
    res.end(body);
  };
  switch (url.pathname) {
    case '/media/a.jpg':
      return send(200, jpeg(), { 'content-type': 'image/jpeg' });
    case '/media/chunked.png': {
      // No Content-Length: the loader must count the streamed bytes itself.
      res.writeHead(200, { 'content-type': 'image/png' });
      const bytes = png(10_000);
      res.write(bytes.subarray(0, 100));
      res.end(bytes.subarray(100));
      return;
    }
    case '/media/clip.mp4':
      return send(200, mp4('isom', 4096), { 'content-type': 'application/octet-stream' });
    case '/media/anim.gif':
      return send(200, gif(), { 'content-type': 'image/jpeg' });
    case '/media/empty.jpg':
      return send(200, Buffer.alloc(0));
    case '/media/':
      return send(200, png());
    case '/redirect':
      res.writeHead(302, { location: `/media/a.jpg${QUERY}`, 'content-length': '0' });
      return void res.end();
    case '/missing.jpg':
      return send(404, Buffer.from('no such key'));
    case '/gone.jpg':
      return send(410, Buffer.from('gone'));
    case '/forbidden.jpg':
      return send(403, Buffer.from('<Error>Request has expired</Error>'));
    case '/boom.jpg':
      return send(500, Buffer.from('internal error'));
    case '/unavailable.jpg':
      return send(503, Buffer.from('try later'));
    case '/busy.jpg':
      return send(429, Buffer.from('slow down'));
    case '/declared-big.jpg': {
      // Announces 10 MiB, sends a little, then waits: the loader must refuse on the header alone.
      res.writeHead(200, { 'content-length': String(10 * 1024 * 1024), 'content-type': 'image/jpeg' });
      res.write(jpeg(1024));
      const state = { sent: 1024, closed: new Promise<void>((resolve) => res.on('close', resolve)) };
      endless = state;
      return;
    }
    case '/endless.jpg': {
      // Streams forever (until a safety stop at 256 MiB) with no Content-Length.
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      jpeg(64).copy(chunk);
      const state = { sent: 0, closed: new Promise<void>((resolve) => res.on('close', resolve)) };
      endless = state;
      const pump = () => {
        while (!res.destroyed && state.sent < 256 * 1024 * 1024) {
          state.sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
      return;
    }
    case '/no-headers.jpg':
      return; // never answers
    case '/stalled-body.jpg':
      res.writeHead(200, { 'content-length': '5000', 'content-type': 'image/jpeg' });
      res.write(jpeg(100).subarray(0, 50));
      return; // never finishes
    default:
      return send(404, Buffer.alloc(0));
  }
}

async function failure<T extends RescreenError>(promise: Promise<unknown>, type: abstract new (...args: never[]) => T): Promise<T> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  const message = (err as Error).message;
  expect(message).not.toContain(SECRET);
  expect(message).not.toContain('X-Amz');
  return err as T;
}

beforeAll(async () => {
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = new Agent({ keepAliveTimeout: 1_000 });
  loader = createMediaLoader({ photoMaxBytes: CAP, fetchTimeoutMs: 400, dispatcher: agent, hostPolicy: LOCAL_MEDIA });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await agent.close();
});

beforeEach(() => {
  endless = undefined;
  requests.length = 0;
});

describe('http(s) references: success', () => {
  it('downloads a photo, sniffs it and names it after the last path segment (without the query)', async () => {
    const blob = await loader.loadPhoto(`${base}/media/a.jpg${QUERY}`, '/ignored');
    expect(blob.mime).toBe('image/jpeg');
    expect(blob.filename).toBe('a.jpg');
    expect(blob.bytes.equals(jpeg())).toBe(true);
  });

  it('counts a chunked body itself and trusts the bytes, not Content-Type', async () => {
    expect((await loader.loadPhoto(`${base}/media/chunked.png`, '/')).mime).toBe('image/png');
    expect((await loader.loadVideo(`${base}/media/clip.mp4`, '/')).mime).toBe('video/mp4');
    const err = await failure(loader.loadPhoto(`${base}/media/anim.gif${QUERY}`, '/'), MediaRejectedError);
    expect(err.code).toBe(ErrorCodes.MEDIA_UNSUPPORTED_TYPE);
    expect(err.message).toContain('expected JPEG or PNG, got image/gif');
  });

  it('follows a redirect', async () => {
    expect((await loader.loadPhoto(`${base}/redirect${QUERY}`, '/')).mime).toBe('image/jpeg');
    expect(requests).toEqual(['/redirect', '/media/a.jpg']);
  });

  it('falls back to a generated file name and refuses an empty body', async () => {
    expect((await loader.loadPhoto(`${base}/media/`, '/')).filename).toBe('media.png');
    expect((await failure(loader.loadPhoto(`${base}/media/empty.jpg${QUERY}`, '/'), MediaRejectedError)).code).toBe(
      ErrorCodes.MEDIA_EMPTY,
    );
  });

  it('loads frames over http', async () => {
    const blobs = await loader.loadFrames([`${base}/media/a.jpg${QUERY}`, `${base}/media/`], '/');
    expect(blobs.map((b) => b.filename)).toEqual(['a.jpg', 'frame-2.png']);
  });

  it('works with the default shared keep-alive dispatcher', async () => {
    const blob = await createMediaLoader({ hostPolicy: LOCAL_MEDIA }).loadPhoto(`${base}/media/a.jpg`, '/');
    expect(blob.mime).toBe('image/jpeg');
  });
});

describe('http(s) references: status codes', () => {
  it('404 and 410 are MEDIA_NOT_FOUND (MediaUnavailableError)', async () => {
    for (const name of ['missing', 'gone']) {
      const err = await failure(loader.loadPhoto(`${base}/${name}.jpg${QUERY}`, '/'), MediaUnavailableError);
      expect(err.code).toBe(ErrorCodes.MEDIA_NOT_FOUND);
      expect(err.message).toContain(`${base}/${name}.jpg`);
    }
  });

  it('another 4xx (an expired signed URL: 403) is MediaUnavailableError MEDIA_UNREADABLE', async () => {
    const err = await failure(loader.loadPhoto(`${base}/forbidden.jpg${QUERY}`, '/'), MediaUnavailableError);
    expect(err.code).toBe(ErrorCodes.MEDIA_UNREADABLE);
    expect(err.message).toContain('403');
  });

  it('500, 503 and 429 are transient: MediaFetchError', async () => {
    for (const name of ['boom', 'unavailable', 'busy']) {
      const err = await failure(loader.loadPhoto(`${base}/${name}.jpg${QUERY}`, '/'), MediaFetchError);
      expect(err.code).toBe(ErrorCodes.MEDIA_FETCH);
    }
  });
});

describe('http(s) references: size caps', () => {
  it('refuses on a Content-Length over the cap before reading the body', async () => {
    const err = await failure(loader.loadPhoto(`${base}/declared-big.jpg${QUERY}`, '/'), MediaRejectedError);
    expect(err.code).toBe(ErrorCodes.MEDIA_TOO_LARGE);
    expect(err.message).toContain(String(10 * 1024 * 1024));
    expect(err.message).toContain(String(CAP));
    await expect(endless?.closed).resolves.toBeUndefined();
  });

  it('aborts an endless body as soon as it passes the cap', async () => {
    const err = await failure(loader.loadPhoto(`${base}/endless.jpg${QUERY}`, '/'), MediaRejectedError);
    expect(err.code).toBe(ErrorCodes.MEDIA_TOO_LARGE);
    expect(err.message).toContain(`larger than the limit of ${CAP} bytes`);
    // The server sees the connection go away, long before its 256 MiB safety stop.
    const state = endless!;
    await vi.waitFor(() => state.closed, { timeout: 2_000 });
    expect(state.sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('caps a video at 6 MiB on the header alone', async () => {
    const videoLoader = createMediaLoader({ dispatcher: agent, fetchTimeoutMs: 2_000, hostPolicy: LOCAL_MEDIA });
    // declared-big announces 10 MiB > GLAIR_MAX_BYTES.
    const err = await failure(videoLoader.loadVideo(`${base}/declared-big.jpg${QUERY}`, '/'), MediaRejectedError);
    expect(err.message).toContain(String(GLAIR_MAX_BYTES));
  });
});

describe('http(s) references: network failures', () => {
  it('a server that never answers times out: MediaFetchError', async () => {
    const started = Date.now();
    const err = await failure(loader.loadPhoto(`${base}/no-headers.jpg${QUERY}`, '/'), MediaFetchError);
    expect(err.code).toBe(ErrorCodes.MEDIA_FETCH);
    expect(err.message).toContain('timed out');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a body that stalls times out: MediaFetchError', async () => {
    const err = await failure(loader.loadPhoto(`${base}/stalled-body.jpg${QUERY}`, '/'), MediaFetchError);
    expect(err.message).toContain('timed out');
  });

  it('a refused connection is MediaFetchError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failure(loader.loadPhoto(`http://127.0.0.1:${port}/a.jpg${QUERY}`, '/'), MediaFetchError);
    expect(err.code).toBe(ErrorCodes.MEDIA_FETCH);
    expect(err.message).toContain(`http://127.0.0.1:${port}/a.jpg`);
  });

  it("the caller's abort signal stops a download with the signal's reason", async () => {
    const slowLoader = createMediaLoader({ dispatcher: agent, fetchTimeoutMs: 10_000, hostPolicy: LOCAL_MEDIA });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('worker shutting down')), 50);
    await expect(slowLoader.loadPhoto(`${base}/no-headers.jpg`, '/', controller.signal)).rejects.toThrow('worker shutting down');
  });
});
