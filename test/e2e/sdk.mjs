// Drives one tenant through its Ingress host name with the official PocketBase JS SDK
// (test/sdk/node_modules/pocketbase, 0.28.1). The Go suite runs it with Node 20:
//
//   node sdk.mjs write URL    superuser login, a collection, CRUD with a filter, a realtime
//                             event; leaves one record titled "keep" behind
//   node sdk.mjs check URL    superuser login and reads the "keep" record back
//   node sdk.mjs drop URL     superuser login and deletes the "keep" record
//
// Env: PB_EMAIL, PB_PASSWORD (the tenant's generated Secret), E2E_RESOLVE ("host=ip,...":
// the tenant host names are test names that no DNS server knows; they resolve to the
// Ingress controller's address here, for fetch and for the realtime stream alike).
// Prints one JSON line with the results and the time of the first successful request.
import assert from "node:assert/strict";
import dns from "node:dns";

import PocketBase from "../sdk/node_modules/pocketbase/dist/pocketbase.es.mjs";
import { installEventSource } from "../sdk/eventsource.mjs";

const [mode, url] = process.argv.slice(2);
const email = process.env.PB_EMAIL;
const password = process.env.PB_PASSWORD;
if (!["write", "check", "drop"].includes(mode) || !url || !email || !password) {
  console.error("usage: PB_EMAIL=… PB_PASSWORD=… node sdk.mjs write|check|drop URL");
  process.exit(2);
}

// Resolver override: node's net.connect looks names up through dns.lookup at call time.
const overrides = new Map(
  (process.env.E2E_RESOLVE ?? "").split(",").filter(Boolean).map((kv) => kv.split("=")),
);
const lookup = dns.lookup;
dns.lookup = (hostname, options, callback) => {
  const ip = overrides.get(hostname);
  if (!ip) {
    return lookup(hostname, options, callback);
  }
  const cb = typeof options === "function" ? options : callback;
  const opts = typeof options === "object" && options ? options : {};
  process.nextTick(() => (opts.all ? cb(null, [{ address: ip, family: 4 }]) : cb(null, ip, 4)));
};
installEventSource();

const collection = "e2e_notes";
const pb = new PocketBase(url);
pb.autoCancellation(false);
const result = { mode, url };

await pb.collection("_superusers").authWithPassword(email, password);
result.firstRequestAt = Date.now();

if (mode === "write") {
  // a fresh collection on every run of the suite: it starts from an empty volume
  await pb.collections.create({
    name: collection,
    type: "base",
    fields: [
      { name: "title", type: "text", required: true },
      { name: "n", type: "number" },
    ],
    listRule: "",
    viewRule: "",
  });

  // realtime: subscribe first, then create, and wait for the event through the Ingress
  const events = [];
  let wake;
  const unsubscribe = await pb.collection(collection).subscribe("*", (e) => {
    events.push(e);
    wake?.();
  });

  const created = [];
  for (const [title, n] of [["alpha", 1], ["beta", 2], ["gamma", 3], ["keep", 4]]) {
    created.push(await pb.collection(collection).create({ title, n }));
  }
  const deadline = Date.now() + 10_000;
  while (events.length < created.length && Date.now() < deadline) {
    await new Promise((resolve) => {
      wake = resolve;
      setTimeout(resolve, 250);
    });
  }
  await unsubscribe();
  assert.deepEqual(
    events.map((e) => [e.action, e.record.title]),
    created.map((r) => ["create", r.title]),
    "one realtime create event per record, in order",
  );
  result.realtimeEvents = events.length;

  const got = await pb.collection(collection).getOne(created[1].id);
  assert.equal(got.title, "beta");
  const updated = await pb.collection(collection).update(created[1].id, { n: 20 });
  assert.equal(updated.n, 20);
  await pb.collection(collection).delete(created[0].id);

  const list = await pb.collection(collection).getList(1, 10, {
    filter: pb.filter("n >= {:min} && title != {:skip}", { min: 3, skip: "keep" }),
    sort: "-n",
  });
  assert.deepEqual(list.items.map((r) => [r.title, r.n]), [["beta", 20], ["gamma", 3]]);
  assert.equal(list.totalItems, 2);
  await assert.rejects(pb.collection(collection).getOne(created[0].id), (err) => err.status === 404);
  result.records = (await pb.collection(collection).getFullList()).length;
} else if (mode === "drop") {
  const kept = await pb.collection(collection).getFirstListItem(pb.filter("title = {:t}", { t: "keep" }));
  await pb.collection(collection).delete(kept.id);
  result.records = (await pb.collection(collection).getFullList()).length;
} else {
  const kept = await pb.collection(collection).getFirstListItem(pb.filter("title = {:t}", { t: "keep" }));
  assert.equal(kept.n, 4);
  result.records = (await pb.collection(collection).getFullList()).length;
}

console.log(JSON.stringify(result));
