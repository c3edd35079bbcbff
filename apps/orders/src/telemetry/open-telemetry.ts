import type { NodeSDK } from '@opentelemetry/sdk-node';

/** Variables that ask for an exporter: without one of them the app exports nothing and starts no SDK. */
const EXPORTER_VARIABLES = [
  'OTEL_TRACES_EXPORTER',
  'OTEL_METRICS_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
];

/**
 * Starts OpenTelemetry's Node SDK, configured by the standard `OTEL_*`
 * environment variables (exporters, endpoints, protocol, service name,
 * sampler, export intervals), when they ask for an exporter and
 * `OTEL_SDK_DISABLED` is not true. Runs before the Nest application is built:
 * the consumer module looks for a registered tracer and meter provider when
 * its groups start. No automatic instrumentations: the consumer module makes
 * its own spans and metrics. The SDK is loaded only when used.
 */
export function startOpenTelemetry(env: NodeJS.ProcessEnv): NodeSDK | undefined {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return undefined;
  if (!EXPORTER_VARIABLES.some((name) => (env[name] ?? '').trim() !== '')) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({ instrumentations: [] });
  sdk.start();
  return sdk;
}
