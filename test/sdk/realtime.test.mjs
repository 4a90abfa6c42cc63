// The SDK's realtime service (pb.realtime and RecordService.subscribe) against a copy of
// the PocketBase v0.40.4 fixture, with the EventSource of eventsource.mjs (Node 20 has
// none).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import PocketBase, { ClientResponseError } from "pocketbase";

import { installEventSource } from "./eventsource.mjs";
import { startInstance } from "./harness.mjs";

installEventSource();

const clientIdPattern = /^[A-Za-z0-9]{40}$/;

// newClient returns an SDK client that records the bodies of its POST /api/realtime.
function newClient(url) {
  const pb = new PocketBase(url);
  const posts = [];
  pb.beforeSend = (reqURL, options) => {
    if (new URL(reqURL).pathname === "/api/realtime" && options.method === "POST") {
      posts.push({
        body: typeof options.body === "string" ? JSON.parse(options.body) : options.body,
        auth: options.headers?.Authorization ?? "",
      });
    }
    return { url: reqURL, options };
  };
  return { pb, posts };
}

// nextEvent resolves with the next value pushed to the returned callback, or rejects after ms.
function eventWaiter() {
  const queue = [];
  let wake = null;
  const callback = (e) => {
    queue.push(e);
    wake?.();
  };
  const next = async (ms = 3000) => {
    const deadline = Date.now() + ms;
    while (!queue.length) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no realtime event within ${ms} ms`);
      }
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, left);
      });
    }
    return queue.shift();
  };
  return { callback, next };
}

describe("realtime", () => {
  let instance;

  before(async () => {
    instance = await startInstance({ fixture: true });
  });

  after(async () => {
    await instance?.stop();
  });

  test("PB_CONNECT, subscribe and unsubscribe round-trips", async () => {
    const { pb, posts } = newClient(instance.url);

    const connects = [];
    await pb.realtime.subscribe("PB_CONNECT", (e) => connects.push(e));
    assert.ok(pb.realtime.isConnected);
    const clientId = pb.realtime.clientId;
    assert.match(clientId, clientIdPattern);
    assert.deepEqual(posts.map((p) => p.body), [{ clientId, subscriptions: ["PB_CONNECT"] }]);
    // the SDK took the id from the SSE id: field and hands the parsed data to listeners
    assert.deepEqual(connects, [{ clientId }]);

    const unsubTags = await pb.collection("tags").subscribe("*", () => {});
    const unsubPost = await pb.collection("posts").subscribe("abc", () => {}, { fields: "id,title", headers: { "X-Token": "t" } });
    const postTopic = "posts/abc?options=" + encodeURIComponent(JSON.stringify({ query: { fields: "id,title" }, headers: { "X-Token": "t" } }));
    assert.deepEqual(posts.at(-1).body, { clientId, subscriptions: ["PB_CONNECT", "tags/*", postTopic] });

    await unsubTags();
    assert.deepEqual(posts.at(-1).body, { clientId, subscriptions: ["PB_CONNECT", postTopic] });

    // the last topics gone: the SDK closes the stream without an empty POST
    const before = posts.length;
    await unsubPost();
    await pb.realtime.unsubscribe("PB_CONNECT");
    assert.equal(pb.realtime.isConnected, false);
    assert.equal(posts.length, before + 1);
    assert.deepEqual(posts.at(-1).body, { clientId, subscriptions: ["PB_CONNECT"] });
  });

  test("the subscription carries the auth, and only guest to auth upgrades pass", async () => {
    const { pb, posts } = newClient(instance.url);
    await pb.collection("tags").subscribe("*", () => {});
    const clientId = pb.realtime.clientId;
    assert.equal(posts.at(-1).auth, "");

    await pb.collection("users").authWithPassword("alice@example.com", "alice-pass-123");
    await pb.collection("posts").subscribe("*", () => {});
    assert.equal(posts.at(-1).auth, pb.authStore.token);
    assert.deepEqual(posts.at(-1).body, { clientId, subscriptions: ["tags/*", "posts/*"] });

    // a guest may not take over alice's client
    const guest = new PocketBase(instance.url);
    await assert.rejects(
      guest.send("/api/realtime", { method: "POST", body: { clientId, subscriptions: [] } }),
      (err) => {
        assert.ok(err instanceof ClientResponseError);
        assert.equal(err.status, 403);
        assert.deepEqual(err.response, {
          data: {},
          message: "The current and the previous request authorization don't match.",
          status: 403,
        });
        return true;
      },
    );

    await pb.realtime.unsubscribe();
    assert.equal(pb.realtime.isConnected, false);
  });

  test("POST errors have PocketBase's shape", async () => {
    const pb = new PocketBase(instance.url);
    await assert.rejects(pb.send("/api/realtime", { method: "POST", body: {} }), (err) => {
      assert.equal(err.status, 400);
      assert.deepEqual(err.response, {
        data: { clientId: { code: "validation_required", message: "Cannot be blank." } },
        message: "Something went wrong while processing your request.",
        status: 400,
      });
      return true;
    });
    await assert.rejects(pb.send("/api/realtime", { method: "POST", body: { clientId: "nope" } }), (err) => {
      assert.equal(err.status, 404);
      assert.equal(err.message, "Missing or invalid client id.");
      return true;
    });
  });

  // Each subscriber gets only the records its auth may list (posts: published, or its
  // own), the filter option narrows that further, and an unsubscribed topic gets nothing.
  test("rule filtering per subscriber, the filter option, and unsubscribe", async () => {
    const guest = newClient(instance.url).pb;
    const alice = newClient(instance.url).pb;
    await alice.collection("users").authWithPassword("alice@example.com", "alice-pass-123");
    const aliceID = alice.authStore.record.id;

    const guestEvents = eventWaiter();
    const aliceEvents = eventWaiter();
    const popular = eventWaiter();
    await guest.collection("posts").subscribe("*", guestEvents.callback);
    await alice.collection("posts").subscribe("*", aliceEvents.callback);
    const unsubPopular = await alice.collection("posts").subscribe("*", popular.callback, { filter: "views > 10" });

    // alice's draft: hers to see, not the guest's, and not popular
    const draft = await alice.collection("posts").create({ title: "rt draft", author: aliceID, published: false, views: 1 });
    const d = await aliceEvents.next();
    assert.equal(d.action, "create");
    assert.equal(d.record.id, draft.id);

    // a published, popular post: everyone sees it
    const pub = await alice.collection("posts").create({ title: "rt public", author: aliceID, published: true, views: 50 });
    assert.equal((await aliceEvents.next()).record.id, pub.id);
    const g = await guestEvents.next();
    assert.equal(g.action, "create");
    assert.equal(g.record.id, pub.id, "the guest's first event is the published post, not the draft");
    assert.equal((await popular.next()).record.id, pub.id, "the filtered subscription's first event is the popular post");

    // unsubscribed from the filtered topic: an update reaches the plain ones only
    await unsubPopular();
    await alice.collection("posts").update(pub.id, { views: 60 });
    const u = await aliceEvents.next();
    assert.equal(u.action, "update");
    assert.equal(u.record.views, 60);
    assert.equal((await guestEvents.next()).action, "update");
    await assert.rejects(popular.next(500), /no realtime event/);

    // the draft's delete goes to alice only; the guest's next event is the public delete
    await alice.collection("posts").delete(draft.id);
    await alice.collection("posts").delete(pub.id);
    assert.deepEqual([(await aliceEvents.next()).record.id, (await aliceEvents.next()).record.id], [draft.id, pub.id]);
    const gd = await guestEvents.next();
    assert.equal(gd.action, "delete");
    assert.equal(gd.record.id, pub.id);

    await guest.realtime.unsubscribe();
    await alice.realtime.unsubscribe();
  });

  // The write path publishes its commits through the core event hub
  // (app.PublishRecordEvent, app.PrepareRecordDelete for deletes).
  test("create and delete events reach the subscribers", async () => {
    const admin = new PocketBase(instance.url);
    await admin.collection("_superusers").authWithPassword("admin@example.com", "admin-pass-123");

    const { pb } = newClient(instance.url);
    const all = eventWaiter();
    const picked = eventWaiter();
    await pb.collection("tags").subscribe("*", all.callback);
    await pb.collection("tags").subscribe("*", picked.callback, { fields: "id,label" });

    const created = await admin.collection("tags").create({ label: "rt-" + Date.now() });
    const e = await all.next();
    assert.equal(e.action, "create");
    assert.equal(e.record.id, created.id);
    assert.equal(e.record.collectionName, "tags");
    assert.deepEqual(await picked.next(), { action: "create", record: { id: created.id, label: created.label } });

    await admin.collection("tags").delete(created.id);
    const d = await all.next();
    assert.equal(d.action, "delete");
    assert.equal(d.record.id, created.id);

    await pb.realtime.unsubscribe();
  });
});
