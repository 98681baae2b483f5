// chain of source:orders → exchange:country_totals-repartition
"use strict";
const ops = [];

function stateKey(v) { return v !== null && typeof v === "object" ? (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : JSON.stringify(v)) : v; }
function groupKey(parts) {
  let s = "";
  for (const p of parts) s += (typeof p === "string" ? "s" + p.length + ":" + p : p === null ? "z" : typeof p === "boolean" ? "b" + p : "n" + p) + "|";
  return s;
}
function exchangePartition(parts, n) {
  const s = groupKey(parts.map(stateKey));
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}
function reject(rejected, action, operator, e, offset, key, value) {
  rejected.push({ action, operator, reason: e instanceof Error ? e.message : String(e), offset, key, value });
}
return function chain(batch, out, rejected, ctx) {
  const keys = batch.keys, values = batch.values, offsets = batch.offsets, timestamps = batch.timestamps;
  let mx = -Infinity;
  const o0 = out[0], o0k = o0.keys, o0v = o0.values, o0o = o0.offsets;
  const xc = ctx.exchange;
  let at = 0;
  for (let i = 0, n = values.length; i < n; i++) {
    const r0 = values[i], k0 = keys[i], off = offsets[i];
    const ts = r0.created_at;
    if (ts > mx) mx = ts;
    s1: {
      let r1 = r0, k1 = k0;
      let xp1;
      try {
        xp1 = exchangePartition([r1.country], xc.partitions);
      } catch (e) { reject(rejected, "dead_letter", "country_totals/1:aggregate", e, off, k0, r0); break s1; }
      o0k.push(xp1); o0v.push({ f: xc.partition, w: xc.watermark, t: ts, r: r1 }); o0o.push(off);
    }
  }
  if (mx > ctx.maxTime) ctx.maxTime = mx;
};

// chain of source:country_totals-repartition → sink:country_totals:0
"use strict";
const ops = [];
const c0 = { init: () => ({ v0: 0, v1: 0 }), merge: (a, b) => { a.v0 += b.v0; a.v1 = ladd(a.v1, b.v1); } };
function long64(x) {
  if (x < -9223372036854775808n || x > 9223372036854775807n) throw new RangeError("long overflow: " + x);
  return x >= -9007199254740991n && x <= 9007199254740991n ? Number(x) : x;
}
function ladd(a, b) {
  if (typeof a === "number" && typeof b === "number") { const r = a + b; if (r >= -9007199254740991 && r <= 9007199254740991) return r + 0; }
  return long64(BigInt(a) + BigInt(b));
}
function reject(rejected, action, operator, e, offset, key, value) {
  rejected.push({ action, operator, reason: e instanceof Error ? e.message : String(e), offset, key, value });
}
function chain(batch, out, rejected, ctx) {
  const keys = batch.keys, values = batch.values, offsets = batch.offsets, timestamps = batch.timestamps;
  let mx = -Infinity;
  const xin = ctx.inputs;
  const o0 = out[0], o0k = o0.keys, o0v = o0.values, o0o = o0.offsets;
  const sop0 = ctx.operators[0];
  let at = 0;
  for (let i = 0, n = values.length; i < n; i++) {
    const x = values[i], xf = x.f;
    if (x.w > xin[xf]) xin[xf] = x.w;
    if (x.r === null) continue;
    const r0 = x.r, k0 = keys[i], off = offsets[i], ts = x.t;
    if (ts > mx) mx = ts;
    s1: {
      let r1 = r0, k1 = k0;
      let g1, x2, w3;
      try {
        g1 = r1.country;
        x2 = r1.amount;
        w3 = sop0.windows(g1, ts, c0);
        if (w3 === null) reject(rejected, "dead_letter", "country_totals/1:aggregate", sop0.lateReason(ts), off, k0, r0);
        else for (let wi = 0; wi < w3.length; wi++) {
          const aw = w3[wi], aa = aw.a;
          if (aw.k === null) aw.k = [g1];
          aa.v0++;
          aa.v1 = ladd(aa.v1, x2);
        }
      } catch (e) { reject(rejected, "dead_letter", "country_totals/1:aggregate", e, off, k0, r0); break s1; }
    }
  }
  if (mx > ctx.maxTime) ctx.maxTime = mx;
}
function e0(results, offset, out, rejected, ctx) {
  const o0 = out[0], o0k = o0.keys, o0v = o0.values, o0o = o0.offsets;
  const sop0 = ctx.operators[0];
  let at = 0;
  for (let i = 0, n = results.length; i < n; i++) {
    const w = results[i], off = offset, ts = w.e === null ? w.t : w.e - 1;
    const r0 = { "country": w.k[0], "window_start": w.s, "window_end": w.e, "orders": w.a.v0, "amount": w.a.v1 }, k0 = { "country": w.k[0], "window_start": w.s };
    s2: {
      let r2 = r0, k2 = k0;
      o0k.push(k2); o0v.push(r2); o0o.push(off);
    }
  }
}
chain.emitters = [e0];
return chain;
