import test from 'ava';
import type { AvroType, RecordType } from '../../src/types/avro-type.ts';
import {
  arithmeticType, decimal, isAssignable, isNullable, nonNull, nullable, pascalCase, promoteNumeric, recordUnion, T, typesEqual, typeToString, unifyTypes,
} from '../../src/types/type-utils.ts';

const rec = (name: string, fields: [string, AvroType][]): RecordType => ({ kind: 'record', name, fields: fields.map(([n, type]) => ({ name: n, type })) });
const s = (t: AvroType | undefined) => (t ? typeToString(t) : 'none');

test('typeToString spells types as the language does', (t) => {
  t.is(typeToString(nullable(T.string)), 'string?');
  t.is(typeToString(decimal(12, 2)), 'decimal(12,2)');
  t.is(typeToString(rec('Order', [])), 'record Order');
  t.is(typeToString({ kind: 'array', items: T.long }), 'array<long>');
  t.is(typeToString({ kind: 'map', values: nullable(T.int) }), 'map<int?>');
  t.is(typeToString(T.timestampMicros), 'timestamp_micros');
  t.is(typeToString({ kind: 'fixed', name: 'Md5', size: 16 }), 'fixed Md5(16)');
  t.is(typeToString({ kind: 'union', branches: [T.null, T.int, T.string] }), 'union<null, int, string>');
  t.is(typeToString({ kind: 'union', branches: [T.string, T.null] }), 'string?');
});

test('nullability', (t) => {
  t.true(isNullable(T.null));
  t.false(isNullable(T.int));
  t.is(nonNull(nullable(T.int)), T.int);
  t.is(s(nonNull({ kind: 'union', branches: [T.null, T.int, T.string] })), 'union<int, string>');
  const n = nullable(T.int);
  t.is(nullable(n), n, 'nullable is idempotent');
});

test('typesEqual is structural, with names', (t) => {
  t.true(typesEqual(rec('A', [['x', T.int]]), rec('A', [['x', T.int]])));
  t.false(typesEqual(rec('A', [['x', T.int]]), rec('B', [['x', T.int]])));
  t.false(typesEqual(decimal(3, 1), decimal(3, 2)));
  t.true(typesEqual({ kind: 'union', branches: [T.null, T.int] }, { kind: 'union', branches: [T.int, T.null] }));
});

test('numeric promotion follows Avro: int → long → float → double', (t) => {
  t.is(s(promoteNumeric(T.int, T.long)), 'long');
  t.is(s(promoteNumeric(T.long, T.float)), 'float');
  t.is(s(promoteNumeric(T.float, T.double)), 'double');
  t.is(s(promoteNumeric(decimal(5, 2), T.int)), 'decimal(12,2)');
  t.is(s(promoteNumeric(decimal(5, 2), T.double)), 'double');
  t.is(promoteNumeric(T.string, T.int), undefined);
});

test('decimal arithmetic follows the SQL rules and caps at 38 digits', (t) => {
  t.is(s(arithmeticType('+', decimal(12, 2), decimal(10, 4))), 'decimal(15,4)');
  t.is(s(arithmeticType('*', decimal(12, 2), decimal(10, 4))), 'decimal(23,6)');
  t.is(s(arithmeticType('/', decimal(12, 2), decimal(10, 4))), 'decimal(27,13)');
  t.is(s(arithmeticType('%', decimal(12, 2), decimal(10, 4))), 'decimal(10,4)');
  t.is(s(arithmeticType('*', decimal(30, 10), decimal(30, 10))), 'decimal(38,6)');
  t.is(s(arithmeticType('/', T.int, T.int)), 'int');
});

test('unifyTypes joins branch types', (t) => {
  t.is(s(unifyTypes(T.null, T.int)), 'int?');
  t.is(s(unifyTypes(nullable(T.int), T.double)), 'double?');
  t.is(s(unifyTypes({ kind: 'enum', name: 'E', symbols: ['A'] }, T.string)), 'string');
  t.is(s(unifyTypes(T.string, T.int)), 'none');
  t.is(s(unifyTypes({ kind: 'array', items: T.int }, { kind: 'array', items: T.long })), 'array<long>');
});

test('recordUnion matches fields by name and widens nullability', (t) => {
  const a = rec('A', [['x', T.int], ['y', nullable(T.string)]]);
  const b = rec('B', [['y', T.string], ['x', T.int]]);
  const u = recordUnion(a, b);
  t.deepEqual(u.type?.fields.map((f) => `${f.name}: ${typeToString(f.type)}`), ['x: int', 'y: string?']);
  t.deepEqual(recordUnion(a, rec('B', [['x', T.long], ['y', T.string]])), { field: 'x', reason: '`x` is int in A but long in B' });
  t.deepEqual(recordUnion(a, rec('B', [['x', T.int], ['y', T.string], ['z', T.int]])), { field: 'z', reason: '`z` is missing from A' });
});

test('assignability', (t) => {
  t.true(isAssignable(T.int, T.long));
  t.false(isAssignable(T.long, T.int));
  t.true(isAssignable(T.int, nullable(T.double)));
  t.false(isAssignable(nullable(T.int), T.int));
  t.true(isAssignable(T.null, nullable(T.string)));
  t.true(isAssignable({ kind: 'enum', name: 'E', symbols: ['A'] }, T.string));
  t.true(isAssignable(decimal(5, 2), decimal(7, 2)));
  t.false(isAssignable(decimal(5, 2), decimal(5, 1)));
});

test('pascalCase names stream records', (t) => {
  t.is(pascalCase('paid_orders'), 'PaidOrders');
  t.is(pascalCase('big'), 'Big');
  t.is(pascalCase('2fast'), 'R2fast');
});
