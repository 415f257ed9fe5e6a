/**
 * OpenTelemetry tracing, received over OTLP/HTTP by a tiny receiver in the test: a traced `run` of
 * 20 lines yields 20 job spans (BullMQ's `process`), each with its vendor call (undici) as a child and
 * the enqueue's `addBulk` as its parent; the completion webhook's delivery continues the trace of the
 * job that finished the batch, and its POST carries the trace context.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';

/** A span as OTLP/JSON carries it (ids in hex). */
interface Span {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  /** 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly attributes?: readonly { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

interface Receiver {
  readonly url: string;
  readonly spans: Span[];
  /** Requests to /v1/traces: content types seen. */
  readonly contentTypes: string[];
  readonly hooks: { headers: IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

/** An OTLP/HTTP receiver (JSON bodies decoded; protobuf ones counted) and a webhook endpoint on one port. */
async function startReceiver(): Promise<Receiver> {
  const spans: Span[] = [];
  const contentTypes: string[] = [];
  const hooks: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/v1/traces') {
        contentTypes.push(String(req.headers['content-type']));
        if (String(req.headers['content-type']).includes('json')) {
          const doc = JSON.parse(body.toString('utf8')) as { resourceSpans: { scopeSpans: { spans: Span[] }[] }[] };
          for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        }
        res.setHeader('content-type', 'application/json');
        res.end('{}');
        return;
      }
      hooks.push({ headers: req.headers, body: body.toString('utf8') });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, contentTypes, hooks, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const attr = (span: Span, key: string): string | undefined => {
  const v = span.attributes?.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? String(v.intValue) : undefined);
};

let h: Harness;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  h = await createHarness('trace');
  for (let i = 1; i <= 4; i++) await h.file(`p${i}.jpg`, sampleJpeg({ seed: i }));
}, 60_000);
afterAll(async () => {
  await h.close();
  await receiver.close();
});

describe('tracing (OTLP/HTTP)', () => {
  it('a traced run of 20 lines: 20 job spans under the enqueue, each with its vendor call as a child, and the webhook delivery in the trace', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => ({ ref: `p${(i % 4) + 1}.jpg`, check: 'ooto-deepfake', subject: `t${i + 1}` }));
    const manifest = await h.manifest('traced.jsonl', lines);
    const env = {
      ...h.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'rescreen-under-test',
      RESCREEN_WEBHOOK_URL: `${receiver.url}/hook?token=hook-secret-token`,
    };
    const run = await runCli(['run', manifest, '--batch', 'traced'], env);
    expect(run.code, run.stderr).toBe(0);
    const { spans } = receiver;
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const jobs = spans.filter((s) => s.kind === 5 && s.name === 'process ooto' && attr(s, 'rescreen.batch') === 'traced');
    expect(jobs.map((s) => Number(attr(s, 'rescreen.line'))).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const job of jobs) {
      // Its vendor call: an undici client span, a child of the job span, to the simulator's OOTO route.
      const calls = spans.filter((s) => s.parentSpanId === job.spanId && s.kind === 3);
      expect(calls.map((c) => [c.name, new URL(attr(c, 'url.full')!).pathname])).toEqual([['POST', '/api/v1.0/deepfake']]);
      expect(calls[0]!.traceId).toBe(job.traceId);
      // Its parent: the enqueue's addBulk (the trace context travelled in the job).
      const parent = byId.get(job.parentSpanId ?? '');
      expect(parent).toMatchObject({ kind: 4, traceId: job.traceId });
      expect(parent?.name).toMatch(/^addBulk ooto/);
    }
    // The completion webhook: its delivery job continues the trace of the job that finished the batch,
    // and its POST carries that trace's context (the receiver may get other events too: review cases).
    const finished = receiver.hooks.filter((r) => r.body.includes('batch.finished'));
    expect(finished).toHaveLength(1);
    const [, traceId, postId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(String(finished[0]!.headers.traceparent)) ?? [];
    const post = byId.get(postId ?? '');
    expect(post).toMatchObject({ kind: 3, traceId });
    expect(attr(post!, 'url.full')).toBe(`${receiver.url}/hook`);
    expect(attr(post!, 'url.query')).toBe('REDACTED');
    const delivery = byId.get(post!.parentSpanId ?? '');
    expect(delivery).toMatchObject({ kind: 5, name: 'process notifications', traceId });
    expect(jobs.map((j) => j.traceId)).toContain(traceId);
    // No credential and no query token in any span.
    const all = JSON.stringify(spans);
    for (const secret of ['hook-secret-token', h.env.OOTO_APP_KEY!, h.env.OOTO_APP_ID!]) expect(all).not.toContain(secret);
  }, 120_000);

  it('sends protobuf by default (the spec default http/protobuf), and nothing without OTEL_* variables', async () => {
    const manifest = await h.manifest('plain.jsonl', [{ ref: 'p1.jpg', check: 'ooto-deepfake', subject: 'x1' }]);
    const before = receiver.contentTypes.length;
    const off = await runCli(['run', manifest, '--batch', 'untraced'], { ...h.env, RESCREEN_WEBHOOK_URL: `${receiver.url}/hook` });
    expect(off.code, off.stderr).toBe(0);
    expect(receiver.contentTypes.length).toBe(before);
    const proto = await runCli(['run', manifest, '--batch', 'proto'], { ...h.env, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces` });
    expect(proto.code, proto.stderr).toBe(0);
    expect(receiver.contentTypes.slice(before)).toContain('application/x-protobuf');
    const bad = await runCli(['run', manifest, '--batch', 'bad'], { ...h.env, OTEL_TRACES_EXPORTER: 'zipkin' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/OTEL_TRACES_EXPORTER must be otlp or none/);
  }, 120_000);
});
