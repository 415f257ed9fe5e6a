/**
 * ACME: a throw-away face vendor that exists only in this test folder. Its whole API is
 * `POST /v1/liveness` with a JSON body `{"image": base64}` and `Authorization: Bearer <key>`; it
 * answers `{"id", "live", "score", "echo"}` (echoing the Authorization header, as careless vendors
 * do, so the test sees it redacted). A wrong key is a 401.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AcmeServer {
  readonly url: string;
  /** Images received, decoded. */
  readonly received: Buffer[];
  close(): Promise<void>;
}

export async function startAcmeServer(key: string): Promise<AcmeServer> {
  const received: Buffer[] = [];
  let calls = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || req.url !== '/v1/liveness') return send(404, { error: 'no such endpoint' });
      if (req.headers.authorization !== `Bearer ${key}`) return send(401, { error: 'bad key' });
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { image?: string };
      if (typeof body.image !== 'string') return send(400, { error: 'image missing' });
      const image = Buffer.from(body.image, 'base64');
      received.push(image);
      calls += 1;
      send(200, { id: `acme-tx-${calls}`, live: image.length > 0, score: 0.91, echo: req.headers.authorization });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
