import { ChildProcess, spawn } from 'child_process';
import { join } from 'path';
import { createInterface } from 'readline';

export interface FixtureAppOptions {
  brokers: string[];
  topic: string;
  groupId: string;
  /** Mean handler delay; each record sleeps a random 0..2× this. */
  delayMs?: number;
  concurrency?: number;
  ordering?: 'partition' | 'key' | 'unordered';
  /** Appends each record synchronously before the handler returns (survives kill -9). */
  logFile?: string;
  env?: Record<string, string>;
}

const live = new Set<FixtureApp>();
process.once('exit', () => {
  for (const app of live) app.killNow();
});

/**
 * test/fixtures/sigterm-app.js as a real process: what it printed (records and rebalance hooks),
 * signals by pid, and its exit. Tests stop every one they start, also when they fail.
 */
export class FixtureApp {
  /** `partition/offset` of every record it reported on stdout. */
  readonly processed: string[] = [];
  /** Every hook it ran, e.g. `assigned 0,1`. */
  readonly events: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readyResolve!: () => void;
  readonly ready: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('processed ')) this.processed.push(line.slice('processed '.length));
      else if (/^(assigned|revoked|lost) /.test(line)) this.events.push(line.trim());
      else if (line === 'ready') this.readyResolve();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      live.delete(this);
      resolve({ code, signal });
    }));
  }

  static start(options: FixtureAppOptions): FixtureApp {
    const args = [
      join(__dirname, '..', 'fixtures', 'sigterm-app.js'),
      options.brokers.join(','),
      options.topic,
      options.groupId,
      String(options.delayMs ?? 0),
      String(options.concurrency ?? 1),
      options.ordering ?? 'partition',
      ...(options.logFile ? [options.logFile] : []),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...options.env } });
    const app = new FixtureApp(child);
    live.add(app);
    return app;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Partitions it owns now, from the hooks it printed. */
  owned(): number[] {
    const owned = new Set<number>();
    for (const event of this.events) {
      const [hook, list = ''] = event.split(' ');
      const partitions = list.split(',').filter(Boolean).map(Number);
      if (hook === 'assigned') partitions.forEach((p) => owned.add(p));
      else partitions.forEach((p) => owned.delete(p));
    }
    return [...owned].sort((a, b) => a - b);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, signal);
  }

  /** SIGTERM and wait for the exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.signal('SIGTERM');
    return this.exited;
  }

  /** kill -9 and wait for the exit. */
  async kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.killNow();
    return this.exited;
  }

  /** SIGKILL (a stopped process too: SIGKILL needs no SIGCONT). */
  killNow(): void {
    if (this.running) process.kill(this.pid, 'SIGKILL');
  }
}
