/** Injection token of the resolved `OrdersAppConfig`. */
export const ORDERS_APP_CONFIG = Symbol('ORDERS_APP_CONFIG');

/** Injection token of the `OrdersStore` (SQLite or PostgreSQL, from DATABASE_URL). */
export const ORDERS_STORE = Symbol('ORDERS_STORE');

/** Name of the order-events handler; module config overrides it by this name. */
export const ORDERS_HANDLER = 'OrdersConsumer.onOrderEvent';

/**
 * How long shutdown waits for running handlers before it commits and leaves.
 * The container's stop grace period must be longer (docker-compose.yml).
 */
export const SHUTDOWN_TIMEOUT_MS = 25_000;

/** Injection token of the OpenTelemetry Node SDK, when OTEL_* variables started one. */
export const OPEN_TELEMETRY_SDK = Symbol('OPEN_TELEMETRY_SDK');
