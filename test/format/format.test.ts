import test from 'ava';
import fc from 'fast-check';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatText } from '../../src/format/format.ts';
import { printExpr } from '../../src/format/print-expr.ts';
import type { Expr, StreamDecl } from '../../src/syntax/ast.ts';
import { textToAst, textToTokens } from '../../src/syntax/parse.ts';
import { withoutSpans } from '../syntax/helpers.ts';

const root = resolve(import.meta.dirname, '../..');
const formatFixtures = join(root, 'test/fixtures/format');
const update = process.env.UPDATE_GOLDEN === '1';

function sensei(dir: string): string[] {
  return readdirSync(join(root, dir)).filter((f) => f.endsWith('.sensei')).map((f) => join(dir, f));
}

/** Every .sensei file of the repository that parses without errors. */
const corpus = [...sensei('pipelines'), ...sensei('test/fixtures/format')];

function format(text: string): string {
  const result = formatText('t.sensei', text);
  if (result.text === undefined) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
  return result.text;
}

/** The AST without spans and comments: what formatting must not change. */
function shape(text: string): unknown {
  const { ast, diagnostics } = textToAst('t.sensei', text);
  if (diagnostics.length > 0) throw new Error(diagnostics.map((d) => `${d.span.start.line}:${d.span.start.column} ${d.message}`).join('\n'));
  return withoutSpans({ ...ast, comments: [] });
}

/** Comment texts; the formatter may drop trailing blanks at the end of a line comment. */
const commentTexts = (text: string) => textToAst('t.sensei', text).ast.comments.map((c) => c.text.trimEnd());

test('the corpus is not empty', (t) => {
  t.true(corpus.length >= 2);
});

for (const file of corpus) {
  test(`formatting ${file} is idempotent, keeps every comment and the syntax tree`, (t) => {
    const text = readFileSync(join(root, file), 'utf8');
    const once = format(text);
    t.is(format(once), once);
    t.deepEqual(shape(once), shape(text));
    t.deepEqual(commentTexts(once), commentTexts(text));
  });
}

// Each fixture's formatted text is beside it: `NAME.sensei` → `NAME.expected.txt`.
for (const name of readdirSync(formatFixtures).filter((f) => f.endsWith('.sensei'))) {
  test(`golden: ${name}`, (t) => {
    const text = readFileSync(join(formatFixtures, name), 'utf8');
    const golden = join(formatFixtures, name.replace(/\.sensei$/, '.expected.txt'));
    if (update || !existsSync(golden)) writeFileSync(golden, format(text));
    t.is(format(text), readFileSync(golden, 'utf8'));
  });
}

test('refuses a file with syntax errors', (t) => {
  const result = formatText('t.sensei', 'stream a = | where');
  t.is(result.text, undefined);
  t.true(result.diagnostics.length > 0);
});

test('an empty file stays empty; a file of comments keeps them', (t) => {
  t.is(format(''), '');
  t.is(format('  // one\n\n\n/* two */  \n'), '// one\n\n/* two */\n');
});

test('one operator per line, 2-space indent', (t) => {
  t.is(format('stream a = b | where x | key by y'), 'stream a = b\n  | where x\n  | key by y\n');
});

test('comments keep their place: own line before, trailing on the same line', (t) => {
  const text = [
    '// about a',
    'stream a = b // after the head',
    '  // before where',
    '  | where x   // after where',
    '  /* before select */ | select { x, y } /* after select */',
    '// the end',
  ].join('\n');
  t.is(
    format(text),
    [
      '// about a',
      'stream a = b // after the head',
      '  // before where',
      '  | where x // after where',
      '  /* before select */',
      '  | select { x, y } /* after select */',
      '// the end',
      '',
    ].join('\n'),
  );
});

test('comments inside an expression move to the end of its line; extra line comments go above', (t) => {
  t.is(format('stream a = b | where x /* one */ > 1'), 'stream a = b\n  | where x > 1 /* one */\n');
  t.is(
    format('stream a = b\n  | where x > 1 // first\n      and y < 2 // second\n'),
    'stream a = b\n  // first\n  | where x > 1 and y < 2 // second\n',
  );
});

test('comments inside a block force it onto several lines', (t) => {
  t.is(
    format('stream a = b | select { x, /* why */ y }'),
    'stream a = b\n  | select {\n      x, /* why */\n      y\n    }\n',
  );
  t.is(format('sink a to file { path: "x" // where\n}'), 'sink a to file {\n  path: "x" // where\n}\n');
});

test('a source whose options break over lines keeps its clauses\' comments with the clauses, not after the brace', (t) => {
  const text = 'source s: Order from datagen { count: 5 /* c2 */ }\n  // its time\n  event time at /* late by */ lateness // c1\n5s\n';
  const want = 'source s: Order from datagen {\n  count: 5 /* c2 */\n}\n  // its time\n  event time at lateness 5s /* late by */ // c1\n';
  t.is(format(text), want);
  t.is(format(want), want, 'idempotent');
});

test('blank lines: between kinds of declarations, kept where the author left one, never doubled', (t) => {
  t.is(
    format('source a: A from x\nsource b: B from x\nstream c = a\n\n\n\nstream d = b\nsink c to y\nsink d to y'),
    'source a: A from x\nsource b: B from x\n\nstream c = a\n\nstream d = b\n\nsink c to y\nsink d to y\n',
  );
});

test('short blocks stay inline, long or busy ones go one entry per line', (t) => {
  t.is(format('stream a = b | select { x, y: z }'), 'stream a = b\n  | select { x, y: z }\n');
  t.is(
    format('stream a = b | select { p: 1, q: 2, r: 3, s: 4 }'),
    'stream a = b\n  | select {\n      p: 1,\n      q: 2,\n      r: 3,\n      s: 4\n    }\n',
  );
  const long = `source s: S from kafka { topic: "${'t'.repeat(60)}", brokers: "localhost:9092" }`;
  t.is(format(long), `source s: S from kafka {\n  topic: "${'t'.repeat(60)}",\n  brokers: "localhost:9092"\n}\n`);
});

test('a long where condition breaks before each top-level and/or', (t) => {
  const conditions = ['status == "PAID"', 'amount > 100', 'country in ("DE", "FR", "NL", "BE")', '(x or y)', 'customer_id != null'];
  t.is(
    format(`stream a = b | where ${conditions.join(' and ')} // why`),
    `stream a = b\n  | where ${conditions.join('\n      and ')} // why\n`,
  );
});

test('parentheses only where precedence needs them', (t) => {
  const where = (text: string) => format(`stream a = b | where ${text}`).split('| where ')[1]!.trimEnd();
  t.is(where('(a + b) * c'), '(a + b) * c');
  t.is(where('a + (b * c)'), 'a + b * c');
  t.is(where('a - (b - c)'), 'a - (b - c)');
  t.is(where('(a - b) - c'), 'a - b - c');
  t.is(where('not (a and b)'), 'not (a and b)');
  t.is(where('(not a) and b'), 'not a and b');
  t.is(where('(a ?? b) or c'), '(a ?? b) or c');
  t.is(where('(if a then b else c) + 1'), '(if a then b else c) + 1');
  t.is(where('-(a.b)'), '-a.b');
  t.is(where('(-a).b'), '(-a).b');
  t.is(where('(x between 1 and 2) == true'), 'x between 1 and 2 == true');
});

test('names that read as keywords get backticks; strings are re-escaped', (t) => {
  t.is(
    format('stream a = b | select { `select`: `and`, `x y`: "a\\u0041\\n" , `key`: `key` }'),
    'stream a = b\n  | select { select: `and`, `x y`: "aA\\n", key: key }\n',
  );
  t.is(format('source s: `string` from x'), 'source s: `string` from x\n');
});

// ------------------------------------------------------------ property tests

const names = ['a', 'b', 'key', 'map', 'select', 'date', 'timestamp', 'and', 'not', 'end', 'x y', 'string'];
const name = fc.constantFrom(...names).map((n) => ({ name: n }));

const leaf: fc.Arbitrary<Expr> = fc.oneof(
  // `12d` is a duration (twelve days), so only a fraction or an exponent takes the decimal suffix.
  fc.record({ kind: fc.constant('number' as const), text: fc.constantFrom('0', '42'), suffix: fc.constantFrom('' as const, 'L' as const, 'f' as const) }),
  fc.record({ kind: fc.constant('number' as const), text: fc.constantFrom('1.5', '1e3', '2.50'), suffix: fc.constantFrom('' as const, 'f' as const, 'd' as const) }),
  fc.record({ kind: fc.constant('string' as const), value: fc.string({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant('boolean' as const), value: fc.boolean() }),
  fc.record({ kind: fc.constant('null' as const) }),
  fc.record({ kind: fc.constant('duration' as const), text: fc.constant('10s'), millis: fc.constant(10_000) }),
  fc.record({
    kind: fc.constant('typed' as const),
    type: fc.constantFrom('timestamp' as const, 'date' as const, 'uuid' as const),
    value: fc.record({ kind: fc.constant('string' as const), value: fc.constant('2024-01-01') }),
  }),
  fc.record({ kind: fc.constant('field' as const), name }),
) as fc.Arbitrary<Expr>;

const { expr } = fc.letrec<{ expr: Expr }>((tie) => {
  const sub = tie('expr') as fc.Arbitrary<Expr>;
  const list = fc.array(sub, { minLength: 1, maxLength: 3 });
  return {
    expr: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({ kind: fc.constant('binary' as const), op: fc.constantFrom('+', '-', '*', '/', '%', '==', '!=', '<', '<=', '>', '>=', 'and', 'or', '??', 'like', 'matches' as const), left: sub, right: sub }),
      fc.record({ kind: fc.constant('unary' as const), op: fc.constantFrom('not' as const, '-' as const), operand: sub }),
      fc.record({ kind: fc.constant('member' as const), object: sub, property: name, nullSafe: fc.boolean() }),
      fc.record({ kind: fc.constant('index' as const), object: sub, index: sub, nullSafe: fc.boolean() }),
      fc.record({ kind: fc.constant('call' as const), callee: name, args: fc.array(sub, { maxLength: 2 }) }),
      fc.record({ kind: fc.constant('in' as const), value: sub, list, negated: fc.boolean() }),
      fc.record({ kind: fc.constant('between' as const), value: sub, low: sub, high: sub, negated: fc.boolean() }),
      fc.record({ kind: fc.constant('if' as const), condition: sub, then: sub, otherwise: sub }),
      fc.record({
        kind: fc.constant('case' as const),
        branches: fc.array(fc.record({ condition: sub, value: sub }), { minLength: 1, maxLength: 2 }),
        otherwise: fc.option(sub, { nil: undefined }),
      }).map((c) => (c.otherwise === undefined ? { kind: c.kind, branches: c.branches } : c)),
      fc.record({ kind: fc.constant('array' as const), items: fc.array(sub, { maxLength: 2 }) }),
      fc.record({
        kind: fc.constant('map' as const),
        entries: fc.array(fc.record({ key: fc.record({ kind: fc.constant('string' as const), value: fc.string({ maxLength: 4 }) }), value: sub }), { maxLength: 2 }),
      }),
    ) as fc.Arbitrary<Expr>,
  };
});

test('printed expressions parse back to the same tree', (t) => {
  fc.assert(
    fc.property(expr, (e) => {
      const text = `stream s = i | where ${printExpr(e)}`;
      const { ast, diagnostics } = textToAst('p.sensei', text);
      if (diagnostics.length > 0) throw new Error(`${text}\n${diagnostics[0]!.message}`);
      const where = (ast.declarations[0] as StreamDecl).operators[0]!;
      t.deepEqual(withoutSpans(where.kind === 'where' ? where.condition : undefined), e, text);
      return true;
    }),
    { numRuns: 400 },
  );
});

/** A corpus file with comments inserted between random tokens. */
const commented = fc
  .tuple(
    fc.constantFrom(...corpus.map((f) => readFileSync(join(root, f), 'utf8'))),
    fc.array(fc.tuple(fc.nat(), fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 8 }),
  )
  .map(([text, inserts]) => {
    const boundaries = [...new Set(textToTokens('t.sensei', text).tokens.flatMap((tk) => [tk.span.start.offset, tk.span.end.offset]))].sort(
      (a, b) => b - a,
    );
    const chosen = [...new Set(inserts.map(([at, line, before]) => [boundaries[at % boundaries.length]!, line, before] as const))];
    let out = text;
    chosen
      .sort((a, b) => b[0] - a[0])
      .forEach(([at, line, blank], i) => {
        const comment = line ? ` // c${i}\n` : ` /* c${i} */ `;
        out = out.slice(0, at) + (blank ? '\n\n' : '') + comment + out.slice(at);
      });
    return out;
  });

test('comments anywhere between tokens survive formatting, which stays idempotent', (t) => {
  fc.assert(
    fc.property(commented, (text) => {
      fc.pre(textToAst('t.sensei', text).diagnostics.length === 0);
      const once = format(text);
      const twice = format(once);
      if (twice !== once) throw new Error(`not idempotent:\n${text}\n---\n${once}\n---\n${twice}`);
      t.deepEqual([...commentTexts(once)].sort(), [...commentTexts(text)].sort());
      t.deepEqual(shape(once), shape(text));
      return true;
    }),
    { numRuns: 300 },
  );
});
