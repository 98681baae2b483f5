// The Schema Registry test double, through both clients that talk to it: Sensei's
// RegistryClient and @kafkajs/confluent-schema-registry's SchemaRegistry.
import test from 'ava';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { RegistryClient, RegistryError } from '../../connectors/kafka/registry-client.ts';
import { startSchemaRegistry, type SchemaRegistryDouble } from '../support/schema-registry.ts';

const v1 = { type: 'record', name: 'Order', namespace: 'shop', fields: [{ name: 'id', type: 'string' }, { name: 'amount', type: 'long' }] };
const v2 = { ...v1, fields: [...v1.fields, { name: 'country', type: ['null', 'string'], default: null }] };
const breaking = { ...v1, fields: [{ name: 'id', type: 'long' }, { name: 'amount', type: 'long' }, { name: 'note', type: 'string' }] };

async function withRegistry(run: (r: SchemaRegistryDouble, client: RegistryClient) => Promise<void>): Promise<void> {
  const registry = await startSchemaRegistry();
  try {
    await run(registry, new RegistryClient(registry.url));
  } finally {
    await registry.close();
  }
}

async function http(r: SchemaRegistryDouble, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(r.url + path, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

test('register, look up, fetch by id and list versions', async (t) => {
  await withRegistry(async (r, client) => {
    const id1 = await client.register('orders-value', v1);
    t.is(await client.register('orders-value', v1), id1, 'registering the same schema again is a no-op');
    const id2 = await client.register('orders-value', v2);
    t.not(id2, id1);
    t.deepEqual(await client.schemaById(id2), v2);
    t.is(await client.lookup('orders-value', v1), id1);
    t.is(await client.lookup('orders-value', { ...v1, name: 'Other' }), undefined);
    t.deepEqual(await client.latest('orders-value'), { id: id2, version: 2, schema: v2 });
    t.is(await client.latest('nothing-value'), undefined);
    t.is(await client.register('copy-value', v1), id1, 'one schema has one id across subjects');
    t.deepEqual((await http(r, 'GET', '/subjects')).body, ['orders-value', 'copy-value']);
    t.deepEqual((await http(r, 'GET', '/subjects/orders-value/versions')).body, [1, 2]);
    t.is((await http(r, 'GET', '/subjects/orders-value/versions/1')).body.id, id1);
  });
});

test('Confluent error codes', async (t) => {
  await withRegistry(async (r, client) => {
    await client.register('orders-value', v1);
    const cases: [string, string, unknown, number, number][] = [
      ['GET', '/subjects/missing/versions', undefined, 404, 40401],
      ['GET', '/subjects/orders-value/versions/7', undefined, 404, 40402],
      ['GET', '/subjects/orders-value/versions/zero', undefined, 422, 42202],
      ['GET', '/schemas/ids/99', undefined, 404, 40403],
      ['POST', '/subjects/orders-value', { schema: JSON.stringify({ ...v1, name: 'X' }) }, 404, 40403],
      ['POST', '/subjects/orders-value/versions', { schema: JSON.stringify(breaking) }, 409, 409],
      ['POST', '/subjects/orders-value/versions', { schema: '{"type": "recordz"}' }, 422, 42201],
      ['POST', '/subjects/orders-value/versions', { schema: '"string"', schemaType: 'PROTOBUF' }, 422, 42201],
      ['PUT', '/config/orders-value', { compatibility: 'SIDEWAYS' }, 422, 42203],
      ['GET', '/config/orders-value', undefined, 404, 40408],
      ['GET', '/no/such/route', undefined, 404, 404],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await http(r, method, path, body);
      t.is(res.status, status, `${method} ${path}`);
      t.is(res.body.error_code, code, `${method} ${path}`);
      t.is(typeof res.body.message, 'string');
    }
    const err = await t.throwsAsync(client.schemaById(99), { instanceOf: RegistryError });
    t.is(err.status, 404);
  });
});

test('BACKWARD by default: new readers must read old data; the compatibility endpoint names the fields', async (t) => {
  await withRegistry(async (r, client) => {
    await client.register('orders-value', v1);
    t.deepEqual(await client.compatibility('orders-value', v2), { compatible: true, messages: [] });
    const verdict = await client.compatibility('orders-value', breaking);
    t.false(verdict.compatible);
    t.true(verdict.messages.some((m) => m.includes('`id`') && m.includes('"string" as "long"')), verdict.messages.join('\n'));
    t.true(verdict.messages.some((m) => m.includes('`note`') && m.includes('no default')), verdict.messages.join('\n'));
    const plain = await http(r, 'POST', '/compatibility/subjects/orders-value/versions/latest', { schema: JSON.stringify(breaking) });
    t.deepEqual(plain.body, { is_compatible: false });
    await t.throwsAsync(client.register('orders-value', breaking), { message: /incompatible.*`note`/ });
  });
});

test('compatibility levels per subject and globally', async (t) => {
  await withRegistry(async (r) => {
    t.deepEqual((await http(r, 'GET', '/config')).body, { compatibilityLevel: 'BACKWARD' });
    const client = new RegistryClient(r.url);
    await client.register('a-value', v2);
    // Dropping `amount` (no default): new readers can read old data (BACKWARD), old readers cannot read new data (FORWARD).
    const withoutAmount = { ...v2, fields: v2.fields.filter((f) => f.name !== 'amount') };
    t.true((await client.compatibility('a-value', withoutAmount)).compatible);
    await http(r, 'PUT', '/config/a-value', { compatibility: 'FORWARD' });
    t.deepEqual((await http(r, 'GET', '/config/a-value')).body, { compatibilityLevel: 'FORWARD' });
    const forward = await client.compatibility('a-value', withoutAmount);
    t.false(forward.compatible);
    t.true(forward.messages.some((m) => m.includes('`amount`')), forward.messages.join('\n'));
    await http(r, 'PUT', '/config/a-value', { compatibility: 'NONE' });
    t.truthy(await client.register('a-value', breaking));
    await http(r, 'PUT', '/config', { compatibility: 'FULL_TRANSITIVE' });
    t.deepEqual((await http(r, 'GET', '/config/b-value?defaultToGlobal=true')).body, { compatibilityLevel: 'FULL_TRANSITIVE' });
    await client.register('b-value', v1);
    await t.throwsAsync(client.register('b-value', breaking), { message: /old readers/ });
  });
});

test('@kafkajs/confluent-schema-registry works against the double: register, encode, decode, ids', async (t) => {
  await withRegistry(async (r) => {
    const registry = new SchemaRegistry({ host: r.url });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject: 'orders-value' });
    t.is(await registry.getLatestSchemaId('orders-value'), id);
    t.is(await registry.getRegistryId('orders-value', 1), id);
    t.is(await registry.getRegistryIdBySchema('orders-value', { type: SchemaType.AVRO, schema: JSON.stringify(v1) }), id);
    const bytes = await registry.encode(id, { id: 'o-1', amount: 42 });
    t.is(bytes[0], 0);
    t.is(bytes.readInt32BE(1), id);
    t.deepEqual({ ...(await registry.decode(bytes)) }, { id: 'o-1', amount: 42 });
    // The client sets the subject's level on its first registration.
    t.true(r.requests.includes('PUT /config/orders-value'));
  });
});
