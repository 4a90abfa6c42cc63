// The SDK against a copy of the data directory written by PocketBase v0.40.4, with its
// real accounts (shared/fixtures/pocketbase-v0.40/README.md).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";

import PocketBase from "pocketbase";

import { fixtureDir, startInstance, rejection } from "./harness.mjs";

// alice's record as PocketBase sent it to her (expected/users-alice-self.body).
function aliceAsPocketBaseSentIt() {
  const body = readFileSync(join(dirname(fixtureDir()), "expected", "users-alice-self.body"), "utf8");
  return JSON.parse(body).items[0];
}

describe("PocketBase v0.40.4 fixture", () => {
  let instance;

  before(async () => {
    instance = await startInstance({ fixture: true });
  });

  after(async () => {
    await instance?.stop();
  });

  test("alice logs in to users and gets her record as PocketBase shows it", async () => {
    const pb = new PocketBase(instance.url);
    const auth = await pb.collection("users").authWithPassword("alice@example.com", "alice-pass-123");

    assert.deepEqual(auth.record, aliceAsPocketBaseSentIt());
    assert.deepEqual(Object.keys(auth.record), Object.keys(aliceAsPocketBaseSentIt()), "same key order");
    assert.equal(pb.authStore.isValid, true);
    assert.equal(pb.authStore.isSuperuser, false);
    assert.equal(pb.authStore.record.id, "w2bx8e6qg38uo33");
  });

  test("alice refreshes her token", async () => {
    const pb = new PocketBase(instance.url);
    const first = await pb.collection("users").authWithPassword("alice@example.com", "alice-pass-123");
    await new Promise((r) => setTimeout(r, 1100));

    const refreshed = await pb.collection("users").authRefresh();

    assert.notEqual(refreshed.token, first.token);
    assert.deepEqual(refreshed.record, aliceAsPocketBaseSentIt());
    assert.equal(pb.authStore.token, refreshed.token);
  });

  test("bob logs in and sees his own email although it is hidden from others", async () => {
    const pb = new PocketBase(instance.url);
    const auth = await pb.collection("users").authWithPassword("bob@example.com", "bob-pass-1234");

    assert.deepEqual(auth.record, {
      avatar: "",
      collectionId: "_pb_users_auth_",
      collectionName: "users",
      created: "2026-11-27 02:58:55.236Z",
      email: "bob@example.com",
      emailVisibility: false,
      id: "lnunmjp2hn3cnvb",
      name: "Bob",
      updated: "2026-11-27 02:58:55.236Z",
      verified: false,
    });
  });

  test("an unknown identity and a wrong password get the same 400", async () => {
    const pb = new PocketBase(instance.url);
    const unknown = await rejection(pb.collection("users").authWithPassword("mallory@example.com", "bob-pass-1234"));
    const wrong = await rejection(pb.collection("users").authWithPassword("bob@example.com", "wrong-pass-123"));

    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.response, { data: {}, message: "Failed to authenticate.", status: 400 });
    assert.deepEqual(wrong.response, unknown.response);
    assert.equal(pb.authStore.isValid, false);
  });

  test("the fixture superuser logs in", async () => {
    const pb = new PocketBase(instance.url);
    const auth = await pb.collection("_superusers").authWithPassword("admin@example.com", "admin-pass-123");
    assert.equal(auth.record.id, "52lyy8nw07kghoy");
    assert.equal(pb.authStore.isSuperuser, true);
  });

  test("a users token cannot refresh on _superusers", async () => {
    const pb = new PocketBase(instance.url);
    await pb.collection("users").authWithPassword("alice@example.com", "alice-pass-123");
    const err = await rejection(pb.collection("_superusers").authRefresh());
    assert.equal(err.status, 403);
    assert.equal(err.message, "The request requires auth record from users collection.");
  });

  test("unknown collection is a 404", async () => {
    const pb = new PocketBase(instance.url);
    const err = await rejection(pb.collection("nope").authWithPassword("alice@example.com", "alice-pass-123"));
    assert.equal(err.status, 404);
    assert.equal(err.message, "Missing or invalid collection context.");
  });
});
