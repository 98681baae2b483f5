import test, { type ExecutionContext } from 'ava';
import { applyFix, checkExpr, expectClean, expectDiagnostic, summary } from './harness.ts';

/** The expression type-checks cleanly (no errors, no warnings) and has type `expected`. */
const typeIs = test.macro({
  exec(t: ExecutionContext, expr: string, expected: string) {
    const c = checkExpr(expr);
    t.deepEqual(summary(c), []);
    t.is(c.type, expected);
  },
  title: (given, expr: string, expected: string) => given ?? `${expr} : ${expected}`,
});

// Arithmetic and numeric promotion (int → long → float → double; decimals by SQL's rules).
test(typeIs, 'qty + total', 'long');
test(typeIs, 'qty + price', 'double');
test(typeIs, 'ratio * qty', 'float');
test(typeIs, 'total * ratio', 'float');
test(typeIs, 'qty / 2', 'int');
test(typeIs, 'total % 7', 'long');
test(typeIs, 'amount * 2', 'decimal(23,2)');
test(typeIs, 'amount + amount', 'decimal(13,2)');
test(typeIs, 'amount - 1.25d', 'decimal(13,2)');
test(typeIs, 'amount / 4', 'decimal(23,13)');
test(typeIs, 'amount + price', 'double');
test(typeIs, '-qty', 'int');
test(typeIs, '2147483648', 'long');
test(typeIs, '-2147483648', 'long');
test(typeIs, '1.5f', 'float');
test(typeIs, '12.50d', 'decimal(4,2)');
// Strings, time.
test(typeIs, 'id + "-" + customer_id', 'string');
test(typeIs, 'id + note', 'string?');
test(typeIs, 'string(status) + ref', 'string');
test(typeIs, 'created_at + 5m', 'timestamp_millis');
test(typeIs, '1h + created_at', 'timestamp_millis');
test(typeIs, 'created_at - created_at', 'long');
test(typeIs, 'now() - created_at', 'long');
test(typeIs, 'updated_at - 1s', 'timestamp_micros?');
test(typeIs, 'day + 1', 'date');
test(typeIs, 'day - date "2024-01-01"', 'int');
// Nulls and access.
test(typeIs, 'note ?? "none"', 'string');
test(typeIs, 'note ?? customer?.name', 'string?');
test(typeIs, 'customer?.name', 'string?');
test(typeIs, 'customer?.address?.city', 'string?');
test(typeIs, 'customer?.home', 'record Address?');
test(typeIs, 'items[0]', 'record Item?');
test(typeIs, 'items[0]?.sku', 'string?');
test(typeIs, 'tags?[0]', 'string?');
test(typeIs, 'attrs["k"]', 'long?');
test(typeIs, 'attrs["k"] ?? 0', 'long');
// Conditionals.
test(typeIs, 'if qty > 1 then total else 0', 'long');
test(typeIs, 'if qty > 1 then "big" else status', 'string');
test(typeIs, 'case when qty > 1 then 1.5 when qty > 0 then 1 end', 'double?');
test(typeIs, 'case when qty > 1 then amount else 0 end', 'decimal(12,2)');
test(typeIs, 'if customer != null then customer.id else "?"', 'string');
test(typeIs, 'if customer == null then "?" else customer.address?.city ?? "?"', 'string');
test(typeIs, 'customer != null and customer.tier == "GOLD"', 'boolean');
test(typeIs, 'customer == null or customer.home.city == "Oslo"', 'boolean');
// Booleans and comparisons.
test(typeIs, 'qty between 1 and 10', 'boolean');
test(typeIs, 'price not between 0 and qty', 'boolean');
test(typeIs, 'status in ("PAID", "OPEN")', 'boolean');
test(typeIs, 'note not in ("a", null)', 'boolean');
test(typeIs, 'note like "A%"', 'boolean');
test(typeIs, 'id matches "^[0-9]+$"', 'boolean');
test(typeIs, 'paid and qty > 1', 'boolean?');
test(typeIs, 'not paid', 'boolean?');
test(typeIs, 'note == null', 'boolean');
test(typeIs, 'raw == bytes "cafe"', 'boolean');
test(typeIs, 'created_at > timestamp "2024-01-01T00:00:00Z"', 'boolean');
test(typeIs, 'ref == uuid "9f6b0b3e-7d1c-4c25-9d7a-0e4f3c2b1a00"', 'boolean');
test(typeIs, 'customer?.tier == "SILVER"', 'boolean');
// Literals of collections.
test(typeIs, '[1, 2L]', 'array<long>');
test(typeIs, '[]', 'array<null>');
test(typeIs, 'map { "a": 1, "b": null }', 'map<int?>');
// Library calls: result types and null rules.
test(typeIs, 'upper(id)', 'string');
test(typeIs, 'upper(note)', 'string?');
test(typeIs, 'coalesce(note, customer?.name, "x")', 'string');
test(typeIs, 'coalesce(note, customer?.name)', 'string?');
test(typeIs, 'regexp_extract(id, "\\\\d+")', 'string?');
test(typeIs, 'json_long(payload, "$.a.b[0]")', 'long?');
test(typeIs, 'decimal(price, 10, 2)', 'decimal(10,2)');
test(typeIs, 'least(qty, total, 3)', 'long');
test(typeIs, 'greatest(id, "m")', 'string');
test(typeIs, 'size(items)', 'int');
test(typeIs, 'size(tags)', 'int?');
test(typeIs, 'keys(attrs)', 'array<string>');
test(typeIs, 'values(attrs)', 'array<long>');
test(typeIs, 'array_contains(tags ?? [], "x")', 'boolean');
test(typeIs, 'uuid()', 'uuid');
test(typeIs, 'long(price)', 'long');
test(typeIs, 'timestamp("2024-05-01T10:00:00Z")', 'timestamp_millis');
test(typeIs, 'is_null(note)', 'boolean');
test(typeIs, 'nullif(id, "")', 'string?');
test(typeIs, 'concat("n=", qty, note)', 'string');
test(typeIs, 'murmur2(raw)', 'int');
test(typeIs, 'date_trunc("hour", created_at)', 'timestamp_millis');

test('time functions convert a date argument with timestamp()', (t) => {
  const c = checkExpr('year(day)');
  t.is(c.type, 'int');
  const v = c.value!;
  t.true(v.k === 'call' && v.args[0]!.k === 'call' && v.args[0]!.fn === 'timestamp');
});

test('a duration next to a timestamp_micros counts in microseconds', (t) => {
  const v = checkExpr('updated_at + 2s').value!;
  t.true(v.k === 'binary' && v.right.k === 'literal' && v.right.value === 2_000_000);
  const w = checkExpr('created_at + 2s').value!;
  t.true(w.k === 'binary' && w.right.k === 'literal' && w.right.value === 2000);
});

test('a timestamp literal compared with a timestamp_micros keeps its microseconds', (t) => {
  const v = checkExpr('updated_at > timestamp "2024-01-01T00:00:00.000001Z"').value!;
  t.true(v.k === 'binary' && v.right.k === 'literal' && v.right.value === Date.UTC(2024, 0, 1) * 1000 + 1);
  t.true(v.k === 'binary' && v.right.type.kind === 'timestamp-micros');
});

test('literals carry their values: timestamps as epoch millis, bytes as hex', (t) => {
  const ts = checkExpr('timestamp "2024-05-01T12:00:00+02:00"').value!;
  t.true(ts.k === 'literal' && ts.value === Date.UTC(2024, 4, 1, 10));
  const b = checkExpr('bytes "CAFE"').value!;
  t.true(b.k === 'literal' && b.value === 'cafe');
  const d = checkExpr('date "1970-01-11"').value!;
  t.true(d.k === 'literal' && d.value === 10);
});

// ---- errors, with spans and fixes ----

test('unknown field: suggestion and a fix', (t) => {
  const c = checkExpr('⟦amout⟧ * 2');
  const d = expectDiagnostic(t, c, 'unknown-field');
  t.deepEqual(d.hints, ['did you mean `amount`?']);
  t.true(applyFix(c, d).includes('v: amount * 2'));
});

test('unknown nested field names the record', (t) => {
  const c = checkExpr('customer?.⟦nmae⟧');
  const d = expectDiagnostic(t, c, 'unknown-field');
  t.regex(d.message, /record Customer has no field `nmae`/);
});

test('field access through a nullable record needs ?.', (t) => {
  const c = checkExpr('customer⟦.⟧name');
  const d = expectDiagnostic(t, c, 'nullable-access');
  t.true(applyFix(c, d).includes('v: customer?.name'));
  t.regex(d.hints[0]!, /\?\./);
});

test('?. does not carry on: a.b?.c needs ?. again after a nullable step', (t) => {
  const c = checkExpr('customer?.address⟦.⟧city');
  expectDiagnostic(t, c, 'nullable-access');
});

test('indexing a nullable array needs ?[', (t) => {
  const c = checkExpr('tags⟦[⟧0]');
  const d = expectDiagnostic(t, c, 'nullable-access');
  t.true(applyFix(c, d).includes('v: tags?[0]'));
});

test('a nullable record is fine after a null check in the same condition', (t) => {
  expectClean(t, checkExpr('customer != null and customer.address != null and customer.address.city == "Oslo"'));
  expectClean(t, checkExpr('not is_null(customer) and customer.id == "x"'));
});

test('the null check must come first: `and` does not narrow leftwards', (t) => {
  expectDiagnostic(t, checkExpr('customer⟦.⟧id == "x" and customer != null'), 'nullable-access');
});

test('field access on a value that is not a record', (t) => {
  expectDiagnostic(t, checkExpr('id.⟦length⟧'), 'not-a-record');
});

test('field access on a map hints at indexing', (t) => {
  const d = expectDiagnostic(t, checkExpr('attrs.⟦k⟧'), 'not-a-record');
  t.deepEqual(d.hints, ['look up map keys with ["k"]']);
});

test('indexing a value that is neither array nor map', (t) => {
  expectDiagnostic(t, checkExpr('⟦qty[0]⟧'), 'not-indexable');
});

test('array index must be integral', (t) => {
  expectDiagnostic(t, checkExpr('items[⟦"a"⟧]'), 'type-mismatch');
});

test('string + number is an error with a hint', (t) => {
  const d = expectDiagnostic(t, checkExpr('⟦id + qty⟧'), 'type-mismatch');
  t.regex(d.hints[0]!, /concat/);
});

test('arithmetic on booleans is an error', (t) => {
  expectDiagnostic(t, checkExpr('⟦paid * 2⟧'), 'type-mismatch');
});

test('timestamps of different precision do not subtract', (t) => {
  expectDiagnostic(t, checkExpr('⟦created_at - updated_at⟧'), 'type-mismatch');
});

test('an enum compared with a string that is not one of its symbols', (t) => {
  const c = checkExpr('status == ⟦"PIAD"⟧');
  const d = expectDiagnostic(t, c, 'unknown-symbol');
  t.regex(d.message, /PAID, OPEN, FAILED/);
  t.true(applyFix(c, d).includes('status == "PAID"'));
});

test('enum symbols are checked in `in` lists too', (t) => {
  expectDiagnostic(t, checkExpr('status in ("PAID", ⟦"CLOSED"⟧)'), 'unknown-symbol');
});

test('enums cannot be ordered', (t) => {
  expectDiagnostic(t, checkExpr('⟦status < "PAID"⟧'), 'type-mismatch');
});

test('a string and a long cannot be compared', (t) => {
  const d = expectDiagnostic(t, checkExpr('⟦id == 1⟧'), 'type-mismatch');
  t.is(d.message, 'cannot compare string with int');
});

test('null cannot be ordered', (t) => {
  expectDiagnostic(t, checkExpr('⟦qty < null⟧'), 'type-mismatch');
});

test('a timestamp compared with a string literal gets a fix to a timestamp literal', (t) => {
  const c = checkExpr('created_at > ⟦"2024-01-01T00:00:00Z"⟧');
  const d = expectDiagnostic(t, c, 'type-mismatch');
  t.true(applyFix(c, d).includes('created_at > timestamp "2024-01-01T00:00:00Z"'));
});

test('invalid regex in matches is reported at the pattern', (t) => {
  const d = expectDiagnostic(t, checkExpr('note matches ⟦"(["⟧'), 'invalid-regex');
  t.regex(d.message, /invalid regular expression/);
});

test('invalid regex in a regexp function argument', (t) => {
  expectDiagnostic(t, checkExpr('regexp_replace(id, ⟦"a{2,1}"⟧, "")'), 'invalid-regex');
});

test('like needs strings', (t) => {
  expectDiagnostic(t, checkExpr('⟦qty⟧ like "1%"'), 'type-mismatch');
});

test('?? on a value that is never null warns, with a fix that removes it', (t) => {
  const c = checkExpr('⟦id ?? "x"⟧');
  const d = expectDiagnostic(t, c, 'unnecessary-coalesce');
  t.is(d.severity, 'warning');
  t.true(applyFix(c, d).includes('v: id }'));
  t.truthy(c.typed, 'a warning does not stop the program');
});

test('?? with a fallback of another type', (t) => {
  expectDiagnostic(t, checkExpr('note ?? ⟦1⟧'), 'type-mismatch');
});

test('if branches must unify', (t) => {
  const d = expectDiagnostic(t, checkExpr('⟦if qty > 1 then 1 else "x"⟧'), 'type-mismatch');
  t.regex(d.message, /int and string/);
});

test('conditions must be boolean', (t) => {
  expectDiagnostic(t, checkExpr('if ⟦qty⟧ then 1 else 2'), 'type-mismatch');
  expectDiagnostic(t, checkExpr('⟦qty⟧ and paid'), 'type-mismatch');
});

test('unknown function: suggestion and fix', (t) => {
  const c = checkExpr('⟦uper⟧(id)');
  const d = expectDiagnostic(t, c, 'unknown-function');
  t.regex(d.hints[0]!, /did you mean `upper`\? \(upper\(s: string\): string\)/);
  t.true(applyFix(c, d).includes('upper(id)'));
});

test('wrong number of arguments', (t) => {
  const d = expectDiagnostic(t, checkExpr('⟦upper(id, id)⟧'), 'wrong-arity');
  t.is(d.message, '`upper` takes 1 argument, not 2');
  expectDiagnostic(t, checkExpr('⟦substring(id)⟧'), 'wrong-arity');
  expectDiagnostic(t, checkExpr('⟦coalesce()⟧'), 'wrong-arity');
});

test('an argument of the wrong type is reported at the argument', (t) => {
  const d = expectDiagnostic(t, checkExpr('upper(⟦qty⟧)'), 'type-mismatch');
  t.is(d.message, 'argument `s` of `upper` must be string, found int');
});

test('time functions refuse strings', (t) => {
  expectDiagnostic(t, checkExpr('year(⟦id⟧)'), 'type-mismatch');
});

test('decimal() needs literal precision and scale in range', (t) => {
  expectDiagnostic(t, checkExpr('decimal(price, ⟦qty⟧, 2)'), 'type-mismatch');
  expectDiagnostic(t, checkExpr('⟦decimal(price, 4, 5)⟧'), 'type-mismatch');
});

test('a cast from a type it cannot convert', (t) => {
  const d = expectDiagnostic(t, checkExpr('⟦timestamp(price)⟧'), 'type-mismatch');
  t.regex(d.message, /cannot convert double to timestamp/);
});

test('lossy casts warn; truncating casts do not', (t) => {
  const c = checkExpr('⟦float(total)⟧');
  t.is(expectDiagnostic(t, c, 'lossy-cast').severity, 'warning');
  t.deepEqual(summary(checkExpr('long(price) + int(amount)')), []);
  expectDiagnostic(t, checkExpr('⟦timestamp(updated_at)⟧'), 'lossy-cast');
});

test('an unknown date_trunc unit gets a suggestion', (t) => {
  const c = checkExpr('date_trunc(⟦"hours"⟧, created_at)');
  const d = expectDiagnostic(t, c, 'invalid-literal');
  t.true(applyFix(c, d).includes('date_trunc("hour", created_at)'));
});

test('an invalid JSON path', (t) => {
  expectDiagnostic(t, checkExpr('json_string(payload, ⟦"a.b"⟧)'), 'invalid-literal');
});

test('an invalid timestamp literal', (t) => {
  expectDiagnostic(t, checkExpr('timestamp ⟦"yesterday"⟧'), 'invalid-literal');
  expectDiagnostic(t, checkExpr('date ⟦"2024-02-30"⟧'), 'invalid-literal');
  expectDiagnostic(t, checkExpr('uuid ⟦"nope"⟧'), 'invalid-literal');
});

test('arithmetic with null is always null', (t) => {
  expectDiagnostic(t, checkExpr('⟦qty + null⟧'), 'always-null');
});

test('array items must have one type', (t) => {
  expectDiagnostic(t, checkExpr('[1, ⟦"a"⟧]'), 'type-mismatch');
});

test('one mistake gives one diagnostic', (t) => {
  const c = checkExpr('upper(amout) + lower(amout)');
  t.deepEqual(c.diagnostics.map((d) => d.code), ['unknown-field', 'unknown-field']);
});
