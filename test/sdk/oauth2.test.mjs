// OAuth2 through the SDK against a real OpenID Provider on loopback: the testop program
// (instance/internal/oauth2/oauth2test/testop, built by `make build-testop`), which the
// users collection reaches through its generic "oidc" provider. Covers
// authWithOAuth2Code and the all-in-one authWithOAuth2 flow (realtime + /api/oauth2-redirect).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import PocketBase from "pocketbase";

import { installEventSource } from "./eventsource.mjs";
import { rejection, startInstance } from "./harness.mjs";

installEventSource();

const here = dirname(fileURLToPath(import.meta.url));
const testopBin = resolve(here, process.env.OAUTH2_TESTOP_BIN ?? "../../bin/oauth2-testop");

const admin = { email: "admin@example.com", password: "admin-pass-123" };

// startOP runs testop for redirectURI and resolves to {url, loginAs, stop}.
async function startOP(redirectURI) {
  if (!existsSync(testopBin)) {
    throw new Error(`${testopBin} not found: run \`make build-testop\` or set OAUTH2_TESTOP_BIN`);
  }
  const child = spawn(testopBin, ["-redirect", redirectURI], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  const lines = [];
  let wake = null;
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk) => {
    output += chunk;
    lines.push(...chunk.split("\n").filter(Boolean));
    wake?.();
  });
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise((r) => child.once("exit", r));

  const nextLine = async (prefix) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const i = lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) {
        return lines.splice(i, 1)[0];
      }
      if (Date.now() > deadline) {
        throw new Error(`testop: no "${prefix}" line:\n${output}`);
      }
      await new Promise((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };

  const url = (await nextLine("OP listening at ")).slice("OP listening at ".length);
  return {
    url,
    loginAs: async (id) => {
      child.stdin.write(`login ${id}\n`);
      await nextLine(`login as ${id}`);
    },
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

// followToRedirect plays the browser up to the redirect back to redirectURI, without
// loading it, and returns that URL.
async function followToRedirect(url, redirectURI) {
  for (let i = 0; i < 10; i++) {
    const res = await fetch(url, { redirect: "manual" });
    const location = res.headers.get("location");
    assert.ok(location, `no redirect from ${url} (${res.status})`);
    url = new URL(location, url).toString();
    if (url.startsWith(redirectURI)) {
      return new URL(url);
    }
  }
  throw new Error("too many redirects");
}

describe("OAuth2 with a loopback OpenID Provider", () => {
  let instance;
  let op;
  let redirectURI;

  before(async () => {
    instance = await startInstance({ fixture: true });
    redirectURI = `${instance.url}/api/oauth2-redirect`;
    op = await startOP(redirectURI);

    const su = new PocketBase(instance.url);
    await su.collection("_superusers").authWithPassword(admin.email, admin.password);
    await su.collections.update("users", {
      oauth2: {
        enabled: true,
        providers: [
          {
            name: "oidc",
            clientId: "pocketfleet",
            clientSecret: "pocketfleet-secret",
            authURL: `${op.url}/authorize`,
            tokenURL: `${op.url}/oauth/token`,
            userInfoURL: `${op.url}/userinfo`,
            displayName: "Loopback OP",
          },
        ],
      },
    });
  });

  after(async () => {
    await op?.stop();
    await instance?.stop();
  });

  test("listAuthMethods lists the provider with PKCE", async () => {
    const pb = new PocketBase(instance.url);
    const methods = await pb.collection("users").listAuthMethods();
    assert.equal(methods.oauth2.enabled, true);
    const [p] = methods.oauth2.providers;
    assert.equal(p.name, "oidc");
    assert.equal(p.displayName, "Loopback OP");
    assert.equal(p.codeChallengeMethod, "S256");
    assert.equal(p.codeVerifier.length, 43);
    assert.ok(p.authURL.startsWith(`${op.url}/authorize?client_id=pocketfleet&code_challenge=${p.codeChallenge}&`));
    assert.ok(p.authURL.endsWith(`&state=${p.state}&redirect_uri=`));
  });

  test("authWithOAuth2Code signs up, then signs in the same record", async () => {
    await op.loginAs("op-carol");
    const signIn = async () => {
      const pb = new PocketBase(instance.url);
      const methods = await pb.collection("users").listAuthMethods();
      const p = methods.oauth2.providers.find((x) => x.name === "oidc");
      const back = await followToRedirect(p.authURL + encodeURIComponent(redirectURI), redirectURI);
      assert.equal(back.searchParams.get("state"), p.state);
      const res = await pb
        .collection("users")
        .authWithOAuth2Code("oidc", back.searchParams.get("code"), p.codeVerifier, redirectURI, { emailVisibility: true });
      assert.equal(pb.authStore.isValid, true);
      assert.equal(pb.authStore.record.id, res.record.id);
      return res;
    };

    const first = await signIn();
    assert.equal(first.meta.isNew, true);
    assert.equal(first.meta.id, "op-carol");
    assert.equal(first.meta.email, "carol@example.com");
    assert.equal(first.record.email, "carol@example.com");
    assert.equal(first.record.name, "Carol Oidc");
    assert.equal(first.record.verified, true);
    assert.equal(first.record.emailVisibility, true);

    const second = await signIn();
    assert.equal(second.meta.isNew, false);
    assert.equal(second.record.id, first.record.id);
  });

  test("a code exchanged with the wrong verifier is refused", async () => {
    await op.loginAs("op-carol");
    const pb = new PocketBase(instance.url);
    const methods = await pb.collection("users").listAuthMethods();
    const p = methods.oauth2.providers[0];
    const back = await followToRedirect(p.authURL + encodeURIComponent(redirectURI), redirectURI);
    const err = await rejection(
      pb.collection("users").authWithOAuth2Code("oidc", back.searchParams.get("code"), "x".repeat(43), redirectURI),
    );
    assert.equal(err.status, 400);
    assert.equal(err.message, "Failed to fetch OAuth2 token.");
    assert.equal(pb.authStore.isValid, false);
  });

  test("authWithOAuth2 all in one: realtime @oauth2 and /api/oauth2-redirect", async () => {
    await op.loginAs("op-dave");
    const pb = new PocketBase(instance.url);
    const hops = [];
    const res = await pb.collection("users").authWithOAuth2({
      provider: "oidc",
      urlCallback: async (url) => {
        // the "browser": through the OP's login to /api/oauth2-redirect
        for (let i = 0; i < 10; i++) {
          const r = await fetch(url, { redirect: "manual" });
          const location = r.headers.get("location");
          hops.push({ from: url, status: r.status, location, body: location ? "" : await r.text() });
          if (!location || url.startsWith(`${instance.url}/api/oauth2-redirect?`)) {
            break;
          }
          url = new URL(location, url).href;
        }
      },
    });
    // PocketBase with its dashboard bundled sends the browser on to the dashboard's
    // "close this window" page; without one (as ours) it answers with that text itself
    const last = hops.at(-1);
    assert.ok(last.from.startsWith(`${instance.url}/api/oauth2-redirect?`), JSON.stringify(hops));
    if (last.status === 307) {
      assert.equal(last.location, "../_/#/auth/oauth2-redirect-success");
    } else {
      assert.equal(last.status, 200);
      assert.equal(last.body, "Auth completed. You can close this window and go back to the app.");
    }
    assert.equal(res.meta.isNew, true);
    assert.equal(res.record.email, "dave@example.com");
    assert.equal(pb.authStore.record.id, res.record.id);
  });
});
