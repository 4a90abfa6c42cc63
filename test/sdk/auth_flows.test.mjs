// Auth methods, impersonation and the email flows through the SDK. The instance mails
// through the suite's real SMTP server on loopback (mailcatcher), from which the tests
// read the tokens.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import PocketBase from "pocketbase";

import { rejection, startMailingFixture } from "./harness.mjs";

const alice = { id: "w2bx8e6qg38uo33", email: "alice@example.com", password: "alice-pass-123" };
const bob = { id: "lnunmjp2hn3cnvb", email: "bob@example.com", password: "bob-pass-1234" };

// mailToken returns the token of the "/_/#/auth/<action>/<token>" link of a message's
// HTML part.
function mailToken(message, action) {
  const m = message.html.match(new RegExp(`/_/#/auth/${action}/([\\w.-]+)"`));
  assert.ok(m, `no ${action} link in:\n${message.html}`);
  return m[1];
}

describe("auth methods, impersonate and email flows on the fixture", () => {
  let instance;
  let smtp;
  let su;

  before(async () => {
    ({ instance, smtp, su } = await startMailingFixture());
  });

  after(async () => {
    await instance?.stop();
    await smtp?.stop();
  });

  test("listAuthMethods", async () => {
    const pb = new PocketBase(instance.url);
    const methods = await pb.collection("users").listAuthMethods();
    assert.deepEqual(methods, {
      password: { identityFields: ["email"], enabled: true },
      oauth2: { providers: [], enabled: false },
      mfa: { enabled: false, duration: 0 },
      otp: { enabled: false, duration: 0 },
    });

    const err = await rejection(pb.collection("posts").listAuthMethods());
    assert.equal(err.status, 404);
    assert.equal(err.message, "Missing or invalid auth collection context.");
  });

  test("impersonate returns a client with a static token", async () => {
    const impersonated = await su.collection("users").impersonate(alice.id, 3600);
    assert.equal(impersonated.authStore.record.id, alice.id);
    assert.equal(impersonated.authStore.isValid, true);
    assert.equal(impersonated.authStore.isSuperuser, false);

    const payload = JSON.parse(Buffer.from(impersonated.authStore.token.split(".")[1], "base64url"));
    assert.equal(payload.refreshable, false);
    assert.equal(payload.type, "auth");
    assert.ok(Math.abs(payload.exp - (Date.now() / 1000 + 3600)) < 60);

    // the token authenticates, and auth-refresh echoes it
    const token = impersonated.authStore.token;
    const refreshed = await impersonated.collection("users").authRefresh();
    assert.equal(refreshed.token, token);

    // only superusers may impersonate
    const err = await rejection(impersonated.collection("users").impersonate(bob.id, 60));
    assert.equal(err.status, 403);
    const guest = await rejection(new PocketBase(instance.url).collection("users").impersonate(bob.id, 60));
    assert.equal(guest.status, 401);
  });

  test("requestVerification + confirmVerification", async () => {
    const pb = new PocketBase(instance.url);
    assert.equal(await pb.collection("users").requestVerification("nobody@example.com"), true);
    assert.equal(await pb.collection("users").requestVerification(bob.email), true);

    const mail = await smtp.next(bob.email);
    assert.deepEqual(mail.to, [bob.email]);
    assert.equal(mail.from, "support@example.com");
    assert.equal(mail.subject, "Verify your Acme email");
    const token = mailToken(mail, "confirm-verification");

    assert.equal(await pb.collection("users").confirmVerification(token), true);
    const record = await su.collection("users").getOne(bob.id);
    assert.equal(record.verified, true);

    const err = await rejection(pb.collection("users").confirmVerification("nope"));
    assert.equal(err.status, 400);
    assert.equal(err.response.data.token.code, "validation_invalid_token_claims"); // not even a JWT
  });

  test("requestPasswordReset + confirmPasswordReset", async () => {
    const pb = new PocketBase(instance.url);
    await pb.collection("users").authWithPassword(alice.email, alice.password);
    const oldToken = pb.authStore.token;

    assert.equal(await pb.collection("users").requestPasswordReset(alice.email), true);
    const token = mailToken(await smtp.next(alice.email), "confirm-password-reset");

    const mismatch = await rejection(pb.collection("users").confirmPasswordReset(token, "alice-new-pass", "other-pass"));
    assert.equal(mismatch.response.data.passwordConfirm.code, "validation_values_mismatch");

    assert.equal(await pb.collection("users").confirmPasswordReset(token, "alice-new-pass", "alice-new-pass"), true);

    // the old auth token is revoked; the new password logs in
    const stale = await rejection(pb.collection("users").authRefresh());
    assert.equal(stale.status, 401);
    const fresh = new PocketBase(instance.url);
    await fresh.collection("users").authWithPassword(alice.email, "alice-new-pass");
    assert.notEqual(fresh.authStore.token, oldToken);
    alice.password = "alice-new-pass";
  });

  test("requestEmailChange + confirmEmailChange", async () => {
    const pb = new PocketBase(instance.url);
    await pb.collection("users").authWithPassword(alice.email, alice.password);

    assert.equal(await pb.collection("users").requestEmailChange("alice-new@example.com"), true);
    const mail = await smtp.next("alice-new@example.com");
    assert.deepEqual(mail.to, ["alice-new@example.com"]);
    const token = mailToken(mail, "confirm-email-change");

    assert.equal(await pb.collection("users").confirmEmailChange(token, alice.password), true);
    assert.equal(pb.authStore.isValid, false); // the SDK clears its store on a match

    await pb.collection("users").authWithPassword("alice-new@example.com", alice.password);
    assert.equal(pb.authStore.record.email, "alice-new@example.com");
    assert.equal(await smtp.pending(), 0);
  });
});
