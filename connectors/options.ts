/**
 * Connector options as the plan carries them, completed with the spec's
 * defaults and read with their declared types. The compiler has already
 * checked names and types; these readers only guard against hand-written plans.
 */
import type { Options } from '../src/spi/connector.ts';
import type { ConnectorSpec } from '../src/spi/spec.ts';

export class OptionReader {
  constructor(
    private readonly spec: ConnectorSpec,
    private readonly options: Options,
  ) {}

  private value(name: string): unknown {
    const given = this.options[name];
    if (given !== undefined && given !== null) return given;
    const declared = this.spec.options.find((o) => o.name === name);
    if (!declared) throw new Error(`${this.spec.name}: option ${name} is not in the spec`);
    if (declared.required && declared.default === undefined) throw new Error(`${this.spec.name}: option ${name} is required`);
    return declared.default;
  }

  string(name: string): string {
    const v = this.value(name);
    if (typeof v !== 'string') throw new Error(`${this.spec.name}: option ${name} must be a string`);
    return v;
  }

  optionalString(name: string): string | undefined {
    const v = this.options[name] ?? this.spec.options.find((o) => o.name === name)?.default;
    return v === undefined || v === null ? undefined : String(v);
  }

  number(name: string): number {
    const v = this.value(name);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${this.spec.name}: option ${name} must be a number`);
    return v;
  }

  boolean(name: string): boolean {
    const v = this.value(name);
    if (typeof v !== 'boolean') throw new Error(`${this.spec.name}: option ${name} must be true or false`);
    return v;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const v = this.string(name);
    if (!values.includes(v as T)) throw new Error(`${this.spec.name}: option ${name} must be one of ${values.join(', ')}`);
    return v as T;
  }
}

/** A duration option as milliseconds: the checker gives numbers; a spec default may still be text (`100ms`). */
export function durationOption(options: Options, name: string, fallback: string): number {
  const v = options[name] ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(String(v));
  if (!m) throw new Error(`option ${name}: ${JSON.stringify(v)} is not a duration`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2]!]!;
}
