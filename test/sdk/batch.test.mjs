// pb.createBatch() against a copy of the PocketBase v0.40.4 fixture: the SDK always
// sends a multipart body with the requests under @jsonPayload.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import PocketBase from "pocketbase";

import { rejection, startInstance } from "./harness.mjs";

const aliceID = "w2bx8e6qg38uo33";
const alicePost = "hxjy4dmsjikjbj4";
const bobPost = "lkfm1e29gmk6gfe";
const tagK8s = "1f4pvfozmqdkis3";

describe("batch", () => {
  let instance;
  let admin;

  before(async () => {
    instance = await startInstance({ fixture: true });
    admin = new PocketBase(instance.url);
    await admin.collection("_superusers").authWithPassword("admin@example.com", "admin-pass-123");
  });

  after(async () => {
    await instance?.stop();
  });

  async function alice() {
    const pb = new PocketBase(instance.url);
    await pb.collection("users").authWithPassword("alice@example.com", "alice-pass-123");
    return pb;
  }

  test("disabled batches are refused", async () => {
    const batch = admin.createBatch();
    batch.collection("tags").create({ label: "nope" });
    const err = await rejection(batch.send());
    assert.equal(err.status, 403);
    assert.equal(err.response.message, "Batch requests are not allowed.");
  });

  test("create, update, upsert and delete in one transaction", async () => {
    await admin.settings.update({ batch: { enabled: true, maxRequests: 10, timeout: 3 } });

    const batch = admin.createBatch();
    batch.collection("tags").create({ id: "sdkbatchtag0001", label: "sdk-batch" });
    batch.collection("posts").create({ title: "From a batch", author: aliceID, tags: ["sdkbatchtag0001"] }, { fields: "title,tags" });
    batch.collection("tags").update("sdkbatchtag0001", { label: "sdk-batch-2" });
    batch.collection("tags").upsert({ id: tagK8s, label: "k8s-upserted" });
    batch.collection("tags").upsert({ label: "sdk-upsert-new" });
    batch.collection("posts").delete(bobPost);
    const results = await batch.send();

    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 200, 200, 204],
    );
    assert.equal(results[0].body.id, "sdkbatchtag0001");
    assert.deepEqual(results[1].body, { title: "From a batch", tags: ["sdkbatchtag0001"] });
    assert.equal(results[2].body.label, "sdk-batch-2");
    assert.equal(results[3].body.id, tagK8s);
    assert.equal(results[3].body.label, "k8s-upserted");
    assert.equal(results[4].body.label, "sdk-upsert-new");
    assert.equal(results[5].body, null);

    const tag = await admin.collection("tags").getOne("sdkbatchtag0001");
    assert.equal(tag.label, "sdk-batch-2");
    const gone = await rejection(admin.collection("posts").getOne(bobPost));
    assert.equal(gone.status, 404);
  });

  test("a failing request rolls the whole batch back", async () => {
    const pb = await alice();
    const batch = pb.createBatch();
    batch.collection("posts").create({ title: "Never stored", author: aliceID });
    batch.collection("posts").update(alicePost, { title: "Never renamed" });
    batch.collection("tags").create({ label: "guests cannot" });
    const err = await rejection(batch.send());

    assert.equal(err.status, 400);
    assert.equal(err.response.message, "Batch transaction failed.");
    assert.deepEqual(err.response.data, {
      requests: {
        2: {
          code: "batch_request_failed",
          message: "Batch request failed.",
          response: { data: {}, message: "Only superusers can perform this action.", status: 403 },
        },
      },
    });

    const stored = await admin.collection("posts").getList(1, 1, { filter: 'title = "Never stored"' });
    assert.equal(stored.totalItems, 0);
    const post = await admin.collection("posts").getOne(alicePost);
    assert.notEqual(post.title, "Never renamed");
  });

  test("more requests than maxRequests", async () => {
    await admin.settings.update({ batch: { enabled: true, maxRequests: 2 } });
    const batch = admin.createBatch();
    for (let i = 0; i < 3; i++) {
      batch.collection("tags").create({ label: `too-many-${i}` });
    }
    const err = await rejection(batch.send());
    assert.equal(err.status, 400);
    assert.equal(err.response.message, "Invalid batch request data.");
    assert.deepEqual(err.response.data, {
      requests: { code: "validation_length_too_long", message: "The length must be no more than 2.", params: { max: 2, min: 0 } },
    });
  });
});
