package core

import "fmt"

// Collection types.
const (
	// CollectionTypeBase is a plain collection.
	CollectionTypeBase = "base"
	// CollectionTypeAuth is a collection of auth records.
	CollectionTypeAuth = "auth"
	// CollectionTypeView is a read-only collection backed by an SQL view.
	CollectionTypeView = "view"
)

// Names and ids of the collections a fresh PocketBase v0.40 data directory holds
// (migrations/1640988000_init.go). System collection ids are collectionID(type, name).
const (
	// CollectionNameSuperusers is the auth collection of superusers.
	CollectionNameSuperusers = "_superusers"
	// CollectionNameExternalAuths links auth records to OAuth2 identities.
	CollectionNameExternalAuths = "_externalAuths"
	// CollectionNameMFAs holds pending multi-factor authentications.
	CollectionNameMFAs = "_mfas"
	// CollectionNameOTPs holds one-time passwords.
	CollectionNameOTPs = "_otps"
	// CollectionNameAuthOrigins holds the known login fingerprints of auth records.
	CollectionNameAuthOrigins = "_authOrigins"
	// CollectionNameUsers is the default, non-system auth collection.
	CollectionNameUsers = "users"

	// SuperusersCollectionID is the id of _superusers.
	SuperusersCollectionID = "pbc_3142635823"
	// ExternalAuthsCollectionID is the id of _externalAuths.
	ExternalAuthsCollectionID = "pbc_2281828961"
	// MFAsCollectionID is the id of _mfas.
	MFAsCollectionID = "pbc_2279338944"
	// OTPsCollectionID is the id of _otps.
	OTPsCollectionID = "pbc_1638494021"
	// AuthOriginsCollectionID is the id of _authOrigins.
	AuthOriginsCollectionID = "pbc_4275539003"
	// UsersCollectionID is the fixed id of the default users collection.
	UsersCollectionID = "_pb_users_auth_"
)

// DefaultInstallerEmail is the email of the throw-away superuser PocketBase creates for
// its web installer (core/record_model_superusers.go). It does not count as a real
// superuser, and creating a real one deletes it.
const DefaultInstallerEmail = "__pbinstaller@example.com"

// ownerRule is the rule of the system collections that hold per-record auth data.
const ownerRule = "@request.auth.id != '' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId"

// collectionDef is one row of `_collections` plus the DDL of its records table, exactly
// as PocketBase v0.40.4 writes them on a fresh install.
type collectionDef struct {
	id, name, typ string
	system        bool
	fields        []fieldJSON
	// indexes is the `indexes` column; tableSQL and indexSQL are what sqlite_master holds
	// (PocketBase formats indexes differently in the two places).
	indexes    []string
	listRule   *string
	viewRule   *string
	createRule *string
	updateRule *string
	deleteRule *string
	// authOptions customizes the default auth options; nil for base collections.
	authOptions func(*AuthOptions)
	tableSQL    string
	indexSQL    []string
}

func ptr(s string) *string { return &s }

// refFields are the fields of the system collections that point at an auth record.
func refFields(extra ...fieldJSON) []fieldJSON {
	required := textOpts{fieldFlags: fieldFlags{system: true, required: true}}
	fields := []fieldJSON{
		idField(),
		textField("collectionRef", required),
		textField("recordRef", required),
	}
	fields = append(fields, extra...)

	return append(fields,
		autodateField(FieldNameCreated, true, false),
		autodateField(FieldNameUpdated, true, true),
	)
}

// systemCollections returns the collections of a fresh install, in PocketBase's
// creation order (which is also their rowid order in `_collections`).
func systemCollections() []collectionDef {
	required := textOpts{fieldFlags: fieldFlags{system: true, required: true}}

	return []collectionDef{
		{
			id: MFAsCollectionID, name: CollectionNameMFAs, typ: CollectionTypeBase, system: true,
			fields:   refFields(textField("method", required)),
			indexes:  []string{"CREATE INDEX `idx_mfas_collectionRef_recordRef` ON `_mfas` (collectionRef,recordRef)"},
			listRule: ptr(ownerRule), viewRule: ptr(ownerRule),
			tableSQL: "CREATE TABLE `_mfas` (`collectionRef` TEXT DEFAULT '' NOT NULL, `created` TEXT DEFAULT '' NOT NULL, `id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL, `method` TEXT DEFAULT '' NOT NULL, `recordRef` TEXT DEFAULT '' NOT NULL, `updated` TEXT DEFAULT '' NOT NULL)",
			indexSQL: []string{"CREATE INDEX `idx_mfas_collectionRef_recordRef` ON `_mfas` (\n  `collectionRef`,\n  `recordRef`\n)"},
		},
		{
			id: OTPsCollectionID, name: CollectionNameOTPs, typ: CollectionTypeBase, system: true,
			fields: refFields(
				passwordField(FieldNamePassword, passwordOpts{
					fieldFlags: fieldFlags{system: true, hidden: true, required: true},
					cost:       8, // PocketBase: low cost, OTPs are short-lived
				}),
				textField("sentTo", textOpts{fieldFlags: fieldFlags{system: true, hidden: true}}),
			),
			indexes:  []string{"CREATE INDEX `idx_otps_collectionRef_recordRef` ON `_otps` (collectionRef, recordRef)"},
			listRule: ptr(ownerRule), viewRule: ptr(ownerRule),
			tableSQL: "CREATE TABLE `_otps` (`collectionRef` TEXT DEFAULT '' NOT NULL, `created` TEXT DEFAULT '' NOT NULL, `id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL, `password` TEXT DEFAULT '' NOT NULL, `recordRef` TEXT DEFAULT '' NOT NULL, `sentTo` TEXT DEFAULT '' NOT NULL, `updated` TEXT DEFAULT '' NOT NULL)",
			indexSQL: []string{"CREATE INDEX `idx_otps_collectionRef_recordRef` ON `_otps` (\n  `collectionRef`,\n  `recordRef`\n)"},
		},
		{
			id: ExternalAuthsCollectionID, name: CollectionNameExternalAuths, typ: CollectionTypeBase, system: true,
			fields: refFields(textField("provider", required), textField("providerId", required)),
			indexes: []string{
				"CREATE UNIQUE INDEX `idx_externalAuths_record_provider` ON `_externalAuths` (collectionRef, recordRef, provider)",
				"CREATE UNIQUE INDEX `idx_externalAuths_collection_provider` ON `_externalAuths` (collectionRef, provider, providerId)",
			},
			listRule: ptr(ownerRule), viewRule: ptr(ownerRule), deleteRule: ptr(ownerRule),
			tableSQL: "CREATE TABLE `_externalAuths` (`collectionRef` TEXT DEFAULT '' NOT NULL, `created` TEXT DEFAULT '' NOT NULL, `id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL, `provider` TEXT DEFAULT '' NOT NULL, `providerId` TEXT DEFAULT '' NOT NULL, `recordRef` TEXT DEFAULT '' NOT NULL, `updated` TEXT DEFAULT '' NOT NULL)",
			indexSQL: []string{
				"CREATE UNIQUE INDEX `idx_externalAuths_record_provider` ON `_externalAuths` (\n  `collectionRef`,\n  `recordRef`,\n  `provider`\n)",
				"CREATE UNIQUE INDEX `idx_externalAuths_collection_provider` ON `_externalAuths` (\n  `collectionRef`,\n  `provider`,\n  `providerId`\n)",
			},
		},
		{
			id: AuthOriginsCollectionID, name: CollectionNameAuthOrigins, typ: CollectionTypeBase, system: true,
			fields:   refFields(textField("fingerprint", required)),
			indexes:  []string{"CREATE UNIQUE INDEX `idx_authOrigins_unique_pairs` ON `_authOrigins` (collectionRef, recordRef, fingerprint)"},
			listRule: ptr(ownerRule), viewRule: ptr(ownerRule), deleteRule: ptr(ownerRule),
			tableSQL: "CREATE TABLE `_authOrigins` (`collectionRef` TEXT DEFAULT '' NOT NULL, `created` TEXT DEFAULT '' NOT NULL, `fingerprint` TEXT DEFAULT '' NOT NULL, `id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL, `recordRef` TEXT DEFAULT '' NOT NULL, `updated` TEXT DEFAULT '' NOT NULL)",
			indexSQL: []string{"CREATE UNIQUE INDEX `idx_authOrigins_unique_pairs` ON `_authOrigins` (\n  `collectionRef`,\n  `recordRef`,\n  `fingerprint`\n)"},
		},
		{
			id: SuperusersCollectionID, name: CollectionNameSuperusers, typ: CollectionTypeAuth, system: true,
			fields: append(authFields(),
				autodateField(FieldNameCreated, true, false),
				autodateField(FieldNameUpdated, true, true),
			),
			indexes: authIndexes(SuperusersCollectionID, CollectionNameSuperusers),
			authOptions: func(o *AuthOptions) {
				o.AuthToken.Duration = 86400 // 1 day
			},
			tableSQL: "CREATE TABLE `_superusers` (`created` TEXT DEFAULT '' NOT NULL, `email` TEXT DEFAULT '' NOT NULL, `emailVisibility` BOOLEAN DEFAULT FALSE NOT NULL, `id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL, `password` TEXT DEFAULT '' NOT NULL, `tokenKey` TEXT DEFAULT '' NOT NULL, `updated` TEXT DEFAULT '' NOT NULL, `verified` BOOLEAN DEFAULT FALSE NOT NULL)",
			indexSQL: authIndexes(SuperusersCollectionID, CollectionNameSuperusers),
		},
		{
			id: UsersCollectionID, name: CollectionNameUsers, typ: CollectionTypeAuth, system: false,
			fields: append(authFields(),
				textField("name", textOpts{max: 255}),
				fileField("avatar", fileOpts{
					maxSelect: 1,
					mimeTypes: []string{"image/jpeg", "image/png", "image/svg+xml", "image/gif", "image/webp"},
				}),
				autodateField(FieldNameCreated, false, false),
				autodateField(FieldNameUpdated, false, true),
			),
			indexes:    authIndexes(UsersCollectionID, CollectionNameUsers),
			listRule:   ptr("id = @request.auth.id"),
			viewRule:   ptr("id = @request.auth.id"),
			createRule: ptr(""),
			updateRule: ptr("id = @request.auth.id"),
			deleteRule: ptr("id = @request.auth.id"),
			authOptions: func(o *AuthOptions) {
				o.OAuth2.MappedFields.Name = "name"
				o.OAuth2.MappedFields.AvatarURL = "avatar"
			},
			tableSQL: "CREATE TABLE `users` (`avatar` TEXT DEFAULT '' NOT NULL, `created` TEXT DEFAULT '' NOT NULL, `email` TEXT DEFAULT '' NOT NULL, `emailVisibility` BOOLEAN DEFAULT FALSE NOT NULL, `id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL, `name` TEXT DEFAULT '' NOT NULL, `password` TEXT DEFAULT '' NOT NULL, `tokenKey` TEXT DEFAULT '' NOT NULL, `updated` TEXT DEFAULT '' NOT NULL, `verified` BOOLEAN DEFAULT FALSE NOT NULL)",
			indexSQL: authIndexes(UsersCollectionID, CollectionNameUsers),
		},
	}
}

// authIndexes are the unique tokenKey and email indexes every auth collection gets,
// named after the collection id.
func authIndexes(id, name string) []string {
	return []string{
		fmt.Sprintf("CREATE UNIQUE INDEX `idx_tokenKey_%s` ON `%s` (`tokenKey`)", id, name),
		fmt.Sprintf("CREATE UNIQUE INDEX `idx_email_%s` ON `%s` (`email`) WHERE `email` != ''", id, name),
	}
}
