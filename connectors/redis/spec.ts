import type { ConnectorSpec } from '../../src/spi/spec.ts';

export const redisSpec: ConnectorSpec = {
  name: 'redis',
  doc:
    'Writes a stream into Redis: `SET` (the record as JSON) or `HSET` (a hash field per record field) on a key built from fields, with a TTL, ' +
    '`XADD` to a stream, or `PUBLISH` to a channel. Batches go out as one pipeline; while Redis is unreachable or answers that it cannot take ' +
    'commands now (`BUSY`, `LOADING`, `READONLY`, `OOM`…) the writes wait and are resent, and a command Redis rejects for its data makes its record a dead letter. As a lookup it reads a key per record (`GET` of JSON or `HGETALL`), ' +
    'the keys of a whole batch in one pipeline, behind an LRU cache with a TTL.',
  roles: ['sink', 'lookup'],
  options: [
    { name: 'url', type: 'string', doc: 'Connection URL (`redis://[user:password@]host:port/db`, `rediss://` for TLS); default `$SENSEI_REDIS_URL`, else `redis://127.0.0.1:6379`. Keep passwords out of the pipeline: set the whole URL in `SENSEI_REDIS_URL`.', passwordFrom: 'leave `url` out and set `SENSEI_REDIS_URL`' },
    { name: 'command', type: 'enum', values: ['set', 'hset', 'xadd', 'publish'], doc: 'Sink: what each record becomes.', default: 'set', roles: ['sink'] },
    {
      name: 'key',
      type: 'string',
      doc: 'Sink: the key (set, hset), stream (xadd) or channel (publish); `{field}` is replaced by the field\'s value, e.g. `order:{id}`. ' +
        'Lookup: an expression over the record giving the key to read, e.g. `key: "customer:" + customer_id`.',
      required: true,
      fields: 'template',
    },
    { name: 'value_field', type: 'string', doc: 'Sink, set: store this field\'s value as the string value instead of the whole record as JSON.', roles: ['sink'], fields: 'name' },
    { name: 'ttl', type: 'duration', doc: 'Sink, set and hset: expire keys after this long (`PX`/`PEXPIRE`); 0 keeps them.', default: '0ms', roles: ['sink'] },
    { name: 'delete_field', type: 'string', doc: 'Sink, set and hset: a boolean field marking tombstones; a record with it true deletes its key.', roles: ['sink'], fields: 'name' },
    { name: 'maxlen', type: 'int', doc: 'Sink, xadd: trim the stream to about this many entries (`MAXLEN ~`); 0 never trims.', default: 0, min: 0, roles: ['sink'] },
    { name: 'read', type: 'enum', values: ['get', 'hgetall'], doc: 'Lookup: `get` reads a string holding the record as JSON; `hgetall` reads a hash, a field per record field.', default: 'get', roles: ['lookup'] },
    { name: 'on_missing', type: 'enum', values: ['null', 'drop', 'dead_letter'], doc: 'Lookup: a missing key gives a null field, drops the record, or makes it a dead letter.', default: 'null', roles: ['lookup'] },
    { name: 'cache_size', type: 'int', doc: 'Lookup: results kept per worker (LRU), misses included; 0 disables the cache.', default: 100000, min: 0, roles: ['lookup'] },
    { name: 'cache_ttl', type: 'duration', doc: 'Lookup: how long a cached result is used.', default: '1m', roles: ['lookup'] },
    { name: 'retry_backoff', type: 'duration', doc: 'First wait before reconnecting; doubles on each further failure up to `retry_max_backoff`.', default: '100ms' },
    { name: 'retry_max_backoff', type: 'duration', doc: 'Longest wait between reconnection attempts.', default: '5s' },
  ],
};
