import type { KafkaHandlerMetadata } from '../interfaces/handler-options.interface';
import type { KafkaConsumerModuleOptions } from '../interfaces/module-options.interface';
import { resolveGroups, resolveModuleOptions } from './resolve-options';
import { routeTopic } from './route-topic';
import { configError } from '../../../../test/support/config-error';

const base: KafkaConsumerModuleOptions = { brokers: ['localhost:9092'], groupId: 'g' };
const handler = (name: string, metadata: Partial<KafkaHandlerMetadata>) => ({
  name,
  metadata: { topics: 'orders', batch: false, ...metadata } as KafkaHandlerMetadata,
  source: name,
});
const groups = (options: Partial<KafkaConsumerModuleOptions>, handlers: Array<ReturnType<typeof handler>>) =>
  resolveGroups(resolveModuleOptions({ ...base, ...options }), handlers);

describe('resolveModuleOptions', () => {
  it('applies defaults and accepts a comma-separated broker list', () => {
    const resolved = resolveModuleOptions({ brokers: 'a:9092, b:9093' });
    expect(resolved.brokers).toEqual(['a:9092', 'b:9093']);
    expect(resolved.defaults).toMatchObject({ sessionTimeoutMs: 30000, heartbeatIntervalMs: 3000, autoOffsetReset: 'latest', maxPollRecords: 500, maxBufferedBytes: 2097152 });
    expect(resolved.clientId).toBe('nestjs-kafka-consumer');
  });

  it.each([
    [{ brokers: undefined }, 'brokers', /required/],
    [{ brokers: [] }, 'brokers', /required/],
    [{ brokers: ['no-port'] }, 'brokers', /host:port/],
  ])('rejects missing or malformed brokers %#', (options, option, message) => {
    const error = configError(() => resolveModuleOptions(options as unknown as KafkaConsumerModuleOptions));
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });

  it('refuses an eager strategy whose drain bound (shutdownTimeoutMs) reaches the rebalance timeout', () => {
    const eager = configError(() => resolveModuleOptions({ ...base, assignmentStrategy: 'range', shutdownTimeoutMs: 60_000, rebalanceTimeoutMs: 60_000 }));
    expect(eager.option).toBe('shutdownTimeoutMs');
    expect(eager.message).toMatch(/shutdownTimeoutMs = 60000: must be below rebalanceTimeoutMs \(60000\) with assignmentStrategy "range"/);
    // Per group: the group's own strategy and rebalance timeout count.
    const group = configError(() =>
      resolveModuleOptions({ ...base, shutdownTimeoutMs: 20_000, groups: { billing: { assignmentStrategy: 'sticky', rebalanceTimeoutMs: 15_000 } } }),
    );
    expect(group.message).toMatch(/must be below groups\.billing\.rebalanceTimeoutMs \(15000\) with assignmentStrategy "sticky"/);
    // cooperative-sticky drains only revoked partitions after the join: no such bound.
    expect(() => resolveModuleOptions({ ...base, shutdownTimeoutMs: 60_000, rebalanceTimeoutMs: 60_000 })).not.toThrow();
    expect(() => resolveModuleOptions({ ...base, assignmentStrategy: 'range', shutdownTimeoutMs: 59_999, rebalanceTimeoutMs: 60_000 })).not.toThrow();
  });

  it('rejects a heartbeat interval not below the session timeout, naming both', () => {
    const error = configError(() => resolveModuleOptions({ ...base, sessionTimeoutMs: 6000, heartbeatIntervalMs: 6000 }));
    expect(error.option).toBe('heartbeatIntervalMs');
    expect(error.value).toBe(6000);
    expect(error.message).toMatch(/heartbeatIntervalMs = 6000: must be below sessionTimeoutMs \(6000\)/);
  });

  it('checks per-group settings against the module defaults', () => {
    const error = configError(() => resolveModuleOptions({ ...base, heartbeatIntervalMs: 1000, groups: { slow: { sessionTimeoutMs: 900 } } }));
    expect(error.option).toBe('groups.slow.heartbeatIntervalMs');
  });

  it.each([
    ['autoOffsetReset', 'smallest', /earliest, latest/],
    ['maxPollRecords', 0, /integer ≥ 1/],
    ['fetchMaxWaitMs', -1, /integer ≥ 0/],
    ['sessionTimeoutMs', 1.5, /integer/],
    ['maxBufferedBytes', -1, /integer ≥ 0/],
    ['maxBufferedBytes', '2MB', /integer/],
  ])('rejects %s = %p', (option, value, message) => {
    const error = configError(() => resolveModuleOptions({ ...base, [option]: value }));
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });
});

describe('commitMetadata', () => {
  it("takes 'none' (default) and 'finished-ahead', refuses it with manual commits and refuses other values", () => {
    expect(groups({}, [handler('A.a', {})])[0].handlers[0].commitMetadata).toBe('none');
    expect(groups({}, [handler('A.a', { commitMetadata: 'finished-ahead', concurrency: 8 })])[0].handlers[0].commitMetadata).toBe('finished-ahead');
    expect(groups({ handlers: { 'A.a': { commitMetadata: 'finished-ahead' } } }, [handler('A.a', {})])[0].handlers[0].commitMetadata).toBe('finished-ahead');
    const manual = configError(() => groups({}, [handler('A.a', { commit: 'manual', commitMetadata: 'finished-ahead' })]));
    expect([manual.option, manual.message]).toEqual(['handler A.a: commitMetadata', expect.stringMatching(/manual-commit/)]);
    expect(configError(() => groups({}, [handler('A.a', { commitMetadata: 'bitmap' as never })])).option).toBe('handler A.a: commitMetadata');
  });
});

describe('client options', () => {
  it('takes engine-neutral log levels and refuses others, naming the allowed ones', () => {
    expect(resolveModuleOptions({ ...base, logLevel: 'debug' }).logLevel).toBe('debug');
    const error = configError(() => resolveModuleOptions({ ...base, logLevel: 2 as unknown as 'warn' }));
    expect(error.option).toBe('logLevel');
    expect(error.message).toMatch(/nothing, error, warn, info, debug/);
  });

  it('checks SASL settings without printing the password', () => {
    const scram = { mechanism: 'scram-sha-512', username: 'orders', password: 's3cret' } as const;
    expect(resolveModuleOptions({ ...base, sasl: scram }).sasl).toEqual(scram);
    const mechanism = configError(() => resolveModuleOptions({ ...base, sasl: { ...scram, mechanism: 'gssapi' as 'plain' } }));
    expect([mechanism.option, mechanism.message]).toEqual(['sasl.mechanism', expect.stringMatching(/plain, scram-sha-256, scram-sha-512, oauthbearer/)]);
    const user = configError(() => resolveModuleOptions({ ...base, sasl: { ...scram, username: '' } }));
    expect(user.option).toBe('sasl.username');
    const password = configError(() => resolveModuleOptions({ ...base, sasl: { ...scram, password: 7 as unknown as string } }));
    expect(password.option).toBe('sasl.password');
    expect(password.message).not.toMatch(/7/);
    const oauth = configError(() => resolveModuleOptions({ ...base, sasl: { mechanism: 'oauthbearer' } as never }));
    expect(oauth.option).toBe('sasl.oauthBearerProvider');
  });

  it('takes prometheus as off, the default registry or a given one, and refuses what is not a registry', () => {
    expect(resolveModuleOptions(base).prometheus).toBeUndefined();
    expect(resolveModuleOptions({ ...base, prometheus: false }).prometheus).toBeUndefined();
    expect(resolveModuleOptions({ ...base, prometheus: true }).prometheus).toEqual({});
    const registry = { registerMetric: () => undefined, getSingleMetric: () => undefined, metrics: async () => '' };
    expect(resolveModuleOptions({ ...base, prometheus: { registry } }).prometheus).toEqual({ registry });
    const notRegistry = configError(() => resolveModuleOptions({ ...base, prometheus: { registry: {} as never } }));
    expect([notRegistry.option, notRegistry.message]).toEqual(['prometheus.registry', expect.stringMatching(/prom-client Registry/)]);
    expect(configError(() => resolveModuleOptions({ ...base, prometheus: 'yes' as never })).option).toBe('prometheus');
  });
});

describe('groupProtocol', () => {
  it('refuses on groupProtocol consumer (KIP-848) the settings the broker owns there, module-wide or per group', () => {
    expect(resolveModuleOptions({ ...base, engine: 'confluent', groupProtocol: 'consumer' }).defaults.groupProtocol).toBe('consumer');
    const moduleWide = configError(() => resolveModuleOptions({ ...base, groupProtocol: 'consumer', sessionTimeoutMs: 10_000 }));
    expect([moduleWide.option, moduleWide.message]).toEqual(['sessionTimeoutMs', expect.stringMatching(/the broker sets it on groupProtocol "consumer" \(KIP-848\), which the module default uses/)]);
    const perGroup = configError(() => resolveModuleOptions({ ...base, groups: { g: { groupProtocol: 'consumer', assignmentStrategy: 'range' } } }));
    expect([perGroup.option, perGroup.message]).toEqual(['groups.g.assignmentStrategy', expect.stringMatching(/which group "g" uses/)]);
    const inherited = configError(() => resolveModuleOptions({ ...base, heartbeatIntervalMs: 1_000, groups: { g: { groupProtocol: 'consumer' } } }));
    expect(inherited.option).toBe('heartbeatIntervalMs');
    expect(configError(() => resolveModuleOptions({ ...base, groupProtocol: 'kip848' as 'consumer' })).message).toMatch(/classic, consumer/);
  });
});

describe('resolveGroups', () => {
  it('groups handlers by consumer group with the module default', () => {
    const result = groups({}, [handler('A.a', {}), handler('B.b', { groupId: 'other' })]);
    expect(result.map((g) => [g.groupId, g.handlers.map((h) => h.name)])).toEqual([
      ['g', ['A.a']],
      ['other', ['B.b']],
    ]);
    expect(result[0].handlers[0].commit).toEqual({ mode: 'record', sync: false, intervalMs: 0, everyRecords: 0 });
  });

  it('rejects two handlers of one group claiming the same topic', () => {
    const error = configError(() => groups({}, [handler('A.a', { topics: ['orders', 'x'] }), handler('B.b', { topics: 'orders' })]));
    expect(error.option).toBe('handler B.b: topics');
    expect(error.message).toMatch(/topic "orders" is already claimed by handler A.a in group "g"/);
  });

  it('allows the same topic in two groups', () => {
    expect(groups({}, [handler('A.a', { groupId: 'one' }), handler('B.b', { groupId: 'two' })])).toHaveLength(2);
  });

  it.each([
    [[], /at least one topic/],
    ['', /non-empty topic name or a RegExp/],
    [[''], /non-empty topic name or a RegExp/],
    [new RegExp(''), /empty RegExp/],
    ['bad topic!', /1 to 249 characters/],
  ])('rejects an empty or invalid subscription %p', (topics, message) => {
    const error = configError(() => groups({}, [handler('A.a', { topics: topics as never })]));
    expect(error.option).toBe('handler A.a: topics');
    expect(error.message).toMatch(message);
  });

  it('rejects unknown commit and ordering names', () => {
    expect(configError(() => groups({}, [handler('A.a', { commit: 'sometimes' as never })])).message).toMatch(
      /handler A.a: commit = "sometimes": commit mode must be one of auto, record, batch, manual/,
    );
    expect(configError(() => groups({}, [handler('A.a', { ordering: 'random' as never })])).message).toMatch(
      /handler A.a: ordering = "random": must be one of partition, key, unordered/,
    );
    expect(configError(() => groups({}, [handler('A.a', { commit: { mode: 'record', intervalMs: 5 } })])).message).toMatch(/auto.* only/);
  });

  it('lets application config override a handler\'s commit policy by name, and rejects unknown names', () => {
    const [group] = groups({ handlers: { 'A.a': { commit: { mode: 'batch', sync: true } } } }, [handler('A.a', { commit: 'record' })]);
    expect(group.handlers[0].commit).toMatchObject({ mode: 'batch', sync: true });
    expect(configError(() => groups({ handlers: { 'A.typo': { commit: 'batch' } } }, [handler('A.a', {})])).message).toMatch(/no handler is named "A.typo"/);
  });

  it('takes a handler\'s topics and group from the module options by name (names from configuration), and says where when none is given', () => {
    const [group] = groups({ handlers: { orders: { topics: ['orders-v2', 'orders-eu'], groupId: 'billing-prod' } } }, [handler('orders', { topics: undefined })]);
    expect(group.groupId).toBe('billing-prod');
    expect(group.handlers[0].topics).toEqual(['orders-v2', 'orders-eu']);
    // Config wins over the decorator's literal.
    expect(groups({ handlers: { 'A.a': { topics: 'payments' } } }, [handler('A.a', { topics: 'orders' })])[0].handlers[0].topics).toEqual(['payments']);
    const missing = configError(() => groups({}, [handler('orders', { topics: undefined })]));
    expect(missing.message).toMatch(/handler orders: topics = undefined: the decorator names none: set handlers\["orders"\]\.topics in the module options/);
    expect(configError(() => groups({ handlers: { orders: { topics: 'bad topic!' } } }, [handler('orders', { topics: undefined })])).option).toBe('handler orders: topics');
  });

  it('takes handlerTimeoutMs from the decorator or app config, and refuses one that is not below maxPollIntervalMs', () => {
    expect(groups({}, [handler('A.a', {})])[0].handlers[0].handlerTimeoutMs).toBeUndefined();
    expect(groups({}, [handler('A.a', { handlerTimeoutMs: 500 })])[0].handlers[0].handlerTimeoutMs).toBe(500);
    expect(groups({ handlers: { 'A.a': { handlerTimeoutMs: 800 } } }, [handler('A.a', { handlerTimeoutMs: 500 })])[0].handlers[0].handlerTimeoutMs).toBe(800);
    const notInteger = configError(() => groups({}, [handler('A.a', { handlerTimeoutMs: 0.5 })]));
    expect(notInteger.message).toMatch(/handler A\.a: handlerTimeoutMs = 0\.5: must be an integer ≥ 1/);
    const tooLong = configError(() => groups({ groups: { g: { maxPollIntervalMs: 10_000 } } }, [handler('A.a', { handlerTimeoutMs: 10_000 })]));
    expect(tooLong.option).toBe('handler A.a: handlerTimeoutMs');
    expect(tooLong.message).toMatch(/must be below maxPollIntervalMs of group "g" \(10000\)/);
  });

  it('requires a group id somewhere', () => {
    const error = configError(() => resolveGroups(resolveModuleOptions({ brokers: ['h:1'] }), [handler('A.a', {})]));
    expect(error.option).toBe('handler A.a: groupId');
  });

  it('rejects an unknown deserializer', () => {
    expect(configError(() => groups({}, [handler('A.a', { deserializer: 'xml' as never })])).message).toMatch(/string, json, buffer/);
  });

  it('rejects per-group settings for a group without handlers', () => {
    expect(configError(() => groups({ groups: { nobody: { maxPollRecords: 5 } } }, [handler('A.a', {})])).option).toBe('groups.nobody');
  });
});

describe('routeTopic', () => {
  it('prefers an explicit topic over a pattern and rejects two matching patterns', () => {
    const [group] = groups({}, [handler('A.a', { topics: /^orders/ }), handler('B.b', { topics: 'orders.eu' }), handler('C.c', { topics: /eu$/ })]);
    expect(routeTopic(group.handlers, 'orders.eu')?.name).toBe('B.b');
    expect(routeTopic(group.handlers, 'orders.us')?.name).toBe('A.a');
    expect(routeTopic(group.handlers, 'other')).toBeUndefined();
    const [twice] = groups({}, [handler('A.a', { topics: /^x/ }), handler('C.c', { topics: /y$/ })]);
    expect(() => routeTopic(twice.handlers, 'xy')).toThrow(/matches the patterns of two handlers/);
  });
});
