/**
 * How records should cross from the coordinator to a worker. Four ways of
 * sending the same 1000-record batches, with up to 16 batches in flight as
 * in the runtime: structured clone of the decoded objects, structured clone
 * of Avro bytes, transfer of Avro bytes (the ArrayBuffer changes owner), and
 * a SharedArrayBuffer ring the worker reads in place. Reports the main
 * thread's time per batch (the coordinator serves every worker, so its time
 * is what limits scaling) and the end-to-end rate.
 */
import { Worker } from 'node:worker_threads';
import { avroType } from '../src/formats/avro-codec.ts';
import { SCHEMAS, generateRows, type RowSize } from './workload.ts';

export type TransferMethod = 'clone objects' | 'clone bytes' | 'transfer bytes' | 'shared ring';

export interface TransferResult {
  method: TransferMethod;
  size: RowSize;
  mainMicrosPerBatch: number;
  recordsPerSec: number;
}

const BATCH = 1000;
const INFLIGHT = 16;
const RING_BYTES = 64 * 1024 * 1024;

function pack(records: Buffer[]): { data: Uint8Array; ends: Uint32Array } {
  let total = 0;
  for (const r of records) total += r.length;
  const buffer = new ArrayBuffer(total + records.length * 4);
  const ends = new Uint32Array(buffer, 0, records.length);
  const data = new Uint8Array(buffer, records.length * 4, total);
  let at = 0;
  records.forEach((r, i) => {
    data.set(r, at);
    ends[i] = at += r.length;
  });
  return { data, ends };
}

async function measure(method: TransferMethod, size: RowSize, batches: number): Promise<TransferResult> {
  const rows = generateRows(size, BATCH * 4, 1).all;
  const type = avroType(SCHEMAS[size]);
  const objects = rows.map((b) => type.fromBuffer(b));
  const ring = method === 'shared ring' ? new SharedArrayBuffer(RING_BYTES) : undefined;
  const ringView = ring ? new Uint8Array(ring) : undefined;
  const worker = new Worker(new URL('./transfer-worker.mjs', import.meta.url), { workerData: { schema: SCHEMAS[size], ring } });
  let acked = 0;
  let sent = 0;
  let mainMs = 0;
  let ringAt = 0;
  const started = performance.now();
  await new Promise<void>((done) => {
    const send = () => {
      while (sent < batches && sent - acked < INFLIGHT) {
        const slice = (sent % 4) * BATCH;
        const t0 = performance.now();
        if (method === 'clone objects') {
          worker.postMessage({ id: sent, values: objects.slice(slice, slice + BATCH) });
        } else {
          const { data, ends } = pack(rows.slice(slice, slice + BATCH));
          if (method === 'clone bytes') worker.postMessage({ id: sent, data, ends });
          else if (method === 'transfer bytes') worker.postMessage({ id: sent, data, ends }, [data.buffer as ArrayBuffer]);
          else {
            // The ring holds INFLIGHT batches; a slot is free again once its batch is acknowledged.
            if (ringAt + data.length > RING_BYTES) ringAt = 0;
            ringView!.set(data, ringAt);
            worker.postMessage({ id: sent, ring: true, at: ringAt, length: data.length, ends: ends.slice().buffer }, []);
            ringAt += data.length;
          }
        }
        mainMs += performance.now() - t0;
        sent++;
      }
    };
    worker.on('message', () => {
      acked++;
      if (acked === batches) done();
      else send();
    });
    send();
  });
  const elapsed = performance.now() - started;
  await worker.terminate();
  return { method, size, mainMicrosPerBatch: (mainMs * 1000) / batches, recordsPerSec: (batches * BATCH) / (elapsed / 1000) };
}

export async function measureTransfers(quick: boolean): Promise<TransferResult[]> {
  const out: TransferResult[] = [];
  for (const size of ['small', 'large'] as const) {
    for (const method of ['clone objects', 'clone bytes', 'transfer bytes', 'shared ring'] as const) {
      out.push(await measure(method, size, quick ? 100 : (size === 'small' ? 600 : 150)));
    }
  }
  return out;
}
