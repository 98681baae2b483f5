// chain of source:orders → sink:lines:0
"use strict";
const ops = ["lines/2:select","lines/3:key-by"];
const f0 = lib["dmul"];
for (const [n, f] of [["dmul", f0]]) {
  if (typeof f !== "function") throw new Error("the function library has no " + n);
}
function mapGet(m, k) { return m !== null && k !== null && Object.hasOwn(m, k) ? m[k] : null; }
function reject(rejected, action, operator, e, offset, key, value) {
  rejected.push({ action, operator, reason: e instanceof Error ? e.message : String(e), offset, key, value });
}
return function chain(batch, out, rejected, ctx) {
  const keys = batch.keys, values = batch.values, offsets = batch.offsets, timestamps = batch.timestamps;
  let mx = -Infinity;
  const o0 = out[0], o0k = o0.keys, o0v = o0.values, o0o = o0.offsets;
  const sop0 = ctx.operators[0];
  let at = 0;
  for (let i = 0, n = values.length; i < n; i++) {
    const r0 = values[i], k0 = keys[i], off = offsets[i], ts = timestamps[i];
    if (ts > mx) mx = ts;
    s1: {
      let r1 = r0, k1 = k0;
      try {
        if (!sop0.admit(r1.id, ts)) break s1;
      } catch (e) { reject(rejected, "dead_letter", "unique_orders/0:dedupe", e, off, k0, r0); break s1; }
      s2: {
        let r2 = r1, k2 = k1;
        let a1;
        try {
          a1 = r2.items;
        } catch (e) { reject(rejected, "dead_letter", "lines/1:flat-map", e, off, k0, r0); break s2; }
        if (a1 != null) l2: for (let j2 = 0; j2 < a1.length; j2++) {
          let r3 = { "id": r2.id, "customer_id": r2.customer_id, "status": r2.status, "amount": r2.amount, "currency": r2.currency, "country": r2.country, "created_at": r2.created_at, "items": r2.items, "attributes": r2.attributes, "item": a1[j2] }, k3 = k2;
          try {
            at = 0;
            r3 = { "order_id": r3.id, "sku": r3.item.sku, "quantity": r3.item.quantity, "line_total": f0(r3.item.unit_price, 2, r3.item.quantity, 0, 21, 2), "currency": r3.currency, "channel": (mapGet(r3.attributes, "channel") ?? "web") };
            at = 1;
            k3 = r3.order_id;
          } catch (e) { reject(rejected, "dead_letter", ops[at], e, off, k0, r0); continue l2; }
          o0k.push(k3); o0v.push(r3); o0o.push(off);
        }
      }
    }
  }
  if (mx > ctx.maxTime) ctx.maxTime = mx;
};
