// chain of source:orders → sink:enriched:0, sink:enriched:1
"use strict";
const ops = ["enriched/0:where","enriched/1:lookup","enriched/2:select","enriched/3:key-by"];

function reject(rejected, action, operator, e, offset, key, value) {
  rejected.push({ action, operator, reason: e instanceof Error ? e.message : String(e), offset, key, value });
}
function chain(batch, out, rejected, ctx) {
  const keys = batch.keys, values = batch.values, offsets = batch.offsets, timestamps = batch.timestamps;
  const o0 = out[0], o0k = o0.keys, o0v = o0.values, o0o = o0.offsets;
  const o1 = out[1], o1k = o1.keys, o1v = o1.values, o1o = o1.offsets;
  const lkp = ctx.lookups;
  let at = 0;
  for (let i = 0, n = values.length; i < n; i++) {
    const r0 = values[i], k0 = keys[i], off = offsets[i], ts = timestamps[i];
    s1: {
      let r1 = r0, k1 = k0;
      let lk1;
      try {
        at = 0;
        if (!(r1.status === "PAID")) break s1;
        at = 1;
        lk1 = r1.customer_id;
      } catch (e) { reject(rejected, "dead_letter", ops[at], e, off, k0, r0); break s1; }
      { const p = lkp[0]; p.keys.push(lk1); p.records.push(r1); p.recordKeys.push(k1); p.offsets.push(off); p.timestamps.push(ts); p.sourceValues.push(r0); p.sourceKeys.push(k0); }
    }
  }
}
function c0(p, results, out, rejected, ctx) {
  const o0 = out[0], o0k = o0.keys, o0v = o0.values, o0o = o0.offsets;
  const o1 = out[1], o1k = o1.keys, o1v = o1.values, o1o = o1.offsets;
  const lkp = ctx.lookups;
  let at = 0;
  for (let i = 0, n = p.records.length; i < n; i++) {
    const r0 = p.sourceValues[i], k0 = p.sourceKeys[i], off = p.offsets[i], ts = p.timestamps[i], input = p.records[i], res = results[i];
    s2: {
      let r2 = { "id": input.id, "customer_id": input.customer_id, "status": input.status, "amount": input.amount, "currency": input.currency, "country": input.country, "created_at": input.created_at, "items": input.items, "attributes": input.attributes, "customer": res }, k2 = p.recordKeys[i];
      try {
        at = 2;
        r2 = { "order_id": r2.id, "customer_id": r2.customer_id, "customer_name": ((r2.customer?.name ?? null) ?? "unknown"), "tier": ((r2.customer?.tier ?? null) ?? "BRONZE"), "city": (r2.customer?.city ?? null), "amount": r2.amount, "placed_at": r2.created_at };
        at = 3;
        k2 = r2.customer_id;
      } catch (e) { reject(rejected, "dead_letter", ops[at], e, off, k0, r0); break s2; }
      o0k.push(k2); o0v.push(r2); o0o.push(off);
      o1k.push(k2); o1v.push(r2); o1o.push(off);
    }
  }
}
chain.continuations = [c0];
return chain;
