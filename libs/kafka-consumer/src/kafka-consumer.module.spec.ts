import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { KafkaHandler } from './decorators/kafka-handler.decorator';
import { KafkaConsumerConfigError } from './errors/kafka-consumer-config.error';
import { KafkaConsumerModule } from './kafka-consumer.module';

describe('KafkaConsumerModule options', () => {
  it('forRoot throws on invalid options before anything connects', () => {
    expect(() => KafkaConsumerModule.forRoot({ brokers: [] })).toThrow(KafkaConsumerConfigError);
    expect(() => KafkaConsumerModule.forRoot({ brokers: ['h:1'], sessionTimeoutMs: 3000, heartbeatIntervalMs: 5000 })).toThrow(
      /heartbeatIntervalMs = 5000: must be below sessionTimeoutMs \(3000\)/,
    );
  });

  it('forRootAsync validates what the factory returns', async () => {
    const moduleRef = Test.createTestingModule({
      imports: [KafkaConsumerModule.forRootAsync({ useFactory: () => ({ brokers: 'h:1', autoOffsetReset: 'oldest' as never }) })],
    });
    await expect(moduleRef.compile()).rejects.toThrow(/autoOffsetReset = "oldest": must be one of earliest, latest/);
  });

  it('fails at init when two handlers of one group claim a topic', async () => {
    @Injectable()
    class First {
      @KafkaHandler('orders', { groupId: 'g' })
      handle(): void {}
    }
    @Injectable()
    class Second {
      @KafkaHandler(['orders'], { groupId: 'g' })
      handle(): void {}
    }
    const app = await Test.createTestingModule({
      imports: [KafkaConsumerModule.forRoot({ brokers: ['127.0.0.1:1'] })],
      providers: [First, Second],
    }).compile();
    app.useLogger(false);
    await expect(app.init()).rejects.toThrow(/topic "orders" is already claimed by handler First.handle in group "g"/);
  });
});
