// Package httpapi is the instance's HTTP layer: a gin engine that answers PocketBase
// v0.40's Web API on the wire (routes, JSON shapes, headers and status codes).
//
// NewRouter builds the whole engine, route table included, in one place (Gotify's
// router.Create style); handlers per resource live in <resource>.go and
// <resource>_<action>.go. Handlers return error, and a single middleware writes every
// error in PocketBase's {"data":{},"message":"…","status":N} shape (ApiError). This is
// the only package that imports gin.
package httpapi
