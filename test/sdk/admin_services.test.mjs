// The SDK's superuser services against the PocketBase fixture: sql, backups, logs and
// crons.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";

import PocketBase, { ClientResponseError } from "pocketbase";

import { fixtureAdmin, rejection, startInstance } from "./harness.mjs";

const postID = "hxjy4dmsjikjbj4"; // "Post number 1" of the fixture

// eventually polls fn until it returns a truthy value (the logs are written in batches).
async function eventually(what, fn, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not seen within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("superuser services on the fixture", () => {
  let instance;
  let pb;

  before(async () => {
    instance = await startInstance({ fixture: true });
    pb = new PocketBase(instance.url);
    await pb.collection("_superusers").authWithPassword(fixtureAdmin.email, fixtureAdmin.password);
  });

  after(async () => {
    await instance?.stop();
  });

  test("sql.run is for superusers only", async () => {
    const guest = new PocketBase(instance.url);
    const err = await rejection(guest.sql.run("select 1"));
    assert.ok(err instanceof ClientResponseError);
    assert.equal(err.status, 401);
    assert.equal(err.message, "The request requires valid record authorization token.");
  });

  test("sql.run select", async () => {
    const res = await pb.sql.run(`SELECT id, title, views, NULL AS missing FROM posts WHERE id = '${postID}'`);
    assert.equal(typeof res.execTime, "number");
    assert.equal(res.affectedRows, 0);
    assert.deepEqual(res.columns, [
      { name: "id", type: "TEXT", nullable: true },
      { name: "title", type: "TEXT", nullable: true },
      { name: "views", type: "NUMERIC", nullable: true },
      { name: "missing", type: "", nullable: true },
    ]);
    assert.deepEqual(res.rows, [[postID, "Post number 1", "10", null]]);
  });

  test("sql.run write is seen by the records API", async () => {
    const before = await pb.collection("posts").getOne(postID);
    assert.equal(before.title, "Post number 1");

    const res = await pb.sql.run(`UPDATE posts SET title = 'changed by sql' WHERE id = '${postID}'`);
    assert.equal(res.affectedRows, 1);
    assert.deepEqual(res.columns, []);
    assert.deepEqual(res.rows, []);

    const after = await pb.collection("posts").getOne(postID);
    assert.equal(after.title, "changed by sql");
  });

  test("sql.run failure", async () => {
    const err = await rejection(pb.sql.run("SELEC oops"));
    assert.equal(err.status, 400);
    assert.match(err.message, /^Failed to execute query\. Raw error:\nSQL logic error: near "SELEC": syntax error/);
    assert.deepEqual(err.response.data, {});

    const invalid = await rejection(pb.sql.run(""));
    assert.equal(invalid.status, 400);
    assert.equal(invalid.response.data.query.code, "validation_required");
  });

  test("backups create, list, download and delete", async () => {
    const key = "sdk_admin_services.zip";
    assert.equal(await pb.backups.create(key), true);

    const list = await pb.backups.getFullList();
    const item = list.find((b) => b.key === key);
    assert.ok(item, `backup ${key} missing from ${JSON.stringify(list)}`);
    assert.ok(item.size > 0);
    assert.equal(typeof item.modified, "string");

    const token = await pb.files.getToken();
    assert.ok(token);
    const res = await fetch(pb.backups.getDownloadURL(token, key));
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.length, item.size);
    assert.equal(bytes.subarray(0, 2).toString("latin1"), "PK");

    const noToken = await fetch(pb.backups.getDownloadURL("", key));
    assert.equal(noToken.status, 403);

    assert.equal(await pb.backups.delete(key), true);
    assert.equal((await pb.backups.getFullList()).some((b) => b.key === key), false);
  });

  test("logs getList, getOne and getStats", async () => {
    const marker = `sdk-log-marker-${randomBytes(6).toString("hex")}`;
    const guest = new PocketBase(instance.url);
    const miss = await rejection(guest.send(`/api/${marker}`, { method: "GET" }));
    assert.equal(miss.status, 404);

    const filter = `data.url ~ "${marker}"`;
    const list = await eventually("request log", async () => {
      const l = await pb.logs.getList(1, 10, { filter });
      return l.items.length > 0 ? l : null;
    });
    assert.equal(list.page, 1);
    assert.equal(list.totalItems, 1);
    const log = list.items[0];
    assert.equal(log.data.status, 404);
    assert.equal(log.data.method, "GET");
    assert.equal(log.data.url, `/api/${marker}`);

    const one = await pb.logs.getOne(log.id);
    assert.deepEqual(one, log);

    const missing = await rejection(pb.logs.getOne("missinglogid000"));
    assert.equal(missing.status, 404);

    const stats = await pb.logs.getStats({ filter });
    assert.equal(stats.length, 1);
    assert.equal(stats[0].total, 1);
    assert.match(stats[0].date, /^\d{4}-\d{2}-\d{2} \d{2}:00:00\.000Z$/);
  });

  test("logs truncate", async () => {
    const marker = `sdk-truncate-marker-${randomBytes(6).toString("hex")}`;
    const guest = new PocketBase(instance.url);
    await rejection(guest.send(`/api/${marker}`, { method: "GET" }));
    const filter = `data.url ~ "${marker}"`;
    await eventually("request log", async () => (await pb.logs.getList(1, 1, { filter })).totalItems === 1);

    assert.equal(await pb.logs.truncate(), true);
    assert.equal((await pb.logs.getList(1, 1, { filter })).totalItems, 0);

    const forbidden = await rejection(guest.logs.truncate());
    assert.equal(forbidden.status, 401);
  });

  test("crons getFullList and run", async () => {
    const jobs = await pb.crons.getFullList();
    const ids = jobs.map((j) => j.id);
    for (const id of ["__pbDBOptimize__", "__pbMFACleanup__", "__pbOTPCleanup__", "__pbLogsCleanup__"]) {
      assert.ok(ids.includes(id), `${id} missing from ${ids}`);
    }
    assert.equal(jobs.find((j) => j.id === "__pbLogsCleanup__").expression, "0 */6 * * *");

    assert.equal(await pb.crons.run("__pbLogsCleanup__"), true);

    const err = await rejection(pb.crons.run("missing"));
    assert.equal(err.status, 404);
    assert.equal(err.message, "Missing or invalid cron job.");
  });

  // Last: it replaces the instance's data. A backup is uploaded under a new name and
  // restored in place (the records created after it are gone); an upload that is a zip
  // in name only restores nothing and leaves the data as it was.
  test("backups upload and restore, and a failed restore keeps the data", async () => {
    const tag = await pb.collection("tags").create({ label: "before-backup" });
    assert.equal(await pb.backups.create("sdk_restore_src.zip"), true);
    const token = await pb.files.getToken();
    const zip = Buffer.from(await (await fetch(pb.backups.getDownloadURL(token, "sdk_restore_src.zip"))).arrayBuffer());

    assert.equal(await pb.backups.upload({ file: new File([zip], "sdk_uploaded.zip", { type: "application/zip" }) }), true);
    assert.ok((await pb.backups.getFullList()).some((b) => b.key === "sdk_uploaded.zip"));
    const dup = await rejection(pb.backups.upload({ file: new File([zip], "sdk_uploaded.zip", { type: "application/zip" }) }));
    assert.equal(dup.status, 400);
    assert.equal(dup.response.data.file.code, "validation_backup_name_exists");
    const notZip = await rejection(pb.backups.upload({ file: new File(["plain text"], "sdk_text.zip") }));
    assert.equal(notZip.status, 400);
    assert.equal(notZip.response.data.file.code, "validation_invalid_mime_type");

    const after = await pb.collection("tags").create({ label: "after-backup" });
    assert.equal(await pb.backups.restore("sdk_uploaded.zip"), true);
    await eventually("the restore", async () => {
      try {
        await pb.collection("tags").getOne(after.id);
        return false;
      } catch (err) {
        return err.status === 404;
      }
    });
    assert.equal((await pb.collection("tags").getOne(tag.id)).label, "before-backup");

    // the backup with bytes of its compressed data.db flipped: still a zip to the upload's
    // type check (its header is intact), but the restore fails in the background
    const broken = Buffer.from(zip);
    for (let i = 200; i < 260; i++) {
      broken[i] ^= 0xff;
    }
    assert.equal(await pb.backups.upload({ file: new File([broken], "sdk_broken.zip", { type: "application/zip" }) }), true);
    const kept = await pb.collection("tags").create({ label: "kept" });
    assert.equal(await pb.backups.restore("sdk_broken.zip"), true);
    await eventually("the failed restore's log", async () => {
      const l = await pb.logs.getList(1, 1, { filter: 'message ~ "Failed to restore backup"' });
      return l.items.length > 0;
    });
    assert.equal((await pb.collection("tags").getOne(kept.id)).label, "kept");
    const late = await pb.collection("tags").create({ label: "still writable" });
    assert.equal(late.label, "still writable");
  });
});
