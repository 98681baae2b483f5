import type { Position, Span } from '../diagnostics/diagnostic.ts';

/**
 * Maps offsets in one text to 1-based lines and columns (columns count
 * UTF-16 code units, as editors and Chevrotain do). Built once per parse so
 * that spans never depend on token position fields, which recovery leaves
 * undefined for inserted tokens.
 */
export class LineIndex {
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.lineStarts.push(i + 1);
      else if (c === 13 && text.charCodeAt(i + 1) !== 10) this.lineStarts.push(i + 1);
    }
  }

  position(offset: number): Position {
    const at = Math.max(0, Math.min(Number.isFinite(offset) ? offset : this.text.length, this.text.length));
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineStarts[mid]! <= at) low = mid;
      else high = mid - 1;
    }
    return { offset: at, line: low + 1, column: at - this.lineStarts[low]! + 1 };
  }

  /** The span [start, end); end is clamped to at least start. */
  span(start: number, end: number): Span {
    const from = this.position(start);
    const to = this.position(Math.max(end, from.offset));
    return { file: this.file, start: from, end: to };
  }
}
