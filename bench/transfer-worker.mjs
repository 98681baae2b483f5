// Worker of the transfer benchmark (plain JavaScript, no tsx needed): takes
// batches in the way the main thread sends them, decodes them when they are
// bytes, and acknowledges each one.
import { parentPort, workerData } from 'node:worker_threads';
import avro from 'avsc';

const type = avro.Type.forSchema(workerData.schema, { wrapUnions: 'auto' });
const ring = workerData.ring ? Buffer.from(workerData.ring) : undefined;
let sink = 0;

function decode(buf, ends) {
  let pos = 0;
  for (let i = 0; i < ends.length; i++) {
    const r = type.decode(buf, pos);
    sink += r.offset;
    pos = ends[i];
  }
}

parentPort.on('message', (m) => {
  if (m.values) {
    sink += m.values.length;
  } else if (m.ring) {
    decode(ring.subarray(m.at, m.at + m.length), new Uint32Array(m.ends));
  } else {
    decode(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), m.ends);
  }
  parentPort.postMessage({ id: m.id, sink });
});
