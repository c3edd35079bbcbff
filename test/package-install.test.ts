import { ChildProcess, spawn } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { createInterface } from 'readline';
import { createInstalledApp, packLibrary, tarballFiles } from './support/installed-app';
import { KafkaTestKit, sleep, waitFor } from './support/kafka-test-kit';
import { describeOnEngine } from './support/on-kafka';

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * The library as users get it: packed by tools/pack-library.sh, installed from the tarball
 * into a new NestJS app outside the repository (test/support/installed-app.ts), compiled by
 * that app's own tsc and run as a real process against the test broker.
 */
describeOnEngine('kafkajs', 'the installed app has kafkajs only; what is packed does not depend on the engine')(
  'installed package (npm pack, npm install into a fresh app)',
  () => {
    let packDir: string | undefined;
    let appDir: string | undefined;
    let tarball: string;
    let kit: KafkaTestKit | undefined;
    let child: ChildProcess | undefined;

    // Folders made here, not at collection: a skipped describe still runs its body.
    beforeAll(() => {
      packDir = mkdtempSync(join(tmpdir(), 'nkc-pack-'));
      appDir = mkdtempSync(join(tmpdir(), 'nkc-installed-app-'));
      tarball = packLibrary(packDir);
      const { installMs, compileMs } = createInstalledApp(tarball, appDir);
      console.log(`installed app: npm install ${installMs} ms, tsc ${compileMs} ms`);
    }, 300_000);

    afterAll(async () => {
      if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
      await kit?.close();
      for (const dir of [packDir, appDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('ships package.json, README.md, LICENSE and compiled dist files only', () => {
      const files = tarballFiles(tarball);
      expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']));
      const other = files.filter((f) => !['package.json', 'README.md', 'LICENSE'].includes(f) && !/^dist\/.+\.(js|d\.ts)$/.test(f));
      expect(other).toEqual([]);
      expect(files.filter((f) => f.includes('.spec.'))).toEqual([]);
    });

    it('consumes a record, commits it, and exits 0 on SIGTERM', async () => {
      kit = await KafkaTestKit.start({ topics: { greetings: 1 } });
      const env = { ...process.env, KAFKA_BROKERS: kit.brokers.join(','), KAFKA_TOPIC: 'greetings', KAFKA_GROUP: 'installed-app' };
      child = spawn(process.execPath, [join(appDir!, 'dist', 'main.js')], { cwd: appDir, stdio: ['ignore', 'pipe', 'inherit'], env });
      const lines: string[] = [];
      createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
      const exited = new Promise<Exit>((resolve) => child!.once('exit', (code, signal) => resolve({ code, signal })));
      // A crashed app fails the wait at once instead of at its timeout.
      const running = () => {
        if (child!.exitCode !== null || child!.signalCode !== null) throw new Error(`the app exited (${child!.exitCode ?? child!.signalCode}); stdout:\n${lines.join('\n')}`);
        return true;
      };

      await waitFor(() => running() && lines.includes('ready'), 60_000, 'the app to start');
      await kit.produce('greetings', [{ value: 'hello from the test' }]);
      await waitFor(() => running() && lines.some((l) => l.startsWith('{')), 60_000, "the handler's JSON line");
      expect(JSON.parse(lines.find((l) => l.startsWith('{'))!)).toEqual({ value: 'hello from the test', partition: 0, offset: '0' });
      await waitFor(async () => (await kit!.committed('installed-app', 'greetings'))[0] === 1, 30_000, 'offset 1 committed');

      process.kill(child.pid!, 'SIGTERM');
      const exit = await Promise.race([exited, sleep(30_000).then(() => 'no exit within 30 s after SIGTERM')]);
      expect(exit).toEqual({ code: 0, signal: null });
    }, 180_000);
  },
);
