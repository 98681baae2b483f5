// Connector options that need no broker: security settings, subjects, start positions, framing.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokersOf, connectionConfig } from '../../connectors/kafka/client.ts';
import { parseStart } from '../../connectors/kafka/source.ts';
import { subjectName } from '../../connectors/kafka/subject.ts';
import { frameHeader, frameId, frameRecords } from '../../connectors/kafka/wire-format.ts';

function withEnv<T>(vars: Record<string, string | undefined>, run: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try {
    return run();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

test('brokers: the option, else SENSEI_KAFKA_BROKERS, else localhost', (t) => {
  t.deepEqual(brokersOf({ brokers: ['a:1', 'b:2'] }), ['a:1', 'b:2']);
  t.deepEqual(withEnv({ SENSEI_KAFKA_BROKERS: 'x:9, y:9' }, () => brokersOf({})), ['x:9', 'y:9']);
  t.deepEqual(withEnv({ SENSEI_KAFKA_BROKERS: undefined }, () => brokersOf({})), ['localhost:9092']);
});

test('plaintext by default; TLS files and SASL credentials from the environment', (t) => {
  t.deepEqual(connectionConfig({ topic: 't', brokers: ['b:1'] }), { brokers: ['b:1'], clientId: 'sensei' });
  const dir = mkdtempSync(join(tmpdir(), 'sensei-tls-'));
  writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
  const config = withEnv({ SENSEI_KAFKA_USERNAME: 'svc', SENSEI_KAFKA_PASSWORD: 's3cret' }, () =>
    connectionConfig({ topic: 't', brokers: ['b:1'], security_protocol: 'sasl_ssl', sasl_mechanism: 'scram-sha-512', ssl_ca_file: join(dir, 'ca.pem') }),
  );
  t.deepEqual(config.ssl, { rejectUnauthorized: true, ca: ['CA PEM'] });
  t.deepEqual(config.sasl, { mechanism: 'scram-sha-512', username: 'svc', password: 's3cret' });
  const named = withEnv({ APP_USER: 'u', APP_PASS: 'p' }, () =>
    connectionConfig({ topic: 't', security_protocol: 'sasl_plaintext', sasl_username_env: 'APP_USER', sasl_password_env: 'APP_PASS' }),
  );
  t.deepEqual(named.sasl, { mechanism: 'plain', username: 'u', password: 'p' });
  t.is(named.ssl, undefined);
});

test('a missing credential names the environment variable and never a secret', (t) => {
  const error = withEnv({ SENSEI_KAFKA_USERNAME: 'svc', SENSEI_KAFKA_PASSWORD: undefined }, () =>
    t.throws(() => connectionConfig({ topic: 't', security_protocol: 'sasl_ssl' })),
  );
  t.regex(error!.message, /SASL password is not set: set the environment variable SENSEI_KAFKA_PASSWORD/);
  t.false(error!.message.includes('svc'));
});

test('subject naming strategies, as Confluent\'s serializers name subjects', (t) => {
  const schema = { type: 'record', name: 'Order', namespace: 'shop', fields: [] };
  t.is(subjectName('topic', 'orders', schema), 'orders-value');
  t.is(subjectName('topic', 'orders', 'string', 'key'), 'orders-key');
  t.is(subjectName('record', 'orders', schema), 'shop.Order');
  t.is(subjectName('topic_record', 'orders', schema), 'orders-shop.Order');
  t.is(subjectName('record', 'orders', { type: 'record', name: 'a.b.C', fields: [] }), 'a.b.C');
  t.is(subjectName('record', 'orders', 'string', 'key'), 'string');
  t.throws(() => subjectName('record', 'orders', ['null', 'string'], 'key'), { message: /needs a named schema/ });
});

test('start positions', (t) => {
  t.deepEqual(parseStart('committed'), { kind: 'committed' });
  t.deepEqual(parseStart('earliest'), { kind: 'earliest' });
  t.deepEqual(parseStart('latest'), { kind: 'latest' });
  t.deepEqual(parseStart('2024-05-01T10:00:00Z'), { kind: 'timestamp', at: Date.UTC(2024, 4, 1, 10) });
  t.deepEqual(parseStart('1714557600000'), { kind: 'timestamp', at: 1714557600000 });
  t.throws(() => parseStart('yesterday'), { message: /committed, earliest, latest or a timestamp/ });
});

test('Confluent wire format: header, id, framing of packed records', (t) => {
  const header = frameHeader(258);
  t.deepEqual([...header], [0, 0, 0, 1, 2]);
  t.is(frameId(Buffer.concat([header, Buffer.from([1, 2])])), 258);
  t.deepEqual(frameId(Buffer.from([1, 0, 0, 0, 1])), { error: 'not in the Confluent wire format: magic byte 1, expected 0' });
  t.regex((frameId(Buffer.from([0, 1])) as { error: string }).error, /shorter than the 5-byte header/);
  const framed = frameRecords(header, Buffer.from('abcdef'), new Uint32Array([2, 2, 6]));
  t.deepEqual(framed.map((b) => [...b]), [
    [0, 0, 0, 1, 2, 97, 98],
    [0, 0, 0, 1, 2],
    [0, 0, 0, 1, 2, 99, 100, 101, 102],
  ]);
});
