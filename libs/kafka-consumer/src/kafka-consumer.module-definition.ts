import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { KafkaConsumerModuleOptions } from './interfaces/module-options.interface';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<KafkaConsumerModuleOptions>().setClassMethodName('forRoot').build();
