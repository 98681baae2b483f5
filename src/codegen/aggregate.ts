/**
 * The code of one `group by`'s accumulators, for codegen.ts: the object a
 * window starts with, how a record updates it, how two sessions merge, and
 * the result of each aggregate. The operator in the runtime
 * (runtime/operators/aggregate.ts) only finds windows; the arithmetic is
 * generated here, with the exact numbers of expressions (expr.ts).
 *
 * Aggregate `i` keeps `v<i>` (its value), avg also `n<i>` (its count),
 * first, last and collect also `t<i>` (the event time of the value, or of
 * each collected value).
 */
import type { AvroSchemaJson } from '../plan/plan.ts';
import type { TypedAggregate, TypedOperator } from '../check/typed.ts';
import { sumType } from '../check/aggregates.ts';
import type { AvroType } from '../types/avro-type.ts';
import { typeToAvsc } from '../types/to-avsc.ts';
import { isNullable, nonNull, nullable, T } from '../types/type-utils.ts';
import { arithmetic, ordered, type ChainScope } from './expr.ts';

type AggregateOp = Extract<TypedOperator, { kind: 'aggregate' }>;

export interface AccumulatorCode {
  /** `{ init, merge }` as an object literal: what the runtime calls to open and merge windows. */
  definition: string;
  /** Statements updating accumulator `a` from a record whose aggregate arguments are in `args` (time: `ts`). */
  update(a: string, args: string[]): string[];
  /** The result of each aggregate, over accumulator `a`. */
  results(a: string): string[];
  /** The Avro schema of an accumulator (what a store keeps). */
  schema: AvroSchemaJson;
}

export function accumulatorCode(op: AggregateOp, recordName: string, scope: ChainScope): AccumulatorCode {
  const parts = op.aggregates.map((agg, i) => part(agg, i, scope));
  return {
    definition: `{ init: () => ({ ${parts.flatMap((p) => p.init).join(', ')} }), merge: (a, b) => { ${parts.flatMap((p) => p.merge).join(' ')} } }`,
    update: (a, args) => parts.flatMap((p, i) => p.update(a, args[i]!)),
    results: (a) => parts.map((p) => p.result(a)),
    schema: { type: 'record', name: `${recordName}Accumulator`, fields: parts.flatMap((p) => p.fields) },
  };
}

interface Part {
  init: string[];
  update(a: string, x: string): string[];
  merge: string[];
  result(a: string): string;
  fields: { name: string; type: AvroSchemaJson }[];
}

function part(agg: TypedAggregate, i: number, scope: ChainScope): Part {
  const v = `v${i}`;
  const n = `n${i}`;
  const t = `t${i}`;
  const argType = agg.arg?.type ?? T.null;
  const nullableArg = isNullable(argType);
  const x = nonNull(argType);
  const field = (name: string, type: AvroType) => ({ name, type: typeToAvsc(type) });
  /** Statements run only for a non-null argument. */
  const present = (code: string, lines: string[]) => (nullableArg ? [`if (${code} != null) { ${lines.join(' ')} }`] : lines);
  switch (agg.fn) {
    case 'count':
      return {
        init: [`${v}: 0`],
        update: (a, arg) => (agg.arg ? present(arg, [`${a}.${v}++;`]) : [`${a}.${v}++;`]),
        merge: [`a.${v} += b.${v};`],
        result: (a) => `${a}.${v}`,
        fields: [field(v, T.long)],
      };
    case 'sum':
    case 'avg': {
      const s = sumType(x);
      const add = (l: string, r: string, rt: AvroType) => arithmetic('+', l, r, s, rt, s, scope);
      // A sum over nullable values starts as null (no value yet); a mean counts its values.
      const sumNull = agg.fn === 'sum' && nullableArg;
      return {
        init: agg.fn === 'sum' ? [`${v}: ${sumNull ? 'null' : '0'}`] : [`${v}: 0`, `${n}: 0`],
        update: (a, arg) => present(arg, agg.fn === 'sum'
          ? [`${a}.${v} = ${sumNull ? `${a}.${v} === null ? ${add('0', arg, x)} : ` : ''}${add(`${a}.${v}`, arg, x)};`]
          : [`${a}.${v} = ${add(`${a}.${v}`, arg, x)};`, `${a}.${n}++;`]),
        merge: agg.fn === 'sum'
          ? [sumNull ? `if (b.${v} !== null) a.${v} = a.${v} === null ? b.${v} : ${add(`a.${v}`, `b.${v}`, s)};` : `a.${v} = ${add(`a.${v}`, `b.${v}`, s)};`]
          : [`a.${v} = ${add(`a.${v}`, `b.${v}`, s)};`, `a.${n} += b.${n};`],
        result: (a) => {
          if (agg.fn === 'sum') return `${a}.${v}`;
          const mean = s.kind === 'decimal'
            ? arithmetic('/', `${a}.${v}`, `${a}.${n}`, s, T.long, nonNull(agg.type), scope)
            : `${s.kind === 'long' ? `Number(${a}.${v})` : `${a}.${v}`} / ${a}.${n}`;
          return nullableArg ? `(${a}.${n} === 0 ? null : ${mean})` : mean;
        },
        fields: agg.fn === 'sum' ? [field(v, agg.type)] : [field(v, s), field(n, T.long)],
      };
    }
    case 'min':
    case 'max': {
      const better = (candidate: string, current: string) => ordered(agg.fn === 'min' ? '<' : '>', candidate, current, x, x, scope);
      return {
        init: [`${v}: null`],
        update: (a, arg) => [`if (${nullableArg ? `${arg} != null && ` : ''}(${a}.${v} === null || ${better(arg, `${a}.${v}`)})) ${a}.${v} = ${arg};`],
        merge: [`if (b.${v} !== null && (a.${v} === null || ${better(`b.${v}`, `a.${v}`)})) a.${v} = b.${v};`],
        result: (a) => `${a}.${v}`,
        fields: [field(v, nullable(x))],
      };
    }
    case 'count_distinct':
      return {
        init: [`${v}: new Set()`],
        update: (a, arg) => present(arg, [`${a}.${v}.add(${arg});`]),
        merge: [`for (const d of b.${v}) a.${v}.add(d);`],
        result: (a) => `${a}.${v}.size`,
        fields: [field(v, { kind: 'array', items: x })],
      };
    case 'first':
    case 'last': {
      // first: strictly earlier wins (equal times keep the first to arrive); last: equal or later wins.
      const wins = (time: string, current: string) => (agg.fn === 'first' ? `${time} < ${current}` : `${time} >= ${current}`);
      return {
        init: [`${v}: null`, `${t}: null`],
        update: (a, arg) => [`if (${a}.${t} === null || ${wins('ts', `${a}.${t}`)}) { ${a}.${v} = ${arg}; ${a}.${t} = ts; }`],
        merge: [`if (b.${t} !== null && (a.${t} === null || ${wins(`b.${t}`, `a.${t}`)})) { a.${v} = b.${v}; a.${t} = b.${t}; }`],
        result: (a) => `${a}.${v}`,
        fields: [field(v, nullable(x)), field(t, nullable(T.long))],
      };
    }
    case 'collect':
      return {
        init: [`${v}: []`, `${t}: []`],
        update: (a, arg) => present(arg, [`${scope.helper('collectAdd')}(${a}.${v}, ${a}.${t}, ${arg}, ts);`]),
        merge: [`${scope.helper('collectMerge')}(a.${v}, a.${t}, b.${v}, b.${t});`],
        result: (a) => `${a}.${v}.slice()`,
        fields: [field(v, { kind: 'array', items: x }), field(t, { kind: 'array', items: T.long })],
      };
  }
}
