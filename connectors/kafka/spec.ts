import type { ConnectorSpec } from '../../src/spi/spec.ts';

export const kafkaSpec: ConnectorSpec = {
  name: 'kafka',
  doc:
    'Reads or writes an Apache Kafka topic: Avro values in the Confluent wire format through a Schema Registry (or JSON). ' +
    'A source is one consumer-group member per process; offsets are committed only once every sink has accepted the output. ' +
    'As a dead-letter target it writes each rejected record with headers naming the error, source topic, partition and offset.',
  roles: ['source', 'sink', 'dead-letter'],
  partitionedByServer: true,
  options: [
    { name: 'topic', type: 'string', doc: 'The topic.', required: true },
    { name: 'brokers', type: 'string-list', doc: 'Bootstrap servers (`host:port`); default `$SENSEI_KAFKA_BROKERS`, else `localhost:9092`.' },
    { name: 'format', type: 'enum', values: ['avro', 'json'], doc: 'Value encoding: Avro in the Confluent wire format (needs `registry`), or JSON text.', default: 'avro', roles: ['source', 'sink'] },
    { name: 'registry', type: 'string', doc: 'Schema Registry URL; default `$SENSEI_SCHEMA_REGISTRY_URL`. Basic auth from `$SENSEI_SCHEMA_REGISTRY_USERNAME`/`_PASSWORD`.', passwordFrom: 'write the URL without credentials and set `SENSEI_SCHEMA_REGISTRY_USERNAME` and `SENSEI_SCHEMA_REGISTRY_PASSWORD`', roles: ['source', 'sink'] },
    { name: 'client_id', type: 'string', doc: 'Client id the broker sees.', default: 'sensei' },
    // security: secrets come from the environment, never from the pipeline text
    { name: 'security_protocol', type: 'enum', values: ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'], doc: 'Transport: plain TCP or TLS, with or without SASL.', default: 'plaintext' },
    { name: 'sasl_mechanism', type: 'enum', values: ['plain', 'scram-sha-256', 'scram-sha-512'], doc: 'SASL mechanism (with `sasl_*` protocols).', default: 'plain' },
    { name: 'sasl_username_env', type: 'string', doc: 'Environment variable holding the SASL user name.', default: 'SENSEI_KAFKA_USERNAME' },
    { name: 'sasl_password_env', type: 'string', doc: 'Environment variable holding the SASL password (never logged).', default: 'SENSEI_KAFKA_PASSWORD' },
    { name: 'ssl_ca_file', type: 'string', doc: 'PEM file of the CA that signed the broker certificates (default: the system CAs).' },
    { name: 'ssl_cert_file', type: 'string', doc: 'PEM client certificate, for TLS client authentication.' },
    { name: 'ssl_key_file', type: 'string', doc: 'PEM private key of the client certificate.' },
    { name: 'ssl_key_password_env', type: 'string', doc: 'Environment variable holding the passphrase of `ssl_key_file`.', default: 'SENSEI_KAFKA_SSL_KEY_PASSWORD' },
    { name: 'ssl_verify', type: 'boolean', doc: 'Verify the broker certificate and host name.', default: true },
    // source
    { name: 'group', type: 'string', doc: 'Source: consumer group id; default `sensei-<pipeline>`.', roles: ['source'] },
    {
      name: 'start',
      type: 'string',
      doc: 'Source: where a partition starts: `committed` (the group\'s offset, else `reset`), `earliest`, `latest`, or a timestamp (ISO-8601 or epoch milliseconds) for the first record at or after it.',
      default: 'committed',
      roles: ['source'],
    },
    { name: 'reset', type: 'enum', values: ['earliest', 'latest'], doc: 'Source: where `start: committed` begins a partition the group has no offset for.', default: 'earliest', roles: ['source'] },
    { name: 'isolation', type: 'enum', values: ['read_committed', 'read_uncommitted'], doc: 'Source: whether records of open or aborted transactions are skipped.', default: 'read_committed', roles: ['source'] },
    { name: 'bounded', type: 'boolean', doc: 'Source: stop at the end offsets the topic had when the run started (backfills, tests, benchmarks).', default: false, roles: ['source'] },
    {
      name: 'group_instance_id',
      type: 'string',
      doc: 'Source: static group membership: a process restarted under the same id gets its partitions back at once instead of after `session_timeout`. Default `<$SENSEI_INSTANCE_ID>-<source name>` when that variable is set (as `sensei-run` and the Kubernetes manifests do), else dynamic membership. Each process needs its own.',
      roles: ['source'],
    },
    { name: 'session_timeout', type: 'duration', doc: 'Source: consumer-group session timeout.', default: '30s', roles: ['source'] },
    { name: 'rebalance_timeout', type: 'duration', doc: 'Source: how long a rebalance waits for members to drain and rejoin.', default: '60s', roles: ['source'] },
    { name: 'purge_interval', type: 'duration', doc: 'Source: how often the records of the pipeline\'s repartition topics that the group committed are deleted (0s keeps them for the topic\'s retention).', default: '30s', roles: ['source'] },
    { name: 'commit_interval', type: 'duration', doc: 'Source: how often acknowledged offsets are committed (at-least-once).', default: '1s', roles: ['source'] },
    { name: 'buffer_records', type: 'int', doc: 'Source: records fetched ahead per partition before its fetching pauses.', default: 5000, min: 1, roles: ['source'] },
    { name: 'max_bytes_per_partition', type: 'int', doc: 'Source: largest fetch per partition, bytes.', default: 1048576, min: 1024, roles: ['source'] },
    // sink
    { name: 'subject_strategy', type: 'enum', values: ['topic', 'record', 'topic_record'], doc: 'Sink: registry subject naming: `<topic>-value`, `<record full name>` or `<topic>-<record full name>`.', default: 'topic', roles: ['sink'] },
    { name: 'register', type: 'boolean', doc: 'Sink: register the output schema under the subject; otherwise it must already be registered there.', default: true, roles: ['sink'] },
    { name: 'key_format', type: 'enum', values: ['plain', 'avro'], doc: 'Sink: key bytes: as Kafka\'s plain serializers (UTF-8 string, big-endian int/long; JSON text otherwise), or Avro in the Confluent wire format.', default: 'plain', roles: ['sink'] },
    { name: 'compression', type: 'enum', values: ['none', 'gzip', 'snappy', 'lz4', 'zstd'], doc: 'Sink: record-batch compression (`snappy` in the snappy-java framing Java clients expect; `lz4` is the LZ4 frame format Kafka uses; `zstd` at level 3, the Java client\'s default). Sources read all of them.', default: 'none', roles: ['sink', 'dead-letter'] },
    { name: 'guarantee', type: 'enum', values: ['at_least_once', 'exactly_once'], doc: 'Sink: `exactly_once` writes in Kafka transactions that also commit the consumed offsets of the run\'s Kafka sources.', default: 'at_least_once', roles: ['sink', 'dead-letter'] },
    { name: 'transactional_id', type: 'string', doc: 'Sink, exactly_once: transactional id, stable across restarts; default `sensei-<pipeline>-<$SENSEI_INSTANCE_ID or host name>`; each process of a pipeline needs its own.', roles: ['sink', 'dead-letter'] },
    { name: 'transaction_interval', type: 'duration', doc: 'Sink, exactly_once: how often the transaction commits.', default: '100ms', roles: ['sink', 'dead-letter'] },
    { name: 'transaction_timeout', type: 'duration', doc: 'Sink, exactly_once: the broker aborts a transaction left open this long.', default: '60s', roles: ['sink', 'dead-letter'] },
    { name: 'partitions', type: 'int', doc: 'Sink: partitions of the topic when it has to be created; without it the topic must exist.', min: 1, roles: ['sink', 'dead-letter'] },
    { name: 'headers', type: 'enum', values: ['pass', 'none'], doc: 'Sink: copy the headers of the input record an output record derives from.', default: 'pass', roles: ['sink'] },
    { name: 'batch_bytes', type: 'int', doc: 'Sink: largest produce request, bytes.', default: 1048576, min: 1024, roles: ['sink', 'dead-letter'] },
  ],
};
