import type * as OtelApi from '@opentelemetry/api';

export type OtelApiModule = typeof OtelApi;

let loaded: OtelApiModule | null | undefined;

/**
 * @opentelemetry/api when the application has it (an optional peer), loaded
 * on first use; undefined when it is not installed.
 */
export function otelApi(): OtelApiModule | undefined {
  if (loaded === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require('@opentelemetry/api') as OtelApiModule;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/**
 * Whether the application registered a tracer provider (an SDK): without
 * one every span would be a no-op, and the module skips tracing altogether.
 */
export function tracerProviderRegistered(api: OtelApiModule): boolean {
  const provider = api.trace.getTracerProvider() as OtelApi.TracerProvider & { getDelegate?: () => OtelApi.TracerProvider };
  const delegate = provider.getDelegate ? provider.getDelegate() : provider;
  return delegate.constructor?.name !== 'NoopTracerProvider';
}

/** Whether the application registered a meter provider (an SDK with a reader); without one every instrument is a no-op. */
export function meterProviderRegistered(api: OtelApiModule): boolean {
  return api.metrics.getMeterProvider().constructor?.name !== 'NoopMeterProvider';
}
