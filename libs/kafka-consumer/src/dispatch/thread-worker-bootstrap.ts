/** A task sent to a worker thread. */
export interface WorkerTask {
  id: number;
  value: unknown;
  meta: unknown;
}

/** An error as it crosses back from a worker thread. */
export interface RemoteError {
  name: string;
  message: string;
  stack?: string;
  code?: unknown;
}

/** What a worker thread sends back. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'load-failed'; reason: 'load'; error: RemoteError }
  | { type: 'load-failed'; reason: 'export'; found: string; functions: string[] }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; reason: 'threw' | 'result-not-cloneable'; error: RemoteError };

/**
 * The program each worker thread runs (`new Worker(source, { eval: true })`):
 * loads the user's module, checks the export is a function, then runs one task
 * at a time. Kept as source text so it works the same from ts-jest and from the
 * compiled library, with no extra .js file to ship or locate.
 */
export const WORKER_BOOTSTRAP = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
const { filename, exportName } = workerData;

function text(value) {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function toRemote(error) {
  if (error === null || typeof error !== 'object') return { name: 'Error', message: 'a non-Error value was thrown: ' + text(error) };
  const remote = { name: String(error.name || 'Error'), message: String(error.message ?? text(error)) };
  if (typeof error.stack === 'string') remote.stack = error.stack;
  if (error.code !== undefined) {
    try {
      remote.code = structuredClone(error.code);
    } catch {}
  }
  return remote;
}

async function load() {
  try {
    return require(filename);
  } catch (error) {
    const code = error && error.code;
    if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') return import(pathToFileURL(filename).href);
    throw error;
  }
}

function pick(mod) {
  if (mod === null || mod === undefined) return undefined;
  if (exportName !== undefined) return mod[exportName];
  return typeof mod === 'function' ? mod : mod.default;
}

function kind(value) {
  if (value === undefined) return 'nothing (undefined)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return (/^[aeiou]/.test(typeof value) ? 'an ' : 'a ') + typeof value;
}

function functionExports(mod) {
  if (mod === null || (typeof mod !== 'object' && typeof mod !== 'function')) return [];
  return Object.keys(mod).filter((key) => typeof mod[key] === 'function');
}

function reply(id, result) {
  try {
    parentPort.postMessage({ type: 'result', id, result });
  } catch (error) {
    parentPort.postMessage({ type: 'error', id, reason: 'result-not-cloneable', error: toRemote(error) });
  }
}

(async () => {
  let fn;
  try {
    const mod = await load();
    fn = pick(mod);
    if (typeof fn !== 'function') {
      parentPort.postMessage({ type: 'load-failed', reason: 'export', found: kind(fn), functions: functionExports(mod) });
      return;
    }
  } catch (error) {
    parentPort.postMessage({ type: 'load-failed', reason: 'load', error: toRemote(error) });
    return;
  }
  parentPort.on('message', (task) => {
    let result;
    try {
      result = fn(task.value, task.meta);
    } catch (error) {
      parentPort.postMessage({ type: 'error', id: task.id, reason: 'threw', error: toRemote(error) });
      return;
    }
    Promise.resolve(result).then(
      (value) => reply(task.id, value),
      (error) => parentPort.postMessage({ type: 'error', id: task.id, reason: 'threw', error: toRemote(error) }),
    );
  });
  parentPort.postMessage({ type: 'ready' });
})();
`;
