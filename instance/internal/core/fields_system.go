package core

import (
	"hash/crc32"
	"strconv"
)

// Names of the fields every auth collection has (core/record_model_auth.go and
// core/collection_model.go), plus the autodate fields the system collections add.
const (
	// FieldNameID is the primary key field.
	FieldNameID = "id"
	// FieldNamePassword holds the bcrypt password hash of an auth record.
	FieldNamePassword = "password"
	// FieldNameTokenKey holds the per-record part of the token signing key.
	FieldNameTokenKey = "tokenKey"
	// FieldNameEmail holds an auth record's email.
	FieldNameEmail = "email"
	// FieldNameEmailVisibility says whether other users may see the email.
	FieldNameEmailVisibility = "emailVisibility"
	// FieldNameVerified says whether the email was verified.
	FieldNameVerified = "verified"
	// FieldNameCreated is the creation autodate.
	FieldNameCreated = "created"
	// FieldNameUpdated is the update autodate.
	FieldNameUpdated = "updated"
)

// Defaults of the auth system fields.
const (
	// RecordIDLength is the length of generated record ids.
	RecordIDLength = 15
	// TokenKeyLength is the length of generated token keys.
	TokenKeyLength = 50
	// authPasswordMinDefault is the password min of a new auth collection.
	authPasswordMinDefault = 8
	// passwordMaxDefault is what a password field's max of 0 means (bcrypt's limit of
	// 72 bytes, minus one).
	passwordMaxDefault = 71
)

// fieldID returns a system field's id: its type followed by the CRC-32 of its name
// (e.g. "text3208210256" for id), as PocketBase's migrations normalize them.
func fieldID(typ, name string) string {
	return typ + strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(name))), 10)
}

// collectionID returns a system collection's id: "pbc_" followed by the CRC-32 of its
// type and name (e.g. "pbc_3142635823" for the auth collection _superusers).
func collectionID(typ, name string) string {
	return "pbc_" + strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(typ+name))), 10)
}

// fieldJSON is one field as stored in a collection's `fields` column. PocketBase writes
// field options with sorted keys, which a map reproduces.
type fieldJSON map[string]any

type fieldFlags struct {
	system   bool
	hidden   bool
	required bool
}

type textOpts struct {
	fieldFlags
	primaryKey   bool
	min, max     int
	pattern      string
	autogenerate string
}

func textField(name string, o textOpts) fieldJSON {
	return fieldJSON{
		"autogeneratePattern": o.autogenerate,
		"help":                "",
		"hidden":              o.hidden,
		"id":                  fieldID("text", name),
		"max":                 o.max,
		"min":                 o.min,
		"name":                name,
		"pattern":             o.pattern,
		"presentable":         false,
		"primaryKey":          o.primaryKey,
		"required":            o.required,
		"system":              o.system,
		"type":                "text",
	}
}

type passwordOpts struct {
	fieldFlags
	min, max, cost int
}

func passwordField(name string, o passwordOpts) fieldJSON {
	return fieldJSON{
		"cost":        o.cost,
		"help":        "",
		"hidden":      o.hidden,
		"id":          fieldID("password", name),
		"max":         o.max,
		"min":         o.min,
		"name":        name,
		"pattern":     "",
		"presentable": false,
		"required":    o.required,
		"system":      o.system,
		"type":        "password",
	}
}

func emailField(name string, o fieldFlags) fieldJSON {
	return fieldJSON{
		"exceptDomains": []string{},
		"help":          "",
		"hidden":        o.hidden,
		"id":            fieldID("email", name),
		"name":          name,
		"onlyDomains":   []string{},
		"presentable":   false,
		"required":      o.required,
		"system":        o.system,
		"type":          "email",
	}
}

func boolField(name string, o fieldFlags) fieldJSON {
	return fieldJSON{
		"help":        "",
		"hidden":      o.hidden,
		"id":          fieldID("bool", name),
		"name":        name,
		"presentable": false,
		"required":    o.required,
		"system":      o.system,
		"type":        "bool",
	}
}

// autodateField is a created/updated stamp; every PocketBase autodate field is set on
// create, and onUpdate says whether it is refreshed on update too.
func autodateField(name string, system, onUpdate bool) fieldJSON {
	return fieldJSON{
		"hidden":      false,
		"id":          fieldID("autodate", name),
		"name":        name,
		"onCreate":    true,
		"onUpdate":    onUpdate,
		"presentable": false,
		"system":      system,
		"type":        "autodate",
	}
}

type fileOpts struct {
	fieldFlags
	maxSelect int
	maxSize   int
	mimeTypes []string
	thumbs    []string
	protected bool
}

func fileField(name string, o fileOpts) fieldJSON {
	if o.mimeTypes == nil {
		o.mimeTypes = []string{}
	}
	if o.thumbs == nil {
		o.thumbs = []string{}
	}

	return fieldJSON{
		"help":        "",
		"hidden":      o.hidden,
		"id":          fieldID("file", name),
		"maxSelect":   o.maxSelect,
		"maxSize":     o.maxSize,
		"mimeTypes":   o.mimeTypes,
		"name":        name,
		"presentable": false,
		"protected":   o.protected,
		"required":    o.required,
		"system":      o.system,
		"thumbs":      o.thumbs,
		"type":        "file",
	}
}

// idField is the primary key every collection starts with.
func idField() fieldJSON {
	return textField(FieldNameID, textOpts{
		fieldFlags:   fieldFlags{system: true, required: true},
		primaryKey:   true,
		min:          RecordIDLength,
		max:          RecordIDLength,
		pattern:      "^[a-z0-9]+$",
		autogenerate: "[a-z0-9]{15}",
	})
}

// authFields are the system fields of every auth collection, in PocketBase's order.
func authFields() []fieldJSON {
	return []fieldJSON{
		idField(),
		passwordField(FieldNamePassword, passwordOpts{
			fieldFlags: fieldFlags{system: true, hidden: true, required: true},
			min:        authPasswordMinDefault,
		}),
		textField(FieldNameTokenKey, textOpts{
			fieldFlags:   fieldFlags{system: true, hidden: true, required: true},
			min:          30,
			max:          60,
			autogenerate: "[a-zA-Z0-9]{50}",
		}),
		emailField(FieldNameEmail, fieldFlags{system: true, required: true}),
		boolField(FieldNameEmailVisibility, fieldFlags{system: true}),
		boolField(FieldNameVerified, fieldFlags{system: true}),
	}
}
