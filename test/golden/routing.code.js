// chain of source:orders → sink:big_paid:0, sink:problems:0, sink:pending:0
"use strict";
const ops = ["by_status/0:select","by_status/1:route","big_paid/0:where","big_paid/1:select"];
const f0 = lib["size"];
const f1 = lib["coalesce"];
const f2 = lib["format_timestamp"];
for (const [n, f] of [["size", f0], ["coalesce", f1], ["format_timestamp", f2]]) {
  if (typeof f !== "function") throw new Error("the function library has no " + n);
}
function reject(rejected, action, operator, e, offset, key, value) {
  rejected.push({ action, operator, reason: e instanceof Error ? e.message : String(e), offset, key, value });
}
return function chain(batch, out, rejected, ctx) {
  const keys = batch.keys, values = batch.values, offsets = batch.offsets, timestamps = batch.timestamps;
  const o0 = out[0], o0k = o0.keys, o0v = o0.values, o0o = o0.offsets;
  const o1 = out[1], o1k = o1.keys, o1v = o1.values, o1o = o1.offsets;
  const o2 = out[2], o2k = o2.keys, o2v = o2.values, o2o = o2.offsets;
  let at = 0;
  for (let i = 0, n = values.length; i < n; i++) {
    const r0 = values[i], k0 = keys[i], off = offsets[i], ts = timestamps[i];
    s1: {
      let r1 = r0, k1 = k0;
      let b1;
      try {
        at = 0;
        r1 = { "id": r1.id, "customer_id": r1.customer_id, "status": r1.status, "amount": r1.amount, "currency": r1.currency, "country": r1.country, "created_at": r1.created_at, "item_count": f0(r1.items) };
        at = 1;
        b1 = (r1.status === "PAID") ? 0 : (r1.status === "REFUNDED") ? 1 : (r1.status === "FAILED") ? 2 : 3;
      } catch (e) { reject(rejected, "dead_letter", ops[at], e, off, k0, r0); break s1; }
      if (b1 === 0) {
        s2: {
          let r2 = r1, k2 = k1;
          try {
            at = 2;
            if (!(100 <= r2.amount && r2.amount <= 10000)) break s2;
            at = 3;
            r2 = { "id": r2.id, "customer_id": r2.customer_id, "amount": r2.amount, "country": f1(r2.country, "unknown"), "item_count": r2.item_count };
          } catch (e) { reject(rejected, "dead_letter", ops[at], e, off, k0, r0); break s2; }
          o0k.push(k2); o0v.push(r2); o0o.push(off);
        }
      }
      else if (b1 === 1) {
        s3: {
          let r3 = r1, k3 = k1;
          try {
            r3 = { "id": r3.id, "customer_id": r3.customer_id, "status": r3.status, "amount": r3.amount, "flagged": ((r3.amount > 1000) || !(r3.country === "DE" || r3.country === "FR" || r3.country === "NL")), "seen_at": f2(r3.created_at) };
          } catch (e) { reject(rejected, "dead_letter", "problems/1:select", e, off, k0, r0); break s3; }
          o1k.push(k3); o1v.push(r3); o1o.push(off);
        }
      }
      else if (b1 === 2) {
        s4: {
          let r4 = r1, k4 = k1;
          try {
            r4 = { "id": r4.id, "customer_id": r4.customer_id, "status": r4.status, "amount": r4.amount, "flagged": ((r4.amount > 1000) || !(r4.country === "DE" || r4.country === "FR" || r4.country === "NL")), "seen_at": f2(r4.created_at) };
          } catch (e) { reject(rejected, "dead_letter", "problems/1:select", e, off, k0, r0); break s4; }
          o1k.push(k4); o1v.push(r4); o1o.push(off);
        }
      }
      else if (b1 === 3) {
        o2k.push(k1); o2v.push(r1); o2o.push(off);
      }
    }
  }
};
