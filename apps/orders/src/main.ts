import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfigError } from './config/app-config.error';
import { loadConfig, OrdersAppConfig } from './config/app-config';
import { redactDatabaseUrl } from './database/database-target';
import { OrdersAppModule } from './orders-app.module';
import { startOpenTelemetry } from './telemetry/open-telemetry';

/**
 * Starts the orders app with configuration from the environment. SIGTERM or
 * SIGINT closes it: the Kafka consumers drain and commit, then the database closes.
 */
async function main(): Promise<void> {
  let config: OrdersAppConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof AppConfigError) {
      process.stderr.write(`orders app: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // Before the app is built: the consumer groups look for tracer and meter providers as they start.
  const openTelemetry = startOpenTelemetry(process.env);
  const app = await NestFactory.createApplicationContext(OrdersAppModule.forConfig(config, openTelemetry), { logger: ['log', 'warn', 'error'], abortOnError: false });
  app.enableShutdownHooks();
  const { commit, concurrency } = config.ordersHandler;
  new Logger('OrdersApp').log(
    `ready: topic ${config.ordersTopic}, group ${config.kafka.groupId}, brokers ${config.kafka.brokers.join(',')}, ` +
      `database ${redactDatabaseUrl(config.databaseUrl)}, commit ${commit.mode}${commit.sync ? ' (sync)' : ''}, concurrency ${concurrency}` +
      `${openTelemetry ? ', OpenTelemetry on' : ''}`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`orders app failed to start: ${(error as Error)?.stack ?? error}\n`);
  process.exit(1);
});
