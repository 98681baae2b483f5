// Talks to the real PostgreSQL from `scripts/services start postgres` (or SENSEI_PG_URL).
import test from 'ava';
import pg from 'pg';
import { pgUrl } from '../support/services.ts';

test('round-trips rows through a table', async (t) => {
  const client = new pg.Client({ connectionString: pgUrl() });
  await client.connect();
  try {
    await client.query('CREATE TEMP TABLE orders (id text PRIMARY KEY, amount numeric(12, 2), attrs jsonb)');
    await client.query('INSERT INTO orders VALUES ($1, $2, $3), ($4, $5, $6)', ['o1', '12.50', { tier: 'GOLD' }, 'o2', '3.10', null]);
    await client.query('INSERT INTO orders VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount', ['o1', '99.99', { tier: 'GOLD' }]);
    const { rows } = await client.query('SELECT id, amount, attrs FROM orders ORDER BY id');
    t.deepEqual(rows, [
      { id: 'o1', amount: '99.99', attrs: { tier: 'GOLD' } },
      { id: 'o2', amount: '3.10', attrs: null },
    ]);
  } finally {
    await client.end();
  }
});

test('connects to the sensei database', async (t) => {
  const client = new pg.Client({ connectionString: pgUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
    t.is(rows[0]?.db, new URL(pgUrl()).pathname.slice(1));
  } finally {
    await client.end();
  }
});
