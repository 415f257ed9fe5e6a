/**
 * Whether to trace (README: Tracing): the standard OpenTelemetry variables, read here once. Tracing
 * is off unless an OTLP endpoint or `OTEL_TRACES_EXPORTER=otlp` is set; the SDK itself reads the rest
 * of the `OTEL_*` variables (endpoint, headers, timeout, sampler, resource attributes, batching).
 */
import { z } from 'zod';

/** How spans leave the process when tracing is on. */
export interface TracingConfig {
  /** OTLP/HTTP encoding: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL; default `http/protobuf` (the spec's). */
  readonly protocol: 'http/protobuf' | 'http/json';
  /** The values of OTEL_EXPORTER_OTLP_HEADERS / _TRACES_HEADERS (a collector's API key): kept out of logs like credentials. */
  readonly headerValues: readonly string[];
}

const text = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const TracingEnv = z.object({
  OTEL_SDK_DISABLED: text,
  OTEL_TRACES_EXPORTER: text,
  OTEL_EXPORTER_OTLP_ENDPOINT: text,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: text,
  OTEL_EXPORTER_OTLP_PROTOCOL: text,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: text,
  OTEL_EXPORTER_OTLP_HEADERS: text,
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: text,
});

/**
 * The tracing settings, or undefined when tracing is off; an error message (naming the variable)
 * for a value rescreen cannot honour (another exporter than OTLP, OTLP over gRPC).
 */
export function parseTracing(env: Readonly<Record<string, string | undefined>>): TracingConfig | undefined | { error: string } {
  const e = TracingEnv.parse(env);
  if (e.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return undefined;
  const exporters = (e.OTEL_TRACES_EXPORTER ?? '').toLowerCase().split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (exporters.includes('none')) return undefined;
  const other = exporters.filter((x) => x !== 'otlp');
  if (other.length > 0) return { error: `OTEL_TRACES_EXPORTER must be otlp or none: rescreen sends traces over OTLP/HTTP only (got ${JSON.stringify(e.OTEL_TRACES_EXPORTER)})` };
  if (exporters.length === 0 && e.OTEL_EXPORTER_OTLP_ENDPOINT === undefined && e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT === undefined) return undefined;
  const protocolVar = e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = (e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').toLowerCase();
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    return { error: `${protocolVar} must be http/protobuf or http/json: rescreen sends traces over OTLP/HTTP (got ${JSON.stringify(protocol)})` };
  }
  const headerValues = [e.OTEL_EXPORTER_OTLP_HEADERS, e.OTEL_EXPORTER_OTLP_TRACES_HEADERS]
    .flatMap((h) => (h ?? '').split(','))
    .map((pair) => decodeURIComponentSafe(pair.slice(pair.indexOf('=') + 1).trim()))
    .filter((v) => v !== '');
  return { protocol, headerValues };
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
