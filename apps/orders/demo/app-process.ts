import { ChildProcess, spawn } from 'child_process';
import { existsSync } from 'fs';
import { dirname, join } from 'path';

/** The repository root: the nearest directory up from here with package.json and tools/mock-broker. */
export function repoRoot(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tools', 'mock-broker'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no repository root above ${from}`);
  }
}

/** The built app's entry point (npm run build:sample). */
export function appMain(): string {
  return join(repoRoot(), 'dist', 'apps', 'orders', 'apps', 'orders', 'src', 'main.js');
}

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The built orders app as a real process (`node dist/.../main.js`), with its
 * environment. Keeps the tail of its output; stopped by pid.
 */
export class OrdersAppProcess {
  readonly exited: Promise<AppExit>;
  private output = '';

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly echo: boolean,
  ) {
    const collect = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output = (this.output + text).slice(-20_000);
      if (this.echo) process.stdout.write(text.replace(/^(?=.)/gm, `[${this.name}] `));
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static start(name: string, env: Record<string, string>, options: { echo?: boolean } = {}): OrdersAppProcess {
    const main = appMain();
    if (!existsSync(main)) throw new Error(`${main} is missing; run "npm run build:sample" first`);
    const child = spawn(process.execPath, [main], {
      cwd: repoRoot(),
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new OrdersAppProcess(name, child, options.echo ?? false);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last 20 kB of stdout and stderr. */
  get log(): string {
    return this.output;
  }

  /** Resolves when the app has logged that it is ready (consumers started); rejects if it exits first. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!/OrdersApp\] .*ready:/.test(this.output)) {
      if (!this.running) throw new Error(`${this.name} exited before it was ready:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGKILL: the process dies at once, nothing drained, nothing committed. */
  async kill(): Promise<AppExit> {
    if (this.running) process.kill(this.pid, 'SIGKILL');
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<AppExit> {
    if (!this.running) return this.exited;
    process.kill(this.pid, 'SIGTERM');
    const timer = setTimeout(() => this.running && process.kill(this.pid, 'SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}
