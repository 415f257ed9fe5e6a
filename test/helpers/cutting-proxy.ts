/**
 * A hostile stand-in in front of a vendor (the simulator): it passes every request through, except
 * those whose body carries a marker, which it answers with a status line, headers and the start of
 * a body — and then resets the connection. A reset mid-answer: the vendor got the call, may bill it,
 * and no answer arrives (unlike a reset before any answer, which a gateway does).
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CuttingProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Where requests without the marker go (set once the target is listening). */
  target: string;
  /** Requests cut so far. */
  readonly cut: () => number;
  close(): Promise<void>;
}

export async function startCuttingProxy(marker: string): Promise<CuttingProxy> {
  const needle = Buffer.from(marker, 'latin1');
  let cut = 0;
  const proxy: CuttingProxy = {
    url: '',
    target: '',
    cut: () => cut,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (body.includes(needle)) {
        cut += 1;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
        res.write('{"transactionId":"cut-mid-answer","result":{"deepfake":{"sc');
        // Let the head and the first bytes reach the client, then reset.
        setTimeout(() => res.socket?.resetAndDestroy(), 20);
        return;
      }
      const headers: IncomingHttpHeaders = { ...req.headers, host: new URL(proxy.target).host, 'content-length': String(body.length) };
      delete headers['transfer-encoding'];
      const upstream = request(`${proxy.target}${req.url ?? '/'}`, { method: req.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.socket?.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(proxy, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  return proxy;
}
