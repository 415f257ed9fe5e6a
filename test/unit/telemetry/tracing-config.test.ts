import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTracing } from '../../../src/config/tracing.js';
import { loadConfig } from '../../../src/runtime/built-ins.js';

describe('tracing configuration (OTEL_*)', () => {
  it('is off unless an OTLP endpoint or OTEL_TRACES_EXPORTER=otlp is set, and off when disabled', () => {
    expect(parseTracing({})).toBeUndefined();
    expect(parseTracing({ OTEL_SERVICE_NAME: 'x' })).toBeUndefined();
    expect(parseTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ protocol: 'http/protobuf', headerValues: [] });
    expect(parseTracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toMatchObject({ protocol: 'http/json' });
    expect(parseTracing({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).toMatchObject({ protocol: 'http/protobuf' });
    expect(parseTracing({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBeUndefined();
    expect(parseTracing({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBeUndefined();
  });

  it('refuses what it cannot honour, naming the variable; the collector headers are secrets', () => {
    expect(parseTracing({ OTEL_TRACES_EXPORTER: 'zipkin' })).toEqual({ error: expect.stringContaining('OTEL_TRACES_EXPORTER must be otlp or none') });
    expect(parseTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual({ error: expect.stringContaining('OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json') });
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=collector-key-123456,other=second%20value' };
    expect(parseTracing(env)).toMatchObject({ headerValues: ['collector-key-123456', 'second value'] });
    const config = loadConfig(env);
    expect(config.tracing).toBeDefined();
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: 'console' })).toThrow(/OTEL_TRACES_EXPORTER must be otlp or none/);
  });

  it('no module imports the OpenTelemetry SDK statically: it loads only when tracing is on', async () => {
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (path.endsWith('.ts')) files.push(path);
      }
    };
    await walk('src');
    await walk('jobs');
    const staticImport = /^import\s+(?!type\s)[^;]*from\s+'(@opentelemetry\/[^']+|bullmq-otel)'/m;
    const offenders = [];
    for (const file of files) if (staticImport.test(await readFile(file, 'utf8'))) offenders.push(file);
    expect(offenders).toEqual([]);
    // And the one module that loads it does so with import().
    expect(await readFile('src/telemetry/tracing.ts', 'utf8')).toMatch(/import\('@opentelemetry\/sdk-trace-node'\)/);
  });
});
