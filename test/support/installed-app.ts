import { execFileSync } from 'child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';

const ROOT = join(__dirname, '..', '..');

/** Packs the library with tools/pack-library.sh into `dir`; returns the tarball's path. */
export function packLibrary(dir: string): string {
  // stderr (npm's notices; the build's errors) is captured: it shows in the error if packing fails.
  const out = execFileSync('bash', [join(ROOT, 'tools', 'pack-library.sh'), dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: userEnv() });
  return out.trim().split('\n').pop()!;
}

/** The paths inside a tarball, without npm's `package/` prefix. */
export function tarballFiles(tarball: string): string[] {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((path) => path.replace(/^package\//, ''));
}

/**
 * A new NestJS application in `dir` (an empty folder outside the repository) as a user writes
 * it: its own package.json (the tarball plus registry packages), src/main.ts importing
 * 'nestjs-kafka-consumer', compiled by its own tsc. `node dist/main.js` in `dir` runs it.
 */
export function createInstalledApp(tarball: string, dir: string): { installMs: number; compileMs: number } {
  // The versions this repository installs, so npm finds every package in its cache.
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const version = (name: string): string => root.dependencies[name] ?? root.devDependencies[name];
  const registry = ['@nestjs/common', '@nestjs/core', 'reflect-metadata', 'rxjs', 'kafkajs'];
  const dev = ['typescript', '@types/node'];
  writeJson(join(dir, 'package.json'), {
    name: 'installed-app',
    private: true,
    dependencies: { 'nestjs-kafka-consumer': `file:${tarball}`, ...Object.fromEntries(registry.map((n) => [n, version(n)])) },
    devDependencies: Object.fromEntries(dev.map((n) => [n, version(n)])),
  });
  // strict and no skipLibCheck: the shipped .d.ts files must compile in a user's project.
  writeJson(join(dir, 'tsconfig.json'), {
    compilerOptions: {
      target: 'ES2022',
      module: 'commonjs',
      strict: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      outDir: 'dist',
      rootDir: 'src',
    },
    include: ['src'],
  });
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'main.ts'), MAIN_TS);
  // The README's quick start compiles as written, against the installed package.
  writeFileSync(join(dir, 'src', 'readme-quick-start.ts'), readmeQuickStart());

  let started = Date.now();
  // --ignore-scripts: none of these packages needs one (only @nestjs/core's donation notice).
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: userEnv() });
  const installMs = Date.now() - started;
  started = Date.now();
  try {
    execFileSync(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    // tsc reports on stdout, which execFileSync's error message leaves out.
    throw new Error(`the installed app does not compile:\n${(error as { stdout?: string }).stdout ?? error}`);
  }
  return { installMs, compileMs: Date.now() - started };
}

/**
 * The app: one handler on KAFKA_TOPIC printing `{"value","partition","offset"}` per record;
 * SIGTERM closes it and exits 0 once the close has finished (drained, committed, left the group).
 */
const MAIN_TS = `import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, KafkaConsumerModule, KafkaHandler, KafkaMessageContext, Payload } from 'nestjs-kafka-consumer';

const brokers = (process.env.KAFKA_BROKERS ?? 'localhost:9092').split(',');
const topic = process.env.KAFKA_TOPIC ?? 'greetings';

@Injectable()
class GreetingsConsumer {
  @KafkaHandler(topic, { deserializer: 'string' })
  greet(@Payload() value: string, @Ctx() ctx: KafkaMessageContext): void {
    process.stdout.write(JSON.stringify({ value, partition: ctx.partition, offset: ctx.offset }) + '\\n');
  }
}

@Module({
  imports: [
    KafkaConsumerModule.forRoot({
      brokers,
      groupId: process.env.KAFKA_GROUP ?? 'installed-app',
      autoOffsetReset: 'earliest',
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
      fetchMaxWaitMs: 100,
    }),
  ],
  providers: [GreetingsConsumer],
})
class AppModule {}

const app = NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
// Listening before the module does: it then stops its consumers and leaves the exit to us.
process.once('SIGTERM', () => {
  app.then((a) => a.close()).then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
});
app.then(
  () => process.stdout.write('ready\\n'),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
`;

/** The first TypeScript block of the README's "Quick start" section. */
function readmeQuickStart(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md: no ```ts block in the Quick start section');
  return block[1];
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * The environment minus what `npm test`/`npx` set for the repository's own package (its
 * prefix, name, lifecycle), so npm works on the app's folder; registry and cache settings stay.
 */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_(package_|lifecycle_|config_local_prefix$)/i.test(key)));
}
