// The SDK against a fresh data directory whose superuser comes from the bootstrap
// environment variables, as the operator starts tenants.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import PocketBase, { ClientResponseError } from "pocketbase";

import { startInstance } from "./harness.mjs";

const email = "sdk-admin@example.com";
const password = "sdk-admin-pass-123";

// fakeToken is an unsigned JWT with the given payload: enough for the SDK's authStore,
// which only decodes exp, and never accepted by the server.
function fakeToken(payload) {
  const enc = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${enc({ alg: "HS256", typ: "JWT" })}.${enc(payload)}.c2ln`;
}

async function rejectsWith(promise, status, message) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ClientResponseError, `want ClientResponseError, got ${err}`);
    assert.equal(err.status, status);
    assert.equal(err.message, message);
    assert.deepEqual(err.response, { data: {}, message, status });
    return true;
  });
}

describe("fresh instance with a bootstrap superuser", () => {
  let instance;

  before(async () => {
    instance = await startInstance({
      env: { PB_SUPERUSER_EMAIL: email, PB_SUPERUSER_PASSWORD: password },
    });
  });

  after(async () => {
    await instance?.stop();
  });

  test("health.check as a guest", async () => {
    const pb = new PocketBase(instance.url);
    assert.deepEqual(await pb.health.check(), { message: "API is healthy.", code: 200, data: {} });
  });

  test("_superusers authWithPassword fills the authStore", async () => {
    const pb = new PocketBase(instance.url);
    assert.equal(pb.authStore.isValid, false);

    const auth = await pb.collection("_superusers").authWithPassword(email, password);

    assert.match(auth.token, /^eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\.[\w-]+\.[\w-]+$/);
    assert.equal(auth.record.email, email);
    assert.equal(auth.record.collectionName, "_superusers");
    assert.equal(auth.record.collectionId, "pbc_3142635823");
    assert.equal(auth.record.verified, true);
    assert.equal(auth.record.emailVisibility, false);
    assert.match(auth.record.id, /^[a-z0-9]{15}$/);
    assert.match(auth.record.created, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(Object.keys(auth.record), [...Object.keys(auth.record)].sort(), "record keys are sorted");
    assert.ok(!("password" in auth.record) && !("tokenKey" in auth.record), "no secrets in the record");

    assert.equal(pb.authStore.token, auth.token);
    assert.deepEqual(pb.authStore.record, auth.record);
    assert.equal(pb.authStore.isValid, true);
    assert.equal(pb.authStore.isSuperuser, true);
  });

  test("health.check as a superuser has data", async () => {
    const pb = new PocketBase(instance.url);
    await pb.collection("_superusers").authWithPassword(email, password);
    assert.deepEqual(await pb.health.check(), {
      message: "API is healthy.",
      code: 200,
      data: { canBackup: true, possibleProxyHeader: "", realIP: "127.0.0.1" },
    });
  });

  test("wrong password is a 400 ClientResponseError and leaves the authStore alone", async () => {
    const pb = new PocketBase(instance.url);
    await rejectsWith(pb.collection("_superusers").authWithPassword(email, "wrong-pass-123"), 400, "Failed to authenticate.");
    assert.equal(pb.authStore.isValid, false);
    assert.equal(pb.authStore.token, "");
  });

  test("unknown identity gets the same answer as a wrong password", async () => {
    const pb = new PocketBase(instance.url);
    await rejectsWith(pb.collection("_superusers").authWithPassword("nobody@example.com", password), 400, "Failed to authenticate.");
  });

  test("authRefresh renews the token", async () => {
    const pb = new PocketBase(instance.url);
    const first = await pb.collection("_superusers").authWithPassword(email, password);
    // Tokens carry exp in seconds: wait for the next second so the new token differs.
    await new Promise((r) => setTimeout(r, 1100));

    const refreshed = await pb.collection("_superusers").authRefresh();

    assert.notEqual(refreshed.token, first.token);
    assert.deepEqual(refreshed.record, first.record);
    assert.equal(pb.authStore.token, refreshed.token);
    assert.equal(pb.authStore.isSuperuser, true);

    // The renewed token works on its own.
    const other = new PocketBase(instance.url);
    other.authStore.save(refreshed.token, null);
    const again = await other.collection("_superusers").authRefresh();
    assert.equal(again.record.id, first.record.id);
  });

  test("authStore.isValid reads exp; the server rejects what it did not sign", async () => {
    const pb = new PocketBase(instance.url);
    const past = Math.floor(Date.now() / 1000) - 60;
    const future = Math.floor(Date.now() / 1000) + 3600;

    pb.authStore.save(fakeToken({ id: "x", type: "auth", collectionId: "pbc_3142635823", exp: past }), null);
    assert.equal(pb.authStore.isValid, false);

    pb.authStore.save(fakeToken({ id: "x", type: "auth", collectionId: "pbc_3142635823", exp: future }), null);
    assert.equal(pb.authStore.isValid, true, "the SDK does not check signatures");
    assert.equal(pb.authStore.isSuperuser, true, "collectionId pbc_3142635823 means superuser without a record");
    await rejectsWith(pb.collection("_superusers").authRefresh(), 401, "The request requires valid record authorization token.");

    pb.authStore.clear();
    assert.equal(pb.authStore.isValid, false);
    assert.equal(pb.authStore.token, "");
    assert.equal(pb.authStore.record, null);
    await rejectsWith(pb.collection("_superusers").authRefresh(), 401, "The request requires valid record authorization token.");
  });

  test("unknown collection is a 404", async () => {
    const pb = new PocketBase(instance.url);
    await rejectsWith(pb.collection("nope").authWithPassword(email, password), 404, "Missing or invalid collection context.");
  });
});
