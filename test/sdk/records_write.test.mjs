// Record create, update and delete through pb.collection(...) against a copy of the
// PocketBase v0.40.4 fixture (shared/fixtures/pocketbase-v0.40/README.md).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import PocketBase, { ClientResponseError } from "pocketbase";

import { startInstance, rejection } from "./harness.mjs";

const aliceID = "w2bx8e6qg38uo33";
const bobPost = "lkfm1e29gmk6gfe";
const tagGo = "s2cej12938cf3n3";

describe("record writes", () => {
  let instance;

  before(async () => {
    instance = await startInstance({ fixture: true });
  });

  after(async () => {
    await instance?.stop();
  });

  async function as(collection, email, password) {
    const pb = new PocketBase(instance.url);
    await pb.collection(collection).authWithPassword(email, password);
    return pb;
  }

  test("alice creates, updates and deletes her own post", async () => {
    const pb = await as("users", "alice@example.com", "alice-pass-123");

    const created = await pb.collection("posts").create({
      title: "Written with the SDK",
      author: aliceID,
      channels: ["web", "email"],
      "tags+": [tagGo],
      meta: { nested: [1, 2] },
      location: { lon: 4.5, lat: 51.2 },
    });
    assert.equal(created.collectionName, "posts");
    assert.equal(created.title, "Written with the SDK");
    assert.deepEqual(created.channels, ["web", "email"]);
    assert.deepEqual(created.tags, [tagGo]);
    assert.deepEqual(created.meta, { nested: [1, 2] });
    assert.deepEqual(created.location, { lon: 4.5, lat: 51.2 });
    assert.match(created.id, /^[a-z0-9]{15}$/);
    assert.equal(created.created, created.updated);

    const viewed = await pb.collection("posts").getOne(created.id);
    assert.deepEqual(viewed, created);

    await new Promise((r) => setTimeout(r, 5));
    const updated = await pb.collection("posts").update(created.id, { title: "Edited", "views+": 3, "channels-": "web" });
    assert.equal(updated.title, "Edited");
    assert.equal(updated.views, 3);
    assert.deepEqual(updated.channels, ["email"]);
    assert.equal(updated.created, created.created);
    assert.notEqual(updated.updated, created.updated);

    assert.equal(await pb.collection("posts").delete(created.id), true);
    const gone = await rejection(pb.collection("posts").getOne(created.id));
    assert.equal(gone.status, 404);
  });

  test("a FormData body (multipart with @jsonPayload) is understood", async () => {
    const pb = await as("_superusers", "admin@example.com", "admin-pass-123");
    const form = new FormData();
    form.append("label", "from-formdata");
    const tag = await pb.collection("tags").create(form);
    assert.equal(tag.label, "from-formdata");

    const post = await pb.collection("posts").create({
      title: "Mixed body",
      cover: new Blob(["x"], { type: "image/png" }),
      meta: { a: 1 },
    }).catch((err) => err);
    // the file part is read: its content is not a PNG, which the cover field requires
    assert.ok(post instanceof ClientResponseError);
    assert.equal(post.status, 400);
    assert.equal(post.response.data.cover.code, "validation_invalid_mime_type");
  });

  test("rules: guests cannot create posts, others' posts are not found", async () => {
    const guest = new PocketBase(instance.url);
    const denied = await rejection(guest.collection("posts").create({ title: "Guest post" }));
    assert.equal(denied.status, 400);
    assert.deepEqual(denied.response, { data: {}, message: "Failed to create record.", status: 400 });

    const pb = await as("users", "alice@example.com", "alice-pass-123");
    const notFound = await rejection(pb.collection("posts").update(bobPost, { title: "Hijack" }));
    assert.equal(notFound.status, 404);
    const notFoundDelete = await rejection(pb.collection("posts").delete(bobPost));
    assert.equal(notFoundDelete.status, 404);

    const forbidden = await rejection(pb.collection("tags").create({ label: "nope" }));
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.message, "Only superusers can perform this action.");
  });

  test("validation errors come back per field", async () => {
    const pb = await as("_superusers", "admin@example.com", "admin-pass-123");
    const err = await rejection(pb.collection("posts").create({ title: "ab", status: "bad", author: "missingmissingm" }));
    assert.equal(err.status, 400);
    assert.equal(err.message, "Failed to create record.");
    assert.deepEqual(err.response.data.title, {
      code: "validation_min_text_constraint",
      message: "Must be at least 3 character(s).",
      params: { min: 3 },
    });
    assert.equal(err.response.data.status.code, "validation_invalid_value");
    assert.equal(err.response.data.author.code, "validation_missing_rel_records");

    const dup = await rejection(pb.collection("tags").create({ label: "go" }));
    assert.deepEqual(dup.response.data, { label: { code: "validation_not_unique", message: "Value must be unique." } });
  });

  test("a user signs up, changes her password and deletes her account", async () => {
    const guest = new PocketBase(instance.url);
    const user = await guest.collection("users").create({
      email: "carol@example.com",
      password: "carol-pass-123",
      passwordConfirm: "carol-pass-123",
      name: "Carol",
    });
    assert.equal(user.email, undefined, "the email is hidden from a guest");
    assert.equal(user.verified, false);

    const pb = await as("users", "carol@example.com", "carol-pass-123");
    const missingOld = await rejection(
      pb.collection("users").update(user.id, { password: "carol-new-123", passwordConfirm: "carol-new-123" }),
    );
    assert.deepEqual(missingOld.response.data, { oldPassword: { code: "validation_required", message: "Cannot be blank." } });

    const updated = await pb.collection("users").update(user.id, {
      password: "carol-new-123",
      passwordConfirm: "carol-new-123",
      oldPassword: "carol-pass-123",
    });
    assert.equal(updated.email, "carol@example.com", "the owner sees her email");
    assert.equal(pb.authStore.record.id, user.id);

    // the password change renewed the tokenKey: the old token no longer refreshes
    const stale = await rejection(pb.collection("users").authRefresh());
    assert.equal(stale.status, 401);

    const again = await as("users", "carol@example.com", "carol-new-123");
    await again.collection("users").delete(user.id);
    assert.equal(again.authStore.isValid, false, "the SDK clears the store after deleting the auth record");
  });

  test("deleting a post cascades to its comments", async () => {
    const pb = await as("_superusers", "admin@example.com", "admin-pass-123");
    const before = await pb.collection("comments").getList(1, 1, { filter: `post = "${bobPost}"` });
    assert.ok(before.totalItems > 0);

    await pb.collection("posts").delete(bobPost);

    const afterDelete = await pb.collection("comments").getList(1, 1, { filter: `post = "${bobPost}"` });
    assert.equal(afterDelete.totalItems, 0);
  });

  test("the only superuser cannot be deleted", async () => {
    const pb = await as("_superusers", "admin@example.com", "admin-pass-123");
    const err = await rejection(pb.collection("_superusers").delete("52lyy8nw07kghoy"));
    assert.equal(err.status, 400);
    assert.equal(err.message, "You can't delete the only existing superuser.");
  });
});
