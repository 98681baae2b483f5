import type { ConnectorSpec } from '../../src/spi/spec.ts';

export const postgresSpec: ConnectorSpec = {
  name: 'postgres',
  doc:
    'Writes a stream into a PostgreSQL table through binary `COPY … FROM STDIN`, appending or upserting on a key, one transaction per batch; ' +
    'with `exactly_once` the source offsets of each batch commit in the same transaction, so a restarted run writes every record once. ' +
    'Survives server restarts (retries with backoff while the sources wait); rows the database rejects become dead letters carrying its error. ' +
    'As a lookup it runs a query for the keys of a whole batch at once, behind an LRU cache with a TTL.',
  roles: ['sink', 'lookup'],
  options: [
    { name: 'url', type: 'string', doc: 'Connection URL (`postgres://user@host:port/db`); default `$SENSEI_PG_URL`, else the libpq variables (`PGHOST`, `PGUSER`…). Keep passwords in `PGPASSWORD`, not in the pipeline.', passwordFrom: 'write the URL without it and set `PGPASSWORD`, or leave `url` out and set `SENSEI_PG_URL`' },
    { name: 'table', type: 'string', doc: 'Target table, optionally schema-qualified (`sales.orders`).', required: true, roles: ['sink'] },
    { name: 'mode', type: 'enum', values: ['append', 'upsert'], doc: '`append` copies rows in; `upsert` copies into a staging table and merges with `INSERT … ON CONFLICT (key) DO UPDATE`, the last record of a key in a batch winning.', default: 'append', roles: ['sink'] },
    { name: 'key', type: 'string-list', doc: 'Sink, upsert: the key columns; default the table\'s primary key (`create: true` makes them the primary key). Lookup: an expression over the record giving `$1`, e.g. `key: customer_id`.', fields: 'name' },
    { name: 'delete_field', type: 'string', doc: 'Upsert: a boolean field marking tombstones; a record with it true deletes the row of its key. The field is not a column.', roles: ['sink'], fields: 'name' },
    { name: 'create', type: 'boolean', doc: 'Create the table from the stream\'s schema when it does not exist (types in docs/postgres.md). Otherwise its columns are checked against the schema at start.', default: false, roles: ['sink'] },
    { name: 'batch_size', type: 'int', doc: 'Most rows in one transaction. A connection that becomes free takes everything waiting, up to this.', default: 50000, min: 1, roles: ['sink'] },
    { name: 'linger', type: 'duration', doc: 'How long a free connection waits for more records before it writes a batch smaller than `batch_size`.', default: '0ms', roles: ['sink'] },
    { name: 'pool_size', type: 'int', doc: 'Sink: connections to the server (each source partition always writes through the same one, so its rows commit in order). Lookup: most connections per worker. Both within the process\'s connection budget (docs/postgres.md, Connections).', default: 5, min: 1, max: 100 },
    { name: 'exactly_once', type: 'boolean', doc: 'Record the source offsets of each batch in `offsets_table` in the same transaction and skip records already written on restart.', default: true, roles: ['sink'] },
    { name: 'offsets_table', type: 'string', doc: 'Table of the committed offsets (created when missing).', default: 'sensei_offsets', roles: ['sink'] },
    { name: 'prepared_statements', type: 'boolean', doc: 'Lookup: use a named server-side prepared statement. Off by default, so connections work through PgBouncer in transaction mode (the sink never keeps session state); on, that needs PgBouncer 1.21+ with `max_prepared_statements`.', default: false, roles: ['lookup'] },
    // lookup
    { name: 'query', type: 'string', doc: 'Lookup: a query for one key, `$1`, returning at most one row, e.g. `select tier, country from customers where id = $1`. Its columns fill the declared record by name. It runs for all keys of a batch at once.', required: true, roles: ['lookup'] },
    { name: 'on_missing', type: 'enum', values: ['null', 'drop', 'dead_letter'], doc: 'Lookup: a key without a row gives a null field, drops the record, or makes it a dead letter.', default: 'null', roles: ['lookup'] },
    { name: 'replica_url', type: 'string', doc: 'Lookup: run the queries on this read replica while its replay lag is within `max_staleness`; else on `url` (the primary).', roles: ['lookup'], passwordFrom: 'write the URL without it and set `PGPASSWORD`' },
    { name: 'max_staleness', type: 'duration', doc: 'Lookup: the most a read replica may lag (its replay lag, measured every second) and still answer; beyond it, or while it does not answer, the primary does.', default: '5s', roles: ['lookup'] },
    { name: 'cache_size', type: 'int', doc: 'Lookup: results kept per worker (LRU), misses included; 0 disables the cache.', default: 100000, min: 0, roles: ['lookup'] },
    { name: 'cache_ttl', type: 'duration', doc: 'Lookup: how long a cached result is used.', default: '1m', roles: ['lookup'] },
    { name: 'retry_backoff', type: 'duration', doc: 'First wait after a connection failure; doubles on each further failure up to `retry_max_backoff`.', default: '100ms' },
    { name: 'retry_max_backoff', type: 'duration', doc: 'Longest wait between reconnection attempts.', default: '5s' },
    { name: 'retry_timeout', type: 'duration', doc: 'Give up (the run fails) after failing this long; 0 retries until the server is back.', default: '0ms' },
  ],
};
