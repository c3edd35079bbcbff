import { randomBytes } from 'crypto';
import { Client } from 'pg';

/** Where tests create their databases; override with TEST_POSTGRES_URL. */
const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh PostgreSQL database for one test run, dropped (with its connections) by `drop()`. */
export class PostgresTestDatabase {
  private constructor(
    readonly name: string,
    readonly url: string,
  ) {}

  static async create(): Promise<PostgresTestDatabase> {
    const name = `orders_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    return new PostgresTestDatabase(name, url.toString());
  }

  async drop(): Promise<void> {
    await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`));
  }
}

async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`cannot reach PostgreSQL at ${ADMIN_URL} (set TEST_POSTGRES_URL): ${(error as Error).message}`);
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
