/**
 * The aggregate functions of `group by … { name: fn(x) }`: their
 * signatures, documentation and result types (Avro rules, as SQL gives
 * them). The checker types them (check.ts), codegen builds their
 * accumulators (codegen/aggregate.ts), and the editor shows them.
 *
 * Nulls are skipped, as in SQL: `count(x)`, `sum`, `avg`, `min`, `max`,
 * `count_distinct` and `collect` look only at non-null values; `sum`, `avg`,
 * `min` and `max` of a group with none are null (so their result is
 * nullable exactly when their argument is). `first` and `last` take the
 * value of the earliest and latest record by event time, null or not.
 */
import type { AvroType } from '../types/avro-type.ts';
import { decimal, isNullable, nonNull, nullableIf, T, typeToString } from '../types/type-utils.ts';

export type AggregateFn = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'count_distinct' | 'first' | 'last' | 'collect';

export interface AggregateInfo {
  name: AggregateFn;
  signature: string;
  doc: string;
  /** `count` takes no argument or one; the others exactly one. */
  optionalArgument: boolean;
}

export const AGGREGATES: ReadonlyMap<string, AggregateInfo> = new Map(([
  ['count', 'count() / count(x) → long', 'The number of records in the group; `count(x)`: of those where x is not null.'],
  ['sum', 'sum(x) → long | double | decimal(38, s)', 'The sum of x: a long for int and long, a double for float and double, decimal(38, s) for decimal(p, s) (exact).'],
  ['avg', 'avg(x) → double | decimal(38, max(s, 6))', 'The mean of x: a double for int, long, float and double; decimal(38, max(s, 6)) for decimal(p, s), rounded half away from zero.'],
  ['min', 'min(x) → type of x', 'The smallest x (numbers, decimals, strings, dates, times, timestamps).'],
  ['max', 'max(x) → type of x', 'The largest x (numbers, decimals, strings, dates, times, timestamps).'],
  ['count_distinct', 'count_distinct(x) → long', 'The number of distinct non-null values of x (a scalar: not bytes, records, arrays or maps).'],
  ['first', 'first(x) → type of x', 'x of the record with the earliest event time (the first to arrive among equal times).'],
  ['last', 'last(x) → type of x', 'x of the record with the latest event time (the last to arrive among equal times).'],
  ['collect', 'collect(x) → array<x>', 'The non-null values of x, in event-time order (arrival order among equal times).'],
] as const).map(([name, signature, doc]) => [name, { name, signature, doc, optionalArgument: name === 'count' }]));

const ORDERED = new Set(['int', 'long', 'float', 'double', 'decimal', 'string', 'date', 'time-millis', 'time-micros', 'timestamp-millis', 'timestamp-micros']);
const DISTINCT = new Set([...ORDERED, 'boolean', 'uuid', 'enum']);

/** The result type of `fn` over an argument of type `arg` (undefined for `count()`), or why it does not apply. */
export function aggregateType(fn: AggregateFn, arg: AvroType | undefined): { type: AvroType } | { problem: string } {
  if (fn === 'count') return { type: T.long };
  if (!arg) return { problem: `\`${fn}\` takes one argument` };
  const t = nonNull(arg);
  const nullableArg = isNullable(arg);
  const not = (what: string) => ({ problem: `\`${fn}\` needs ${what}, not ${typeToString(arg)}` });
  switch (fn) {
    case 'sum':
    case 'avg': {
      if (t.kind === 'decimal') return { type: nullableIf(decimal(38, fn === 'sum' ? t.scale : Math.max(t.scale, 6)), nullableArg) };
      if (t.kind === 'int' || t.kind === 'long') return { type: nullableIf(fn === 'sum' ? T.long : T.double, nullableArg) };
      if (t.kind === 'float' || t.kind === 'double') return { type: nullableIf(T.double, nullableArg) };
      return not('a number');
    }
    case 'min':
    case 'max':
      return ORDERED.has(t.kind) ? { type: arg } : not('numbers, decimals, strings, dates, times or timestamps');
    case 'count_distinct':
      return DISTINCT.has(t.kind) ? { type: T.long } : not('a scalar (a number, decimal, string, uuid, enum, boolean, date, time or timestamp)');
    case 'first':
    case 'last':
      return { type: arg };
    case 'collect':
      return { type: { kind: 'array', items: t } };
  }
}

/** The accumulator a sum or mean adds into: the sum's own type (a mean divides it by the count at the end). */
export function sumType(arg: AvroType): AvroType {
  const t = nonNull(arg);
  if (t.kind === 'decimal') return decimal(38, t.scale);
  return t.kind === 'int' || t.kind === 'long' ? T.long : T.double;
}
