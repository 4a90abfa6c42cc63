// Record files through the SDK against a copy of the PocketBase v0.40.4 fixture
// (shared/fixtures/pocketbase-v0.40/README.md): uploads with File/Blob and FormData,
// pb.files.getURL with thumbs, file tokens for protected files, and removal with
// "field-".
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { deflateSync } from "node:zlib";

import PocketBase from "pocketbase";

import { rejection, startInstance } from "./harness.mjs";

const aliceID = "w2bx8e6qg38uo33";

// crc32 is the PNG chunk checksum.
function crc32(buf) {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    }
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "ascii");
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

// makePNG returns a valid w×h RGB PNG.
function makePNG(w, h) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows = Buffer.alloc(h * (1 + 3 * w));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      rows.set([x % 256, y % 256, 128], y * (1 + 3 * w) + 1 + 3 * x);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

// pngSize reads the width and height from a PNG's IHDR.
function pngSize(buf) {
  assert.equal(buf.subarray(1, 4).toString("ascii"), "PNG");
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

describe("files", () => {
  let instance;

  before(async () => {
    instance = await startInstance({ fixture: true });
  });

  after(async () => {
    await instance?.stop();
  });

  async function as(email, password) {
    const pb = new PocketBase(instance.url);
    await pb.collection("users").authWithPassword(email, password);
    return pb;
  }

  test("create with File objects, then getURL with a thumb", async () => {
    const pb = await as("alice@example.com", "alice-pass-123");
    const png = makePNG(300, 200);

    const created = await pb.collection("posts").create({
      title: "With a cover",
      author: aliceID,
      published: true,
      cover: new File([png], "Holiday Photo.png", { type: "image/png" }),
      attachments: [new File(["one"], "one.txt"), new Blob(["two"], { type: "text/plain" })],
    });
    assert.match(created.cover, /^holiday_photo_[a-z0-9]{10}\.png$/);
    assert.equal(created.attachments.length, 2);
    assert.match(created.attachments[0], /^one_[a-z0-9]{10}\.txt$/);

    const original = await fetch(pb.files.getURL(created, created.cover));
    assert.equal(original.status, 200);
    assert.equal(original.headers.get("content-type"), "image/png");
    assert.equal(original.headers.get("content-disposition"), `inline; filename="${created.cover}"`);
    assert.deepEqual(Buffer.from(await original.arrayBuffer()), png);

    const thumbURL = pb.files.getURL(created, created.cover, { thumb: "100x100" });
    assert.ok(thumbURL.endsWith(`/api/files/${created.collectionId}/${created.id}/${created.cover}?thumb=100x100`), thumbURL);
    const thumb = await fetch(thumbURL);
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get("content-disposition"), `inline; filename="100x100_${created.cover}"`);
    assert.deepEqual(pngSize(Buffer.from(await thumb.arrayBuffer())), [100, 100]);

    const unlisted = await fetch(pb.files.getURL(created, created.cover, { thumb: "50x50" }));
    assert.deepEqual(pngSize(Buffer.from(await unlisted.arrayBuffer())), [300, 200]);

    const download = await fetch(pb.files.getURL(created, created.cover, { download: true }));
    assert.equal(download.headers.get("content-disposition"), `attachment; filename="${created.cover}"`);
  });

  test("create with FormData", async () => {
    const pb = await as("alice@example.com", "alice-pass-123");
    const form = new FormData();
    form.append("title", "From FormData");
    form.append("author", aliceID);
    form.append("attachments", new Blob(["hello"]), "hello.txt");
    form.append("attachments", new Blob(["world"]), "world.txt");

    const created = await pb.collection("posts").create(form);
    assert.equal(created.title, "From FormData");
    assert.match(created.attachments[0], /^hello_[a-z0-9]{10}\.txt$/);
    assert.match(created.attachments[1], /^world_[a-z0-9]{10}\.txt$/);
  });

  test("protected files need a file token that passes the view rule", async () => {
    const alice = await as("alice@example.com", "alice-pass-123");
    const bob = await as("bob@example.com", "bob-pass-1234");

    const draft = await alice.collection("posts").create({
      title: "Draft",
      author: aliceID,
      published: false,
      attachments: [new File(["secret notes"], "secret.txt")],
    });
    const name = draft.attachments[0];

    const noToken = await fetch(alice.files.getURL(draft, name));
    assert.equal(noToken.status, 404);
    assert.deepEqual(await noToken.json(), { data: {}, message: "The requested resource wasn't found.", status: 404 });

    const token = await alice.files.getToken();
    const withToken = await fetch(alice.files.getURL(draft, name, { token }));
    assert.equal(withToken.status, 200);
    assert.equal(await withToken.text(), "secret notes");
    assert.equal(withToken.headers.get("content-disposition"), `attachment; filename="${name}"`);

    const bobToken = await bob.files.getToken();
    const other = await fetch(bob.files.getURL(draft, name, { token: bobToken }));
    assert.equal(other.status, 404);

    const guest = new PocketBase(instance.url);
    const err = await rejection(guest.files.getToken());
    assert.equal(err.status, 401);
  });

  test("update with field+ and field- adds and removes files", async () => {
    const pb = await as("alice@example.com", "alice-pass-123");
    const post = await pb.collection("posts").create({
      title: "Files to change",
      author: aliceID,
      published: true,
      attachments: [new File(["a"], "a1.txt"), new File(["b"], "b1.txt")],
    });
    const [first, second] = post.attachments;

    const appended = await pb.collection("posts").update(post.id, { "attachments+": new File(["c"], "c1.txt") });
    assert.equal(appended.attachments.length, 3);
    assert.deepEqual(appended.attachments.slice(0, 2), [first, second]);

    const removed = await pb.collection("posts").update(post.id, { "attachments-": [first] });
    assert.deepEqual(removed.attachments, [second, appended.attachments[2]]);

    const gone = await fetch(pb.files.getURL(removed, first));
    assert.equal(gone.status, 404);
    const kept = await fetch(pb.files.getURL(removed, second));
    assert.equal(await kept.text(), "b");
  });

  test("invalid uploads are refused with PocketBase's errors", async () => {
    const pb = await as("alice@example.com", "alice-pass-123");

    const spoofed = await rejection(
      pb.collection("posts").create({
        title: "Spoofed",
        author: aliceID,
        cover: new File(["<svg onload=alert(1)>"], "evil.png", { type: "image/png" }),
      }),
    );
    assert.equal(spoofed.status, 400);
    assert.equal(spoofed.response.data.cover.code, "validation_invalid_mime_type");
    assert.match(spoofed.response.data.cover.message, /^"evil_[a-z0-9]{10}\.png" mime type must be one of: image\/png\.$/);

    const tooMany = await rejection(
      pb.collection("posts").create({
        title: "Many",
        author: aliceID,
        attachments: ["1", "2", "3", "4", "5", "6"].map((n) => new File([n], `${n}.txt`)),
      }),
    );
    assert.deepEqual(tooMany.response.data.attachments, {
      code: "validation_too_many_files",
      message: "The maximum allowed files is 5.",
      params: { maxSelect: 5 },
    });
  });
});
