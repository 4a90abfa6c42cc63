// One-time passwords and the MFA two-step login through the SDK, with the codes read
// from the mails the instance sends to the suite's SMTP server (mailcatcher).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import PocketBase from "pocketbase";

import { rejection, startMailingFixture } from "./harness.mjs";

const alice = { id: "w2bx8e6qg38uo33", email: "alice@example.com", password: "alice-pass-123" };
const bob = { id: "lnunmjp2hn3cnvb", email: "bob@example.com", password: "bob-pass-1234" };

function otpCode(message) {
  const m = message.html.match(/<strong>(\d+)<\/strong>/);
  assert.ok(m, `no code in:\n${message.html}`);
  return m[1];
}

describe("OTP and MFA", () => {
  let instance;
  let smtp;
  let su;

  before(async () => {
    ({ instance, smtp, su } = await startMailingFixture());
    await su.collections.update("users", { otp: { enabled: true, duration: 300, length: 6 } });
  });

  after(async () => {
    await instance?.stop();
    await smtp?.stop();
  });

  test("listAuthMethods shows OTP", async () => {
    const methods = await new PocketBase(instance.url).collection("users").listAuthMethods();
    assert.deepEqual(methods.otp, { enabled: true, duration: 300 });
  });

  test("requestOTP + authWithOTP verify bob", async () => {
    const pb = new PocketBase(instance.url);
    const { otpId } = await pb.collection("users").requestOTP(bob.email);
    assert.equal(otpId.length, 15);

    const mail = await smtp.next(bob.email);
    assert.equal(mail.subject, "OTP for Acme");
    const code = otpCode(mail);
    assert.match(code, /^\d{6}$/);

    const wrong = await rejection(pb.collection("users").authWithOTP(otpId, code === "000000" ? "111111" : "000000"));
    assert.equal(wrong.status, 400);
    assert.equal(wrong.message, "Invalid or expired OTP.");

    const auth = await pb.collection("users").authWithOTP(otpId, code);
    assert.equal(auth.record.id, bob.id);
    assert.equal(auth.record.verified, true);
    assert.equal(pb.authStore.isValid, true);
    assert.equal(pb.authStore.record.id, bob.id);

    const reused = await rejection(new PocketBase(instance.url).collection("users").authWithOTP(otpId, code));
    assert.equal(reused.status, 400);
    assert.equal(reused.message, "Invalid or expired OTP.");
  });

  test("an unknown email gets an otpId and no mail", async () => {
    const pb = new PocketBase(instance.url);
    const { otpId } = await pb.collection("users").requestOTP("nobody@example.com");
    assert.equal(otpId.length, 15);
    const err = await rejection(pb.collection("users").authWithOTP(otpId, "123456"));
    assert.equal(err.status, 400);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await smtp.pending(), 0);
  });

  test("MFA: password then OTP", async () => {
    await su.collections.update("users", { mfa: { enabled: true } });
    try {
      const pb = new PocketBase(instance.url);
      const first = await rejection(pb.collection("users").authWithPassword(alice.email, alice.password));
      assert.equal(first.status, 401);
      const mfaId = first.response.mfaId;
      assert.equal(mfaId.length, 15);
      assert.equal(pb.authStore.isValid, false);

      // the same method twice is refused
      const twice = await rejection(pb.collection("users").authWithPassword(alice.email, alice.password, { mfaId }));
      assert.equal(twice.status, 400);
      assert.equal(twice.message, "A different authentication method is required.");

      const { otpId } = await pb.collection("users").requestOTP(alice.email);
      const code = otpCode(await smtp.next(alice.email));
      const auth = await pb.collection("users").authWithOTP(otpId, code, { mfaId });
      assert.equal(auth.record.id, alice.id);
      assert.equal(pb.authStore.isValid, true);

      // the MFA session is used up
      const again = await rejection(
        new PocketBase(instance.url).collection("users").authWithPassword(alice.email, alice.password, { mfaId }),
      );
      assert.equal(again.message, "Invalid or expired MFA session.");
    } finally {
      await su.collections.update("users", { mfa: { enabled: false } });
    }
  });
});
