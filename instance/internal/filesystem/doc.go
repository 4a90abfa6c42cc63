// Package filesystem stores the files of record file fields as PocketBase does
// (tools/filesystem): uploads with PocketBase's sanitised names and random suffix, kept
// under the data directory's storage/ folder as "<collectionId>/<recordId>/<name>" with a
// "<name>.attrs" JSON sidecar byte-compatible with PocketBase's fileblob driver, the
// content type detected from the content, and image thumbs made with
// disintegration/imaging in PocketBase's six formats (WxH, WxHt, WxHb, WxHf, 0xH, Wx0).
//
// Every path goes through an os.Root opened on the storage folder, so no key can name a
// file outside it. It is a leaf package: it knows nothing of records or HTTP.
package filesystem
