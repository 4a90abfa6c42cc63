// The records read API (list, view, filter, sort, expand, fields) through the SDK's
// collection() helpers, on a copy of the PocketBase v0.40.4 fixture, as a guest, as a
// user and as a superuser.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import PocketBase from "pocketbase";

import { startInstance, rejection } from "./harness.mjs";

const aliceID = "w2bx8e6qg38uo33";
const bobID = "lnunmjp2hn3cnvb";
const post1ID = "hxjy4dmsjikjbj4"; // alice's, published
const post3ID = "l6ul61ucsisx6po"; // alice's, unpublished

describe("records read API", () => {
  let instance;
  let guest;
  let alice;
  let admin;

  before(async () => {
    instance = await startInstance({ fixture: true });
    guest = new PocketBase(instance.url);
    alice = new PocketBase(instance.url);
    await alice.collection("users").authWithPassword("alice@example.com", "alice-pass-123");
    admin = new PocketBase(instance.url);
    await admin.collection("_superusers").authWithPassword("admin@example.com", "admin-pass-123");
  });

  after(async () => {
    await instance?.stop();
  });

  test("getList as a guest sees published posts only, in sort order", async () => {
    const page = await guest.collection("posts").getList(1, 5, { sort: "title" });
    assert.equal(page.page, 1);
    assert.equal(page.perPage, 5);
    assert.equal(page.totalItems, 8);
    assert.equal(page.totalPages, 2);
    assert.deepEqual(
      page.items.map((p) => p.title),
      ["Post number 1", "Post number 10", "Post number 11", "Post number 2", "Post number 4"],
    );
    assert.ok(page.items.every((p) => p.published === true));
    assert.deepEqual(page.items[0].location, { lon: 10.1, lat: 49.9 });
    assert.deepEqual(page.items[0].meta, { n: 1, nested: { even: false }, list: [1, 2] });
  });

  test("getList with pb.filter() and fields", async () => {
    const page = await guest.collection("posts").getList(1, 30, {
      filter: guest.filter("views > {:min} && status = {:status}", { min: 30, status: "live" }),
      sort: "views",
      fields: "id,title,views,status",
    });
    assert.equal(page.totalItems, 3);
    assert.deepEqual(page.items, [
      { id: "6c01v2p3z1xzw2y", title: "Post number 5", views: 50, status: "live" },
      { id: "wb0pypocxde64b4", title: "Post number 8", views: 80, status: "live" },
      { id: "h28jupnlezhvpn6", title: "Post number 11", views: 110, status: "live" },
    ]);
  });

  test("getFullList walks every page with skipTotal", async () => {
    const all = await admin.collection("comments").getFullList({ batch: 7, sort: "created" });
    assert.equal(all.length, 20);
    assert.equal(all[0].text, "Comment 0");
    assert.equal(all[19].text, "Comment 19");
  });

  test("getFirstListItem matches through a relation, and 404s locally when empty", async () => {
    const comment = await guest
      .collection("comments")
      .getFirstListItem(guest.filter("post.title = {:title}", { title: "Post number 7" }), { sort: "-created" });
    assert.equal(comment.post, "ry8exni8h8h21d1");

    const err = await rejection(guest.collection("comments").getFirstListItem('text = "no such comment"'));
    assert.equal(err.status, 404);
  });

  test("the owner sees her unpublished post, a guest gets 404", async () => {
    const post = await alice.collection("posts").getOne(post3ID);
    assert.equal(post.published, false);
    assert.equal(post.author, aliceID);

    const err = await rejection(guest.collection("posts").getOne(post3ID));
    assert.equal(err.status, 404);
  });

  test("expand: relations, viewRule per expanded record, back-relations", async () => {
    const posts = await alice.collection("posts").getList(1, 4, { sort: "-views", expand: "author,tags" });
    for (const p of posts.items) {
      assert.deepEqual(p.expand.tags.map((t) => t.id), p.tags);
      if (p.author === aliceID) {
        assert.equal(p.expand.author.email, "alice@example.com");
      } else {
        assert.equal(p.expand.author, undefined, "bob is not viewable by alice");
      }
    }

    const post = await admin.collection("posts").getOne(post1ID, { expand: "comments_via_post.author" });
    assert.deepEqual(
      post.expand.comments_via_post.map((c) => c.text),
      ["Comment 0", "Comment 7", "Comment 14"],
    );
    assert.equal(post.expand.comments_via_post[0].expand.author.id, bobID);
    assert.equal(post.expand.comments_via_post[0].expand.author.email, "bob@example.com", "superusers see hidden emails");
  });

  test("users: a guest lists nothing, alice herself, the superuser everyone", async () => {
    assert.equal((await guest.collection("users").getList()).totalItems, 0);

    const own = await alice.collection("users").getFullList();
    assert.deepEqual(own.map((u) => u.id), [aliceID]);

    const everyone = await admin.collection("users").getFullList({ sort: "name" });
    assert.deepEqual(everyone.map((u) => u.email), ["alice@example.com", "bob@example.com"]);
  });

  test("superuser-only collections and filters", async () => {
    let err = await rejection(guest.collection("_superusers").getList());
    assert.equal(err.status, 403);

    err = await rejection(alice.collection("posts").getList(1, 30, { filter: "@request.auth.id != ''" }));
    assert.equal(err.status, 403);
    assert.equal(err.response.message, "Only superusers can filter by @request.");

    const tags = await admin.collection("posts").getList(1, 30, { filter: "@collection.tags.label ?= 'sqlite' && @collection.tags.id ?= tags:each" });
    assert.equal(tags.totalItems, 4, "the four posts tagged sqlite");
  });

  test("view collection records", async () => {
    const stats = await guest.collection("post_stats").getFullList({ sort: "-comments,title" });
    assert.equal(stats.length, 12);
    assert.equal(stats[0].comments, 3);
    assert.equal(stats.at(-1).comments, 0);
  });
});
