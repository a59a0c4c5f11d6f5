import { Client } from 'pg';

/** The server tests run against: TEST_DATABASE_URL, else DATABASE_URL, else the local default. */
export function serverUrl(): URL {
  return new URL(process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
}

export function databaseUrlFor(database: string): string {
  const url = serverUrl();
  url.pathname = `/${database}`;
  return url.toString();
}

/** A connection to the maintenance database, for CREATE/DROP DATABASE. */
export function adminUrl(): string {
  return databaseUrlFor('postgres');
}

export async function withAdminClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
