/** Where the app keeps its tables, parsed from DATABASE_URL. */
export type DatabaseTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/**
 * `sqlite:<path>` (relative to the working directory, or absolute; `sqlite::memory:`
 * for a throw-away database) or `postgres://user:password@host:port/database`
 * (also `postgresql://`). Throws an Error whose message is the rule broken.
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path.trim() === '') throw new Error('sqlite: needs a file path, e.g. sqlite:./data/orders.db');
    return { kind: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error('not a valid URL; expected postgres://user:password@host:5432/database');
    }
    if (parsed.hostname === '') throw new Error('the PostgreSQL URL names no host');
    if (parsed.pathname.replace(/^\//, '') === '') throw new Error('the PostgreSQL URL names no database, e.g. postgres://user:password@host:5432/orders');
    return { kind: 'postgres', url };
  }
  throw new Error('must start with sqlite: (e.g. sqlite:./data/orders.db) or postgres:// (e.g. postgres://user:password@host:5432/orders)');
}

/** The URL with its password replaced, for logs. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
