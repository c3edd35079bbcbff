import { readFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';
import { APP_ENV_VARIABLES, loadConfig } from './src/config/app-config';
import { SHUTDOWN_TIMEOUT_MS } from './src/orders.constants';

/**
 * Docker cannot run on the build machines, so the deployment files are checked
 * against the app's own configuration instead: the list of variables comes
 * from the config module, so neither side can drift.
 */

const root = join(__dirname, '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string | string[] };
  deploy?: { replicas?: number };
  ports?: unknown[];
  command?: string | string[];
  stop_grace_period?: string;
}

const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const { services } = compose;
const app = services.app;
const env = Object.fromEntries(Object.entries(app.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
const kafkaEnv = (services.kafka.environment ?? {}) as Record<string, string>;

describe('docker-compose.yml', () => {
  it('sets every variable the app reads, and none it does not', () => {
    const missing = APP_ENV_VARIABLES.filter((name) => (env[name] ?? '') === '');
    expect(missing).toEqual([]);
    const unknown = Object.keys(env).filter((name) => !(APP_ENV_VARIABLES as string[]).includes(name));
    expect(unknown).toEqual([]);
  });

  it('gives the app values it accepts', () => {
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('runs Kafka in KRaft mode, without ZooKeeper', () => {
    expect(services.kafka.image).toMatch(/^apache\/kafka:\d/);
    expect(String(kafkaEnv.KAFKA_PROCESS_ROLES).split(',').sort()).toEqual(['broker', 'controller']);
    expect(kafkaEnv.KAFKA_CONTROLLER_QUORUM_VOTERS).toBeTruthy();
    expect(Object.keys(services).some((name) => /zookeeper/i.test(name))).toBe(false);
    expect(Object.keys(kafkaEnv).some((name) => /ZOOKEEPER/.test(name))).toBe(false);
  });

  it('points KAFKA_BROKERS at a listener the kafka service advertises on the compose network', () => {
    const advertised = String(kafkaEnv.KAFKA_ADVERTISED_LISTENERS)
      .split(',')
      .map((listener) => /^(\w+):\/\/([^:]+):(\d+)$/.exec(listener.trim())!)
      .map(([, name, host, port]) => ({ name, host, port }));
    const bound = String(kafkaEnv.KAFKA_LISTENERS).split(',');
    for (const broker of loadConfig(env).kafka.brokers) {
      const [host, port] = broker.split(':');
      const listener = advertised.find((l) => l.host === host && l.port === port);
      expect(listener).toBeDefined();
      // The advertised name is the kafka service, and the broker really listens on that port.
      expect(['kafka', (services.kafka as { hostname?: string }).hostname]).toContain(host);
      expect(bound.some((b) => b.trim().startsWith(`${listener!.name}://`) && b.trim().endsWith(`:${port}`))).toBe(true);
    }
  });

  it('points DATABASE_URL at the postgres service with its user, password and database', () => {
    const config = loadConfig(env);
    expect(config.database.kind).toBe('postgres');
    const url = new URL(env.DATABASE_URL);
    const pg = services.postgres.environment as Record<string, string>;
    expect(url.hostname).toBe('postgres');
    expect(url.port === '' ? '5432' : url.port).toBe('5432');
    expect(decodeURIComponent(url.username)).toBe(pg.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(pg.POSTGRES_PASSWORD);
    expect(url.pathname.slice(1)).toBe(pg.POSTGRES_DB);
  });

  it('creates the orders topic (and its dead-letter topic) with enough partitions for the replicas', () => {
    const command = [services['kafka-init'].command].flat().join('\n');
    const match = new RegExp(`\\b${env.ORDERS_TOPIC.replace(/\./g, '\\.')}:(\\d+)\\b`).exec(command);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeGreaterThanOrEqual(app.deploy!.replicas!);
    expect(command).toContain(`${env.ORDERS_TOPIC}.DLT:`);
    expect(services['kafka-init'].depends_on).toEqual({ kafka: { condition: 'service_healthy' } });
  });

  it('starts two replicas of the app once Kafka, the topics and PostgreSQL are ready', () => {
    expect(app.deploy?.replicas).toBe(2);
    expect(app.build).toBeDefined();
    expect(app.ports).toBeUndefined(); // two replicas cannot publish one host port
    expect(app.depends_on).toEqual({
      kafka: { condition: 'service_healthy' },
      'kafka-init': { condition: 'service_completed_successfully' },
      postgres: { condition: 'service_healthy' },
    });
    expect(services.kafka.healthcheck).toBeDefined();
    expect(services.postgres.healthcheck).toBeDefined();
  });

  it('health-checks the app on its HEALTH_PORT and gives it time to drain on stop', () => {
    expect([app.healthcheck!.test].flat().join(' ')).toContain(`127.0.0.1:${env.HEALTH_PORT}/health`);
    const [, amount, unit] = /^(\d+)(ms|s|m)$/.exec(app.stop_grace_period ?? '')!;
    const graceMs = Number(amount) * { ms: 1, s: 1000, m: 60_000 }[unit as 'ms' | 's' | 'm'];
    expect(graceMs).toBeGreaterThan(SHUTDOWN_TIMEOUT_MS);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages[stages.length - 1];

  it('is multi-stage and the runtime stage runs as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const user = /^USER\s+(\S+)/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  it('ships production dependencies only, and the built app the compose file runs', () => {
    const depsStage = stages.find((stage) => /npm ci\b.*--omit=dev/.test(stage));
    expect(depsStage).toBeDefined();
    const depsName = /^\S+\s+AS\s+(\S+)/i.exec(depsStage!)![1];
    expect(runtime).toContain(`COPY --from=${depsName} /src/node_modules ./node_modules`);
    expect(runtime).not.toMatch(/npm (ci|install)(?![^\n]*--omit=dev)/);
    expect(runtime).toContain('CMD ["node", "dist/apps/orders/apps/orders/src/main.js"]');
    expect(runtime).toMatch(/^HEALTHCHECK /m);
  });
});
