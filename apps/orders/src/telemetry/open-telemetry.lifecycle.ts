import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import { OPEN_TELEMETRY_SDK } from '../orders.constants';

/**
 * Flushes and stops the OpenTelemetry SDK when the app closes: after the
 * consumers drained and committed (their spans and counts are in the last export).
 */
@Injectable()
export class OpenTelemetryLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('OpenTelemetry');

  constructor(@Optional() @Inject(OPEN_TELEMETRY_SDK) private readonly sdk?: NodeSDK) {}

  async onApplicationShutdown(): Promise<void> {
    await this.sdk?.shutdown().catch((error: unknown) => this.logger.warn(`shutdown: ${(error as Error)?.message ?? error}`));
  }
}
