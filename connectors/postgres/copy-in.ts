/**
 * `COPY … FROM STDIN` of bytes already in memory, as a pg "submittable"
 * (the object `client.query()` accepts besides query text): on the server's
 * CopyInResponse it sends every chunk and CopyDone. The data is complete
 * before the COPY starts (a batch), so no stream is needed.
 */
import type pg from 'pg';

interface Connection {
  query(text: string): void;
  endCopyFrom(): void;
  stream: { writable: boolean; cork(): void; uncork(): void; write(chunk: Uint8Array): boolean };
}

class CopyFromMemory {
  callback: ((error: Error | null, rows?: number) => void) | undefined;
  private rows = 0;

  constructor(
    private readonly text: string,
    private readonly chunks: readonly Uint8Array[],
  ) {}

  submit(connection: Connection): null {
    connection.query(this.text);
    return null;
  }

  /** CopyData messages straight to the socket: pg's own sendCopyFromChunk would copy each chunk once more. */
  handleCopyInResponse(connection: Connection): void {
    const { stream } = connection;
    if (!stream.writable) return;
    stream.cork();
    for (const chunk of this.chunks) {
      if (chunk.length === 0) continue;
      const header = Buffer.allocUnsafe(5);
      header[0] = 0x64; // 'd'
      header.writeInt32BE(chunk.length + 4, 1);
      stream.write(header);
      stream.write(chunk);
    }
    stream.uncork();
    connection.endCopyFrom();
  }

  handleCommandComplete(msg: { text: string }): void {
    this.rows = Number(/\d+$/.exec(msg.text)?.[0] ?? 0);
  }

  handleReadyForQuery(): void {
    this.callback?.(null, this.rows);
  }

  /** Server errors arrive here before ReadyForQuery (which then goes to no query), connection errors instead of it. */
  handleError(error: Error): void {
    const done = this.callback;
    this.callback = undefined;
    done?.(error);
  }

  handleCopyData(): void {}
  handleEmptyQuery(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
}

/** Runs `COPY <text> FROM STDIN …` with these bytes; resolves the number of rows copied. */
export function copyFrom(client: pg.ClientBase, text: string, chunks: readonly Uint8Array[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const copy = new CopyFromMemory(text, chunks);
    copy.callback = (error, rows) => (error ? reject(error) : resolve(rows!));
    client.query(copy as unknown as pg.QueryConfig);
  });
}
