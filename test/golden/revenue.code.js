// chain of source:orders → sink:revenue_per_minute:0
"use strict";
const ops = ["revenue_per_minute/0:where","revenue_per_minute/2:aggregate"];
const f0 = lib["dadd"];
for (const [n, f] of [["dadd", f0]]) {
  if (typeof f !== "function") throw new Error("the function library has no " + n);
}
const c0 = { init: () => ({ v0: 0, v1: 0, v2: null }), merge: (a, b) => { a.v0 += b.v0; a.v1 = f0(a.v1, 2, b.v1, 2, 38, 2); if (b.v2 !== null && (a.v2 === null || b.v2 > a.v2)) a.v2 = b.v2; } };
function reject(rejected, action, operator, e, offset, key, value) {
  rejected.push({ action, operator, reason: e instanceof Error ? e.message : String(e), offset, key, value });
}
function chain(batch, out, rejected, ctx) {
  const keys = batch.keys, values = batch.values, offsets = batch.offsets, timestamps = batch.timestamps;
  let mx = -Infinity;
  const o0 = out[0], o0k = o0.keys, o0v = o0.values, o0o = o0.offsets;
  const sop0 = ctx.operators[0];
  let at = 0;
  for (let i = 0, n = values.length; i < n; i++) {
    const r0 = values[i], k0 = keys[i], off = offsets[i];
    const ts = r0.created_at;
    if (ts > mx) mx = ts;
    s1: {
      let r1 = r0, k1 = k0;
      let g1, x2, x3, w4;
      try {
        at = 0;
        if (!(r1.status === "PAID")) break s1;
        at = 1;
        g1 = (r1.country ?? "unknown");
        x2 = r1.amount;
        x3 = r1.amount;
        w4 = sop0.windows(g1, ts, c0);
        if (w4 === null) reject(rejected, "dead_letter", "revenue_per_minute/2:aggregate", sop0.lateReason(ts), off, k0, r0);
        else for (let wi = 0; wi < w4.length; wi++) {
          const aw = w4[wi], aa = aw.a;
          if (aw.k === null) aw.k = [g1];
          aa.v0++;
          aa.v1 = f0(aa.v1, 2, x2, 2, 38, 2);
          if ((aa.v2 === null || x3 > aa.v2)) aa.v2 = x3;
        }
      } catch (e) { reject(rejected, "dead_letter", ops[at], e, off, k0, r0); break s1; }
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
    const r0 = { "country": w.k[0], "window_start": w.s, "window_end": w.e, "orders": w.a.v0, "revenue": w.a.v1, "largest": w.a.v2 }, k0 = { "country": w.k[0], "window_start": w.s };
    s2: {
      let r2 = r0, k2 = k0;
      o0k.push(k2); o0v.push(r2); o0o.push(off);
    }
  }
}
chain.emitters = [e0];
return chain;
