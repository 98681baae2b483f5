import test from 'ava';
import type { Declaration, Expr, Operator, SchemaDecl, StreamDecl } from '../../src/syntax/ast.ts';
import { textToAst, textToTokens } from '../../src/syntax/parse.ts';
import { marked, offsets, sexpr, withoutSpans } from './helpers.ts';

function parseClean(text: string) {
  const { ast, diagnostics } = textToAst('test.sensei', text);
  if (diagnostics.length > 0) throw new Error(diagnostics.map((d) => `${d.span.start.line}:${d.span.start.column} ${d.message}`).join('\n'));
  return ast;
}

function only<K extends Declaration['kind']>(text: string, kind: K): Extract<Declaration, { kind: K }> {
  const ast = parseClean(text);
  const decl = ast.declarations.find((d) => d.kind === kind);
  if (!decl) throw new Error(`no ${kind} declaration`);
  return decl as Extract<Declaration, { kind: K }>;
}

function operators(text: string): Operator[] {
  return only(`stream s = input ${text}`, 'stream').operators;
}

function expr(text: string): Expr {
  const op = operators(`| where ${text}`)[0]!;
  if (op.kind !== 'where') throw new Error('not a where');
  return op.condition;
}

const show = (text: string) => sexpr(expr(text));

// ------------------------------------------------------------ declarations

test('pipeline and import', (t) => {
  const ast = parseClean('pipeline orders_enrichment\nimport "shared.sensei"');
  t.is(ast.pipeline?.name, 'orders_enrichment');
  t.deepEqual(withoutSpans(ast.declarations), [{ kind: 'import', path: { kind: 'string', value: 'shared.sensei' } }]);
});

test('schema from an .avsc file, with doc', (t) => {
  const decl = only('schema Order doc "An order" = avro "schemas/order.avsc"', 'schema');
  t.deepEqual(withoutSpans(decl), {
    kind: 'schema',
    name: { name: 'Order' },
    doc: 'An order',
    body: { kind: 'avro-file', path: { kind: 'string', value: 'schemas/order.avsc' } },
  });
});

test('schema with every kind of field type', (t) => {
  const decl = only(
    `schema Customer doc "A customer" {
      id: string doc "customer id"
      country: string?
      tier: enum Tier { GOLD, SILVER, BRONZE } = "GOLD"
      created_at: timestamp_millis
      amount: decimal(12, 2)
      address: record Address { city: string, zip: string? }
      tags: array<string>, attrs: map<array<long>>
      hash: fixed Md5(16)
      nothing: null
      other: Order?
      map: bytes = bytes "cafe" doc "soft keywords are field names"
    }`,
    'schema',
  );
  t.is(decl.doc, 'A customer');
  const body = decl.body as Extract<SchemaDecl['body'], { kind: 'record' }>;
  t.deepEqual(withoutSpans(body.fields), [
    { name: { name: 'id' }, type: { kind: 'primitive', name: 'string' }, doc: 'customer id' },
    { name: { name: 'country' }, type: { kind: 'nullable', inner: { kind: 'primitive', name: 'string' } } },
    {
      name: { name: 'tier' },
      type: { kind: 'enum', name: { name: 'Tier' }, symbols: [{ name: 'GOLD' }, { name: 'SILVER' }, { name: 'BRONZE' }] },
      default: { kind: 'string', value: 'GOLD' },
    },
    { name: { name: 'created_at' }, type: { kind: 'primitive', name: 'timestamp_millis' } },
    { name: { name: 'amount' }, type: { kind: 'decimal', precision: 12, scale: 2 } },
    {
      name: { name: 'address' },
      type: {
        kind: 'record',
        name: { name: 'Address' },
        fields: [
          { name: { name: 'city' }, type: { kind: 'primitive', name: 'string' } },
          { name: { name: 'zip' }, type: { kind: 'nullable', inner: { kind: 'primitive', name: 'string' } } },
        ],
      },
    },
    { name: { name: 'tags' }, type: { kind: 'array', items: { kind: 'primitive', name: 'string' } } },
    { name: { name: 'attrs' }, type: { kind: 'map', values: { kind: 'array', items: { kind: 'primitive', name: 'long' } } } },
    { name: { name: 'hash' }, type: { kind: 'fixed', name: { name: 'Md5' }, size: 16 } },
    { name: { name: 'nothing' }, type: { kind: 'primitive', name: 'null' } },
    { name: { name: 'other' }, type: { kind: 'nullable', inner: { kind: 'named', name: { name: 'Order' } } } },
    {
      name: { name: 'map' },
      type: { kind: 'primitive', name: 'bytes' },
      default: { kind: 'typed', type: 'bytes', value: { kind: 'string', value: 'cafe' } },
      doc: 'soft keywords are field names',
    },
  ]);
});

test('`doc` followed by `:` names the next field; followed by anything else it begins a doc', (t) => {
  const decl = only('schema S {\n  raw: bytes\n  doc: string doc "the doc"\n}', 'schema');
  if (decl.body.kind !== 'record') throw new Error('not a record');
  t.deepEqual(withoutSpans(decl.body.fields), [
    { name: { name: 'raw' }, type: { kind: 'primitive', name: 'bytes' } },
    { name: { name: 'doc' }, type: { kind: 'primitive', name: 'string' }, doc: 'the doc' },
  ]);
  const { diagnostics } = textToAst('test.sensei', 'schema S {\n  raw: bytes doc\n}');
  t.deepEqual(diagnostics.map((d) => d.message), ['expected a string after `doc`, found `}`']);
});

test('a quoted type name is a reference, not a primitive', (t) => {
  const source = only('source s: `string` from datagen', 'source');
  t.deepEqual(withoutSpans(source.schema), { kind: 'named', name: { name: 'string' } });
});

test('source, sink and dead letter with options', (t) => {
  const ast = parseClean(`
    source orders: Order from datagen { partitions: 12, rate: 50000
      "group.id": "g1" }
    source bare: record Row { id: long } from stdin
    sink paid to stdout { format: json }
    dead letter to file { path: "rejected.jsonl" }
  `);
  t.deepEqual(withoutSpans(ast.declarations), [
    {
      kind: 'source',
      name: { name: 'orders' },
      schema: { kind: 'named', name: { name: 'Order' } },
      connector: { name: 'datagen' },
      options: [
        { name: { name: 'partitions' }, value: { kind: 'number', text: '12', suffix: '' } },
        { name: { name: 'rate' }, value: { kind: 'number', text: '50000', suffix: '' } },
        { name: { name: 'group.id' }, value: { kind: 'string', value: 'g1' } },
      ],
    },
    {
      kind: 'source',
      name: { name: 'bare' },
      schema: { kind: 'record', name: { name: 'Row' }, fields: [{ name: { name: 'id' }, type: { kind: 'primitive', name: 'long' } }] },
      connector: { name: 'stdin' },
      options: [],
    },
    {
      kind: 'sink',
      input: { name: 'paid' },
      connector: { name: 'stdout' },
      options: [{ name: { name: 'format' }, value: { kind: 'field', name: { name: 'json' } } }],
    },
    {
      kind: 'dead-letter',
      connector: { name: 'file' },
      options: [{ name: { name: 'path' }, value: { kind: 'string', value: 'rejected.jsonl' } }],
    },
  ]);
});

// ------------------------------------------------------------ operators

test('a stream with no operators', (t) => {
  t.deepEqual(withoutSpans(only('stream copy = orders', 'stream')), {
    kind: 'stream',
    name: { name: 'copy' },
    input: { name: 'orders' },
    operators: [],
  });
});

test('where, key by, on error, union', (t) => {
  t.deepEqual(withoutSpans(operators('| on error dead_letter | where ok | key by customer_id | union refunds, returns')), [
    { kind: 'on-error', policy: { name: 'dead_letter' } },
    { kind: 'where', condition: { kind: 'field', name: { name: 'ok' } } },
    { kind: 'key-by', key: { kind: 'field', name: { name: 'customer_id' } } },
    { kind: 'union', streams: [{ name: 'refunds' }, { name: 'returns' }] },
  ]);
});

test('select items: all, drop, keep paths, computed', (t) => {
  const [select] = operators('| select { *, -secret, address.city, total: price * qty, `order id`: id }');
  t.deepEqual(withoutSpans(select), {
    kind: 'select',
    items: [
      { kind: 'all' },
      { kind: 'drop', name: { name: 'secret' } },
      { kind: 'keep', path: [{ name: 'address' }, { name: 'city' }] },
      {
        kind: 'compute',
        name: { name: 'total' },
        value: { kind: 'binary', op: '*', left: { kind: 'field', name: { name: 'price' } }, right: { kind: 'field', name: { name: 'qty' } } },
      },
      { kind: 'compute', name: { name: 'order id' }, value: { kind: 'field', name: { name: 'id' } } },
    ],
  });
});

test('select items may be separated by newlines; a line starting with `-` or `*` is a new item', (t) => {
  const [select] = operators(`| select {
    total: a
    -b
    c: x
      - y
    d: (p
      - q)
    *
  }`);
  if (select?.kind !== 'select') return t.fail();
  t.deepEqual(
    select.items.map((i) => (i.kind === 'compute' ? `${i.name.name}=${sexpr(i.value)}` : i.kind)),
    ['total=a', 'drop', 'c=x', 'drop', 'd=(- p q)', 'all'],
  );
});

test('flat map, route, dedupe', (t) => {
  t.deepEqual(
    withoutSpans(
      operators(`| flat map items as item
        | route {
            when status == "PAID" => paid_orders
            when status matches "^FAIL" => failed_orders,
            else => other_orders
          }
        | dedupe by id within 10m`),
    ),
    [
      { kind: 'flat-map', field: { kind: 'field', name: { name: 'items' } }, as: { name: 'item' } },
      {
        kind: 'route',
        branches: [
          {
            condition: { kind: 'binary', op: '==', left: { kind: 'field', name: { name: 'status' } }, right: { kind: 'string', value: 'PAID' } },
            target: { name: 'paid_orders' },
          },
          {
            condition: { kind: 'binary', op: 'matches', left: { kind: 'field', name: { name: 'status' } }, right: { kind: 'string', value: '^FAIL' } },
            target: { name: 'failed_orders' },
          },
        ],
        otherwise: { name: 'other_orders' },
      },
      { kind: 'dedupe', key: { kind: 'field', name: { name: 'id' } }, within: { kind: 'duration', text: '10m', millis: 600_000 } },
    ],
  );
});

test('route without else', (t) => {
  const [route] = operators('| route { when a => x }');
  t.deepEqual(withoutSpans(route), {
    kind: 'route',
    branches: [{ condition: { kind: 'field', name: { name: 'a' } }, target: { name: 'x' } }],
  });
});

// ------------------------------------------------------------ expressions

test('literals', (t) => {
  t.is(show('42'), '42');
  t.is(show('42L'), '42L');
  t.is(show('1.5'), '1.5');
  t.is(show('1.5f'), '1.5f');
  t.is(show('12.50d'), '12.50d');
  t.is(show('1e3'), '1e3');
  t.is(show('true'), 'true');
  t.is(show('false'), 'false');
  t.is(show('null'), 'null');
  t.is(show('"a\\"b\\n\\t\\\\\\u00e9"'), JSON.stringify('a"b\n\t\\é'));
  t.is(show('timestamp "2024-05-01T10:00:00Z"'), '(timestamp "2024-05-01T10:00:00Z")');
  t.is(show('date "2024-05-01"'), '(date "2024-05-01")');
  t.is(show('time "10:00:00"'), '(time "10:00:00")');
  t.is(show('uuid "0f8fad5b-d9cb-469f-a165-70867728950e"'), '(uuid "0f8fad5b-d9cb-469f-a165-70867728950e")');
  t.is(show('bytes "cafe"'), '(bytes "cafe")');
  t.is(show('[500ms, 10s, 5m, 2h, 1d]'), '[500ms=500ms 10s=10000ms 5m=300000ms 2h=7200000ms 1d=86400000ms]');
  t.is(show('[]'), '[]');
  t.is(show('map { "a": 1, "b": [2] }'), '{"a":1 "b":[2]}');
  t.is(show('map {}'), '{}');
});

test('number literal text excludes the suffix', (t) => {
  t.deepEqual(withoutSpans(expr('12.50d')), { kind: 'number', text: '12.50', suffix: 'd' });
});

test('postfix: members, null-safe members, indexes, calls', (t) => {
  t.is(show('a.b?.c[0]?["k"]'), '(?[] ([] (?. (. a b) c) 0) "k")');
  t.is(show('upper(country ?? "ZZ")'), '(upper((?? country "ZZ")))');
  t.is(show('now()'), '(now())');
  t.is(show('long(amount * 100)'), '(long((* amount 100)))');
  t.is(show('timestamp(x)'), '(timestamp(x))');
  t.is(show('coalesce(a, b, c).d'), '(. (coalesce(a b c)) d)');
});

test('precedence, lowest to highest', (t) => {
  t.is(show('a ?? b or c'), '(?? a (or b c))');
  t.is(show('a or b and c'), '(or a (and b c))');
  t.is(show('not a and b'), '(and (not a) b)');
  t.is(show('not a == b'), '(not (== a b))');
  t.is(show('a == b + c'), '(== a (+ b c))');
  t.is(show('a + b * c - d'), '(- (+ a (* b c)) d)');
  t.is(show('a / b % c'), '(% (/ a b) c)');
  t.is(show('-a.b * -2'), '(* (- (. a b)) (- 2))');
  t.is(show('(a + b) * c'), '(* (+ a b) c)');
  t.is(show('a ?? b ?? c'), '(?? (?? a b) c)');
  t.is(show('a <= b and c >= d and e != f and g < h or i > j'), '(or (and (and (and (<= a b) (>= c d)) (!= e f)) (< g h)) (> i j))');
});

test('comparisons: like, matches, in, between and their negations', (t) => {
  t.is(show('name like "A%"'), '(like name "A%")');
  t.is(show('name matches "^a+$"'), '(matches name "^a+$")');
  t.is(show('country in ("DE", "FR")'), '(in country "DE" "FR")');
  t.is(show('country not in ("DE")'), '(not in country "DE")');
  t.is(show('x between 1 and 5 and y'), '(and (between x 1 5) y)');
  t.is(show('x not between a + 1 and b * 2'), '(not between x (+ a 1) (* b 2))');
  t.is(show('not x in (1)'), '(not (in x 1))');
});

test('`&&`, `||` and `!` are aliases of `and`, `or` and `not`; strings may use single quotes', (t) => {
  t.is(show("!a && b || c == 'it\\'s'"), '(or (and (not a) b) (== c "it\'s"))');
  t.deepEqual(textToAst('t.sensei', "stream s = i | where a && !b || c == 'x'").diagnostics, []);
});

test('casts by type name are calls', (t) => {
  t.is(show('decimal(x, 12, 2) == string(y)'), '(== (decimal(x 12 2)) (string(y)))');
  t.is(show('timestamp("2024-05-01T00:00:00Z")'), '(timestamp("2024-05-01T00:00:00Z"))');
});

test('if and case', (t) => {
  t.is(show('if a then 1 else 2'), '(if a 1 2)');
  t.is(show('if a then 1 else b ?? 2'), '(if a 1 (?? b 2))');
  t.is(show('1 + if a then 1 else 2'), '(+ 1 (if a 1 2))');
  t.is(show('case when a then 1 when b then 2 else 3 end'), '(case a=>1 b=>2 else 3)');
  t.is(show('case when a then 1 end == 1'), '(== (case a=>1) 1)');
});

test('keywords that are not reserved are names in expressions; reserved ones need backticks', (t) => {
  t.is(show('key == date and map.select == `and` and source.`not`'), '(and (and (== key date) (== (. map select) and)) (. source not))');
  t.is(show('selected and order_by'), '(and selected order_by)');
  t.is(show('timestamp_millis'), 'timestamp_millis');
});

test('field names can be keywords after a dot and before a colon', (t) => {
  const [select] = operators('| select { where: a.where, end: b.end, key }');
  t.deepEqual(
    (select as Extract<Operator, { kind: 'select' }>).items.map((i) => (i.kind === 'compute' ? `${i.name.name}=${sexpr(i.value)}` : i.kind)),
    ['where=(. a where)', 'end=(. b end)', 'keep'],
  );
});

// ------------------------------------------------------------ spans

test('spans of declarations, operators and expressions follow the text', (t) => {
  const { text, ranges } = marked(
    '«stream «paid» = «orders»\n  | «where «(«a» + b) * c» > 1»\n  | «select { «x: «y»», «-«z»» }»»\n// after',
  );
  const ast = parseClean(text);
  const stream = ast.declarations[0] as StreamDecl;
  const [declR, nameR, inputR, whereR, mulR, aR, selectR, computeR, yR, dropR, zR] = ranges;
  t.deepEqual(offsets(stream.span), declR);
  t.deepEqual(offsets(stream.name.span), nameR);
  t.deepEqual(offsets(stream.input.span), inputR);
  const where = stream.operators[0] as Extract<Operator, { kind: 'where' }>;
  t.deepEqual(offsets(where.span), whereR);
  if (where.condition.kind !== 'binary' || where.condition.left.kind !== 'binary') return t.fail();
  t.deepEqual(offsets(where.condition.left.span), mulR, 'a binary span includes the parentheses of its operand');
  const sum = where.condition.left.left;
  if (sum.kind !== 'binary') return t.fail();
  t.deepEqual(offsets(sum.left.span), aR);
  const select = stream.operators[1] as Extract<Operator, { kind: 'select' }>;
  t.deepEqual(offsets(select.span), selectR);
  const [compute, drop] = select.items;
  t.deepEqual(offsets(compute!.span), computeR);
  if (compute?.kind !== 'compute' || drop?.kind !== 'drop') return t.fail();
  t.deepEqual(offsets(compute.value.span), yR);
  t.deepEqual(offsets(drop.span), dropR);
  t.deepEqual(offsets(drop.name.span), zR);
});

test('spans carry 1-based lines and columns and an exclusive end', (t) => {
  const { text, ranges } = marked('stream s = i\n  | where «amount» > 0');
  const where = (parseClean(text).declarations[0] as StreamDecl).operators[0] as Extract<Operator, { kind: 'where' }>;
  if (where.condition.kind !== 'binary') return t.fail();
  const span = where.condition.left.span;
  t.deepEqual(offsets(span), ranges[0]);
  t.deepEqual([span.start.line, span.start.column, span.end.line, span.end.column], [2, 11, 2, 17]);
  t.is(span.file, 'test.sensei');
});

test('a backtick name spans its backticks', (t) => {
  const { text, ranges } = marked('stream s = i | where «`order id`» > 0');
  const where = (parseClean(text).declarations[0] as StreamDecl).operators[0] as Extract<Operator, { kind: 'where' }>;
  if (where.condition.kind !== 'binary' || where.condition.left.kind !== 'field') return t.fail();
  t.is(where.condition.left.name.name, 'order id');
  t.deepEqual(offsets(where.condition.left.name.span), ranges[0]);
});

test('spans of schema fields and nested types', (t) => {
  const { text, ranges } = marked('schema S {\n  «a: «record R { «b: «int?»» }»»\n}');
  const schema = parseClean(text).declarations[0] as SchemaDecl;
  if (schema.body.kind !== 'record') return t.fail();
  const field = schema.body.fields[0]!;
  t.deepEqual(offsets(field.span), ranges[0]);
  t.deepEqual(offsets(field.type.span), ranges[1]);
  if (field.type.kind !== 'record') return t.fail();
  t.deepEqual(offsets(field.type.fields[0]!.span), ranges[2]);
  t.deepEqual(offsets(field.type.fields[0]!.type.span), ranges[3]);
});

test('the file span covers the whole text', (t) => {
  const text = '// only a comment\n';
  const ast = parseClean(text);
  t.deepEqual(offsets(ast.span), [0, text.length]);
});

// ------------------------------------------------------------ comments and tokens

test('line and block comments are kept with their spans', (t) => {
  const { text, ranges } = marked('«// head»\nstream s = i «/* inline */» | where a «// tail»\n«/* multi\nline */»');
  const ast = parseClean(text);
  t.deepEqual(
    ast.comments.map((c) => [c.kind, c.text, offsets(c.span)]),
    [
      ['line', '// head', ranges[0]],
      ['block', '/* inline */', ranges[1]],
      ['line', '// tail', ranges[2]],
      ['block', '/* multi\nline */', ranges[3]],
    ],
  );
});

test('textToTokens lists tokens and comments in order, with types and spans', (t) => {
  const { tokens, diagnostics } = textToTokens('t.sensei', 'stream selected = orders // c\n| where `x` == 1.5d');
  t.deepEqual(diagnostics, []);
  t.deepEqual(
    tokens.map((tk) => `${tk.type}:${tk.image}`),
    ['Stream:stream', 'Identifier:selected', 'Equals:=', 'Identifier:orders', 'LineComment:// c', 'Pipe:|', 'Where:where',
      'QuotedIdentifier:`x`', 'EqualEqual:==', 'NumberLiteral:1.5d'],
  );
  const c = tokens[4]!;
  t.deepEqual([c.span.start.line, c.span.start.column, c.span.end.column], [1, 26, 30]);
});

test('keywords are whole words: a longer word is an identifier', (t) => {
  const { tokens } = textToTokens('t.sensei', 'selected wherever bytes by inx in timestamp_millis timestamp');
  t.deepEqual(tokens.map((tk) => tk.type), ['Identifier', 'Identifier', 'Bytes', 'By', 'Identifier', 'In', 'TimestampMillis', 'Timestamp']);
});

test('CRLF line endings count as one line break', (t) => {
  const { ast, diagnostics } = textToAst('t.sensei', 'stream a = b\r\n| where x\r\n');
  t.deepEqual(diagnostics, []);
  const where = (ast.declarations[0] as StreamDecl).operators[0]!;
  t.deepEqual([where.span.start.line, where.span.start.column], [2, 3]);
});

test('a file with more than 100 syntax errors shows the first 100 and how many more', (t) => {
  const lines = ['pipeline big', 'schema R { id: string, n: int }', 'source r: R from datagen { count: 10 }'];
  for (let i = 0; i < 20_000; i++) lines.push(`stream s${i} = r | where n > ${i} | select { id, m: "unterminated }`);
  const { diagnostics } = textToAst('big.sensei', lines.join('\n'));
  t.is(diagnostics.length, 101);
  t.true(diagnostics.slice(0, 100).every((d) => d.code !== 'too-many-diagnostics'));
  const more = diagnostics[100]!;
  t.is(more.code, 'too-many-diagnostics');
  t.regex(more.message, /^and \d+ more syntax errors in this file, the next one here \(the first 100 are shown\)$/);
  t.true(Number(/\d+/.exec(more.message)![0]) >= 19_900, more.message);
  t.true(more.span.start.offset >= diagnostics[99]!.span.start.offset, 'it points at the next one, after those shown');
});
