// Starts the already-built instance binary for one test file and stops it afterwards.
// It builds nothing: `make test-sdk` builds bin/instance first. INSTANCE_BIN overrides
// the binary's path. Each instance gets a fresh temporary data directory (optionally a
// copy of the PocketBase v0.40.4 fixture) and a free loopback port.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import PocketBase, { ClientResponseError } from "pocketbase";

const here = dirname(fileURLToPath(import.meta.url));

export const instanceBin = resolve(here, process.env.INSTANCE_BIN ?? "../../bin/instance");

const fixtureRel = join("shared", "fixtures", "pocketbase-v0.40", "pb_data");

// fixtureDir finds the shared fixture: POCKETFLEET_PB_FIXTURE, or shared/ in an ancestor
// folder (it sits beside the repository).
export function fixtureDir() {
  if (process.env.POCKETFLEET_PB_FIXTURE) {
    return process.env.POCKETFLEET_PB_FIXTURE;
  }
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, fixtureRel);
    if (existsSync(join(candidate, "data.db"))) {
      return candidate;
    }
    if (dirname(dir) === dir) {
      throw new Error(`PocketBase fixture ${fixtureRel} not found above ${here}; set POCKETFLEET_PB_FIXTURE`);
    }
  }
}

// makeWritable gives the owner write access to a copied tree (the shared fixture is
// read-only, and serving writes to the data directory).
function makeWritable(path) {
  const st = statSync(path);
  chmodSync(path, st.mode | 0o200);
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) {
      makeWritable(join(path, name));
    }
  }
}

const startTimeoutMs = 15_000;

// startInstance serves a new instance and resolves to {url, dataDir, stop, output}.
// Options: fixture (copy the PocketBase fixture into the data directory), env (extra
// environment variables, e.g. PB_SUPERUSER_EMAIL / PB_SUPERUSER_PASSWORD).
export async function startInstance({ fixture = false, env = {} } = {}) {
  if (!existsSync(instanceBin)) {
    throw new Error(`instance binary ${instanceBin} not found: run \`make build-instance\` or set INSTANCE_BIN`);
  }

  const tmp = mkdtempSync(join(tmpdir(), "pocketfleet-sdk-"));
  const dataDir = join(tmp, "pb_data");
  if (fixture) {
    cpSync(fixtureDir(), dataDir, { recursive: true });
    makeWritable(dataDir);
  }

  // Stock PocketBase (INSTANCE_BIN=$(hack/pocketbase.sh) with SDK_REFERENCE=1, to check
  // that the suite asserts PocketBase's behaviour) reads no PB_SUPERUSER_* variables and
  // prints the address it was given: the superuser is upserted by the CLI first, and the
  // port is picked here. Otherwise port 0: the kernel picks, and the banner tells which.
  let addr = "127.0.0.1:0";
  if (process.env.SDK_REFERENCE === "1") {
    addr = `127.0.0.1:${await freePort()}`;
    if (env.PB_SUPERUSER_EMAIL) {
      execFileSync(instanceBin, ["superuser", "upsert", env.PB_SUPERUSER_EMAIL, env.PB_SUPERUSER_PASSWORD, "--dir", dataDir]);
    }
  }
  const child = spawn(instanceBin, ["serve", "--http", addr, "--dir", dataDir], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });

  let output = "";
  const exited = new Promise((resolveExit) => child.once("exit", (code, signal) => resolveExit({ code, signal })));

  const url = await new Promise((resolveURL, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not start in ${startTimeoutMs} ms:\n${output}`)), startTimeoutMs);
    const onData = (chunk) => {
      output += chunk;
      const m = output.match(/Server started at (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolveURL(m[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => (output += chunk));
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`instance exited (${code ?? signal}) before serving:\n${output}`));
    });
  });

  await waitHealthy(url);

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(tmp, { recursive: true, force: true });
  };

  return { url, dataDir, stop, output: () => output };
}

// freePort asks the kernel for a free loopback port.
function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

async function waitHealthy(url) {
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${url}/api/health did not answer 200 in ${startTimeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

// rejection awaits a request that must fail and returns the SDK's ClientResponseError.
export async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ClientResponseError, `want ClientResponseError, got ${err}`);
    return err;
  }
  assert.fail("the request succeeded");
}

export const mailcatcherBin = resolve(here, process.env.MAILCATCHER_BIN ?? "../../bin/mailcatcher");

// startMailCatcher runs the Go SMTP server of the suite (test/sdk/mailcatcher, built by
// `make test-sdk`) and resolves to {smtpPort, next(to), pending(), stop}. next resolves
// to the oldest undelivered message to the address as {from, to, subject, text, html}
// (failing after 10 s); pending tells how many messages are left.
export async function startMailCatcher() {
  if (!existsSync(mailcatcherBin)) {
    throw new Error(`mail catcher ${mailcatcherBin} not found: run \`make test-sdk\` or set MAILCATCHER_BIN`);
  }
  const child = spawn(mailcatcherBin, [], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise((resolveExit) => child.once("exit", resolveExit));
  const { smtpPort, httpURL } = await new Promise((resolveAddr, reject) => {
    const timer = setTimeout(() => reject(new Error(`mail catcher did not start:\n${output}`)), startTimeoutMs);
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const smtp = output.match(/^SMTP 127\.0\.0\.1:(\d+)$/m);
      const http = output.match(/^HTTP (http:\/\/\S+)$/m);
      if (smtp && http) {
        clearTimeout(timer);
        resolveAddr({ smtpPort: Number(smtp[1]), httpURL: http[1] });
      }
    });
    child.stderr.on("data", (chunk) => (output += chunk));
    exited.then(() => reject(new Error(`mail catcher exited:\n${output}`)));
  });

  return {
    smtpPort,
    next: async (to = "") => {
      const res = await fetch(`${httpURL}/messages/next?timeout=10s&to=${encodeURIComponent(to)}`);
      assert.equal(res.status, 200, `no mail to ${to || "anyone"} within 10s`);
      return res.json();
    },
    pending: async () => Number(await (await fetch(`${httpURL}/messages/count`)).text()),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

// fixtureAdmin is the superuser of the PocketBase fixture.
export const fixtureAdmin = { email: "admin@example.com", password: "admin-pass-123" };

// startMailingFixture starts the mail catcher and a fixture instance that mails through
// it, and resolves to {instance, smtp, su}, su being an SDK client logged in as the
// fixture's superuser. Stop both with instance.stop() and smtp.stop().
export async function startMailingFixture() {
  const smtp = await startMailCatcher();
  const instance = await startInstance({ fixture: true });
  const su = new PocketBase(instance.url);
  await su.collection("_superusers").authWithPassword(fixtureAdmin.email, fixtureAdmin.password);
  await su.settings.update({ smtp: { enabled: true, host: "127.0.0.1", port: smtp.smtpPort, tls: false } });

  return { instance, smtp, su };
}
