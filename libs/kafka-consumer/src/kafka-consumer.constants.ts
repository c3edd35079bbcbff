export const KAFKA_HANDLER_METADATA = 'nestjs-kafka-consumer:handler';
export const KAFKA_ERROR_HOOK_METADATA = 'nestjs-kafka-consumer:error-hook';
export const RESOLVED_MODULE_OPTIONS = Symbol('nestjs-kafka-consumer:resolved-options');
export const KAFKA_REBALANCE_HOOK_METADATA = 'nestjs-kafka-consumer:rebalance-hook';
/** Parameters of handlers declared with @Payload, @Ctx, @Key, @Headers. */
export const KAFKA_ARGS_METADATA = 'nestjs-kafka-consumer:args';
