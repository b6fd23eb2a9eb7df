/**
 * Starts the OpenTelemetry Node SDK when the operator asked for traces in the standard way
 * (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER, all read by the
 * SDK itself), and only then: the gateway depends on `@opentelemetry/api` alone, and the SDK (with its
 * exporters) is an optional install the operator adds (`npm install @opentelemetry/sdk-node`). Loaded by
 * name at run time so nothing of it is imported, or required, when tracing is off.
 */
export interface TracingSdk {
  /** Flushes the spans still buffered and stops exporting (call on shutdown). */
  shutdown(): Promise<void>;
}

interface NodeSdkModule {
  NodeSDK: new (opts: { serviceName?: string }) => { start(): void; shutdown(): Promise<void> };
}

/** Whether the environment asks for trace export (OTEL_TRACES_EXPORTER=none turns it off whatever else is set). */
export function tracesRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_TRACES_EXPORTER || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Registers the SDK's global tracer provider (and its W3C propagator) before the gateway is built, so
 * `createTracing()` finds it. Null when tracing is not requested. When it is requested but the SDK is not
 * installed, start-up stops with the command that fixes it: an operator who set the endpoint expects spans,
 * and silently exporting none would look like a broken collector.
 */
export async function startTracingSdk(
  env: NodeJS.ProcessEnv,
  load: (name: string) => Promise<unknown> = (name) => import(name),
): Promise<TracingSdk | null> {
  if (!tracesRequested(env)) return null;
  let mod: NodeSdkModule;
  try {
    mod = (await load('@opentelemetry/sdk-node')) as NodeSdkModule;
  } catch (e) {
    throw new Error(
      `OTEL_* trace export is configured but @opentelemetry/sdk-node cannot be loaded (${(e as Error).message}); ` +
        'install it next to countersign (npm install @opentelemetry/sdk-node) or unset the OTEL_ exporter variables',
    );
  }
  // The SDK reads the exporter, endpoint, headers, sampler and resource from the environment itself.
  const sdk = new mod.NodeSDK(env.OTEL_SERVICE_NAME ? {} : { serviceName: 'countersign' });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
