/**
 * The stdin source: one partition, offsets are record numbers. Reading pauses
 * the input while more than a bounded number of parsed records wait, so a
 * slow pipeline pushes back on the producer through the pipe.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { recordNode } from '../../src/formats/schema.ts';
import type { Connector, SourceBatch, SourceContext, SourceReader } from '../../src/spi/connector.ts';
import { lineParser } from '../lines.ts';
import { OptionReader } from '../options.ts';
import { stdinSpec } from './spec.ts';

/** The stdin connector reading `input` (process.stdin unless a test hands another stream). */
export function stdinConnector(input: () => Readable = () => process.stdin): Connector {
  return {
    spec: stdinSpec,
    runtime: {
      async openSource(ctx) {
        const options = new OptionReader(stdinSpec, ctx.options);
        return new LineSource(input(), lineParser(recordNode(ctx.schema), options.oneOf('format', ['json', 'text'] as const)), ctx);
      },
    },
  };
}

const HIGH_WATER = 10_000;

class LineSource implements SourceReader {
  readonly partitions = 1;
  private readonly pending: { value: unknown; timestamp: number }[] = [];
  private nextOffset = 0;
  private ended = false;
  private wake: (() => void) | undefined;
  private readonly lines;

  constructor(input: Readable, parse: (line: string) => unknown, ctx: SourceContext) {
    this.lines = createInterface({ input, crlfDelay: Infinity });
    let lineNo = 0;
    this.lines.on('line', (line) => {
      lineNo++;
      if (line.trim() === '') return;
      try {
        this.pending.push({ value: parse(line), timestamp: Date.now() });
      } catch (e) {
        void ctx.reject({ partition: -1, offset: lineNo, operator: `source:${ctx.name}`, reason: `stdin:${lineNo}: ${(e as Error).message}`, key: null, value: line });
      }
      if (this.pending.length >= HIGH_WATER) this.lines.pause();
      this.notify();
    });
    this.lines.on('close', () => {
      this.ended = true;
      this.notify();
    });
    ctx.signal.addEventListener('abort', () => {
      this.ended = true;
      this.notify();
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async read(_partition: number, max: number): Promise<SourceBatch | undefined> {
    while (this.pending.length === 0 && !this.ended) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.pending.length === 0) return undefined;
    const taken = this.pending.splice(0, max);
    if (this.pending.length < HIGH_WATER / 2) this.lines.resume();
    return {
      offsets: taken.map(() => this.nextOffset++),
      timestamps: taken.map((r) => r.timestamp),
      keys: taken.map(() => null),
      values: taken.map((r) => r.value),
    };
  }

  backlog(): number {
    return this.pending.length;
  }

  async close(): Promise<void> {
    this.lines.close();
  }
}
