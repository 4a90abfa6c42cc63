// authWithPassword, authRefresh and the SDK's authStore against the instance.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import PocketBase, { LocalAuthStore } from "pocketbase";

import { rejection, startInstance } from "./harness.mjs";

const admin = { email: "admin@example.com", password: "admin-pass-123" };
const alice = { id: "w2bx8e6qg38uo33", email: "alice@example.com", password: "alice-pass-123" };

function claims(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url"));
}

describe("authStore", () => {
  let instance;

  before(async () => {
    instance = await startInstance({ fixture: true });
  });

  after(async () => {
    await instance?.stop();
  });

  test("authWithPassword fills the store and fires onChange", async () => {
    const pb = new PocketBase(instance.url);
    const changes = [];
    pb.authStore.onChange((token, record) => changes.push([token, record?.id]));

    const auth = await pb.collection("users").authWithPassword(alice.email, alice.password);
    assert.equal(pb.authStore.token, auth.token);
    assert.equal(pb.authStore.record.id, alice.id);
    assert.equal(pb.authStore.record.email, alice.email);
    assert.equal(pb.authStore.isValid, true);
    assert.equal(pb.authStore.isSuperuser, false);
    assert.deepEqual(changes, [[auth.token, alice.id]]);

    const c = claims(auth.token);
    assert.equal(c.type, "auth");
    assert.equal(c.collectionId, "_pb_users_auth_");
    assert.equal(c.refreshable, true);
    assert.ok(Math.abs(c.exp - (Date.now() / 1000 + 432000)) < 60);

    // the store authenticates the following requests
    const me = await pb.collection("users").getOne(alice.id);
    assert.equal(me.email, alice.email);

    pb.authStore.clear();
    assert.equal(pb.authStore.isValid, false);
    assert.equal(pb.authStore.record, null);
    assert.deepEqual(changes.at(-1), ["", undefined]);
    const guest = await rejection(pb.collection("users").authRefresh());
    assert.equal(guest.status, 401);
  });

  test("authRefresh renews the token and keeps the record", async () => {
    const pb = new PocketBase(instance.url);
    const first = await pb.collection("users").authWithPassword(alice.email, alice.password, { expand: "" });
    await new Promise((r) => setTimeout(r, 1100)); // a new exp second
    const refreshed = await pb.collection("users").authRefresh();
    assert.notEqual(refreshed.token, first.token);
    assert.equal(pb.authStore.token, refreshed.token);
    assert.equal(pb.authStore.record.id, alice.id);
    assert.ok(claims(refreshed.token).exp > claims(first.token).exp);
  });

  test("superusers are flagged; a tampered store token is refused", async () => {
    const pb = new PocketBase(instance.url);
    await pb.collection("_superusers").authWithPassword(admin.email, admin.password);
    assert.equal(pb.authStore.isSuperuser, true);
    assert.equal(pb.authStore.record.collectionName, "_superusers");

    const [h, p] = pb.authStore.token.split(".");
    const forged = JSON.parse(Buffer.from(p, "base64url"));
    forged.exp += 3600;
    pb.authStore.save(`${h}.${Buffer.from(JSON.stringify(forged)).toString("base64url")}.${pb.authStore.token.split(".")[2]}`, pb.authStore.record);
    assert.equal(pb.authStore.isValid, true); // the SDK only reads exp
    const err = await rejection(pb.collections.getList(1, 1));
    assert.equal(err.status, 401);
  });

  test("a store exported to a cookie loads back and still authenticates", async () => {
    const pb = new PocketBase(instance.url);
    await pb.collection("users").authWithPassword(alice.email, alice.password);
    const cookie = pb.authStore.exportToCookie({ httpOnly: false });

    const other = new PocketBase(instance.url, new LocalAuthStore("other"));
    other.authStore.loadFromCookie(cookie);
    assert.equal(other.authStore.token, pb.authStore.token);
    const refreshed = await other.collection("users").authRefresh();
    assert.equal(refreshed.record.id, alice.id);
  });

  test("wrong credentials leave the store empty", async () => {
    const pb = new PocketBase(instance.url);
    const err = await rejection(pb.collection("users").authWithPassword(alice.email, "wrong-pass"));
    assert.equal(err.status, 400);
    assert.equal(err.message, "Failed to authenticate.");
    assert.equal(pb.authStore.isValid, false);
  });
});
