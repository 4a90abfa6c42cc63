// Package core is the instance's domain layer: the PocketBase-compatible data
// directory (data.db and auxiliary.db), its system schema and migrations, and the
// operations on records, starting with superusers. Collections, the field registry,
// API rules and record CRUD will grow here.
//
// core never imports net/http, gin or httpapi; errors it returns are plain Go errors
// (ValidationErrors for invalid input, sentinels such as ErrSuperuserNotFound) that the
// HTTP layer maps to PocketBase's error shape.
package core
