/**
 * OpenTelemetry tracing (README: Tracing), loaded only when the configuration turns it on: the SDK
 * and its instrumentations are imported here, lazily, so a process without `OTEL_*` loads none of
 * it. What it traces: BullMQ's own telemetry (a span per `addBulk`, per job — `process rescreen-<vendor>`
 * — with the trace context carried in the job from the enqueue that added it) and undici's requests
 * (the vendor call, an http(s) media fetch, the completion webhook's POST, each a child of the job or
 * delivery that made it). Spans leave over OTLP/HTTP, configured by the standard `OTEL_*` variables.
 */
import type { Telemetry } from 'bullmq';
import type { TracingConfig } from '../config/tracing.js';

/** What a process with tracing on hands to its queues and workers. */
export interface Tracing {
  /** BullMQ's telemetry option (bullmq-otel) for every Queue and Worker. */
  readonly bullmq: Telemetry;
  /** Sets attributes on the current span (the job's: batch, line, check). */
  annotate(attributes: Readonly<Record<string, string | number | boolean>>): void;
  /** Runs `fn` outside the current trace (housekeeping a job triggers but is not part of it). */
  detached<T>(fn: () => T): T;
  /** Sends the spans still buffered (before a one-shot command exits). */
  flush(): Promise<void>;
}

let started: Promise<Tracing> | undefined;

/**
 * Starts tracing for this process, once (later calls share the first): the global tracer provider
 * (W3C trace context, AsyncLocalStorage context), the OTLP/HTTP exporter, the undici instrumentation.
 */
export function startTracing(config: TracingConfig, version: string): Promise<Tracing> {
  return (started ??= load(config, version));
}

/** The tracing this process started, if any (for a flush at exit). */
export function activeTracing(): Promise<Tracing> | undefined {
  return started;
}

async function load(config: TracingConfig, version: string): Promise<Tracing> {
  const [{ NodeTracerProvider, BatchSpanProcessor }, resources, { UndiciInstrumentation }, { BullMQOtel }, api, exporters] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation-undici'),
    import('bullmq-otel'),
    import('@opentelemetry/api'),
    config.protocol === 'http/json' ? import('@opentelemetry/exporter-trace-otlp-http') : import('@opentelemetry/exporter-trace-otlp-proto'),
  ]);
  // Endpoint, headers, timeout and compression come from the OTEL_EXPORTER_OTLP_* variables.
  const exporter = new exporters.OTLPTraceExporter();
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over rescreen's defaults.
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': 'rescreen', 'service.version': version }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  provider.register();
  new UndiciInstrumentation({
    // A signed media URL's token (or a webhook URL's) never reaches a span: no query string.
    startSpanHook: (request) => {
      const url = new URL(request.path, request.origin);
      const query = url.search !== '';
      url.search = '';
      url.username = '';
      url.password = '';
      return { 'url.full': url.href, 'url.query': query ? 'REDACTED' : '' };
    },
  }).enable();
  return {
    bullmq: new BullMQOtel('rescreen', version),
    annotate: (attributes) => api.trace.getActiveSpan()?.setAttributes(attributes),
    detached: (fn) => api.context.with(api.ROOT_CONTEXT, fn),
    flush: () => provider.forceFlush(),
  };
}
