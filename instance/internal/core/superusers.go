package core

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
	"github.com/pocketfleet/pocketfleet/instance/internal/sqlitedb"
)

// Superuser is a record of the _superusers auth collection, without its password hash
// and token key.
type Superuser struct {
	// ID is the 15-character record id.
	ID string
	// Email is the login email.
	Email string
	// EmailVisibility is always false for superusers created here.
	EmailVisibility bool
	// Verified is always true for superusers.
	Verified bool
	// Created is the creation time in DateTimeLayout.
	Created string
	// Updated is the last update time in DateTimeLayout.
	Updated string
}

// FindSuperuserByEmail returns the superuser with exactly this email (the email index
// of _superusers is case-sensitive), or ErrSuperuserNotFound.
func (a *App) FindSuperuserByEmail(ctx context.Context, email string) (*Superuser, error) {
	return findSuperuser(ctx, a.data.Read(), email)
}

// CountSuperusers returns the number of superusers, the installer one included.
func (a *App) CountSuperusers(ctx context.Context) (int, error) {
	return countSuperusers(ctx, a.data.Read())
}

// NeedsSuperuser reports whether the data directory has no superuser besides
// PocketBase's installer placeholder (apis/installer.go needInstallerSuperuser).
func (a *App) NeedsSuperuser(ctx context.Context) (bool, error) {
	var n int
	err := a.data.Read().QueryRowContext(ctx,
		"SELECT count(*) FROM `_superusers` WHERE `email` != ?", DefaultInstallerEmail,
	).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("counting superusers: %w", err)
	}

	return n == 0, nil
}

// UpsertSuperuser creates the superuser with this email, or sets the password of the
// existing one, as `pocketbase superuser upsert` does. Setting a password always renews
// the record's tokenKey, which invalidates its tokens.
func (a *App) UpsertSuperuser(ctx context.Context, email, password string) (*Superuser, error) {
	hash, err := a.prepareSuperuserPassword(ctx, email, password)
	if err != nil {
		return nil, fmt.Errorf("upserting superuser: %w", err)
	}

	var su *Superuser
	err = a.data.Tx(ctx, func(tx *sql.Tx) error {
		existing, err := findSuperuser(ctx, tx, email)
		switch {
		case errors.Is(err, ErrSuperuserNotFound):
			su, err = a.insertSuperuser(ctx, tx, email, hash)
		case err == nil:
			su, err = a.setSuperuserPassword(ctx, tx, existing, hash)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("upserting superuser: %w", err)
	}

	return su, nil
}

// CreateSuperuser creates a superuser. An email already in use fails with a
// ValidationErrors carrying validation_not_unique for "email".
func (a *App) CreateSuperuser(ctx context.Context, email, password string) (*Superuser, error) {
	hash, err := a.prepareSuperuserPassword(ctx, email, password)
	if err != nil {
		return nil, fmt.Errorf("creating superuser: %w", err)
	}

	var su *Superuser
	err = a.data.Tx(ctx, func(tx *sql.Tx) error {
		_, err := findSuperuser(ctx, tx, email)
		switch {
		case err == nil:
			return ValidationErrors{FieldNameEmail: errNotUnique()}
		case !errors.Is(err, ErrSuperuserNotFound):
			return err
		}
		su, err = a.insertSuperuser(ctx, tx, email, hash)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating superuser: %w", err)
	}

	return su, nil
}

// UpdateSuperuserPassword sets the password of an existing superuser and renews its
// tokenKey; a missing superuser fails with ErrSuperuserNotFound.
func (a *App) UpdateSuperuserPassword(ctx context.Context, email, password string) (*Superuser, error) {
	hash, err := a.prepareSuperuserPassword(ctx, email, password)
	if err != nil {
		return nil, fmt.Errorf("updating superuser password: %w", err)
	}

	var su *Superuser
	err = a.data.Tx(ctx, func(tx *sql.Tx) error {
		existing, err := findSuperuser(ctx, tx, email)
		if err != nil {
			return err
		}
		su, err = a.setSuperuserPassword(ctx, tx, existing, hash)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("updating superuser password: %w", err)
	}

	return su, nil
}

// DeleteSuperuser deletes a superuser and the MFA, OTP, auth origin and external auth
// records that point at it. Like PocketBase, it refuses to delete the only superuser
// (ErrLastSuperuser); a missing one fails with ErrSuperuserNotFound.
func (a *App) DeleteSuperuser(ctx context.Context, email string) error {
	err := a.data.Tx(ctx, func(tx *sql.Tx) error {
		su, err := findSuperuser(ctx, tx, email)
		if err != nil {
			return err
		}

		total, err := countSuperusers(ctx, tx)
		if err != nil {
			return err
		}
		if total == 1 {
			return ErrLastSuperuser
		}

		return deleteSuperuserRecord(ctx, tx, su.ID)
	})
	if err != nil {
		return fmt.Errorf("deleting superuser: %w", err)
	}

	return nil
}

// prepareSuperuserPassword validates email and password against the _superusers
// fields stored in the data directory and returns the password's bcrypt hash. Hashing
// happens before the write transaction so that the writer is not held for it.
func (a *App) prepareSuperuserPassword(ctx context.Context, email, password string) (string, error) {
	rules, err := passwordRulesOf(ctx, a.data.Read(), SuperusersCollectionID)
	if err != nil {
		return "", err
	}

	errs := ValidationErrors{}
	if e := validateEmailValue(email); e != nil {
		errs[FieldNameEmail] = e
	}
	if e := validatePasswordValue(password, rules.Min, rules.Max); e != nil {
		errs[FieldNamePassword] = e
	}
	if len(errs) > 0 {
		return "", errs
	}

	hash, err := security.HashPassword(password, rules.Cost)
	if errors.Is(err, security.ErrPasswordTooLong) {
		// note: 71 runes may still exceed bcrypt's 72 bytes; PocketBase reports the
		// hashing error on the field as well.
		return "", ValidationErrors{FieldNamePassword: errMaxText(72)}
	}
	if err != nil {
		return "", err
	}

	return hash, nil
}

// passwordRules are the options of an auth collection's password field.
type passwordRules struct {
	Min  int `json:"min"`
	Max  int `json:"max"`
	Cost int `json:"cost"`
}

// passwordRulesOf reads the password field options of the auth collection with the
// given id from `_collections`, so that a data directory whose superusers collection
// was tuned in PocketBase keeps its rules.
func passwordRulesOf(ctx context.Context, q sqlitedb.Querier, collectionID string) (passwordRules, error) {
	var raw string
	err := q.QueryRowContext(ctx, "SELECT `fields` FROM `_collections` WHERE `id` = ?", collectionID).Scan(&raw)
	if err != nil {
		return passwordRules{}, fmt.Errorf("reading fields of collection %s: %w", collectionID, err)
	}

	var fields []struct {
		passwordRules
		Name string `json:"name"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(raw), &fields); err != nil {
		return passwordRules{}, fmt.Errorf("decoding fields of collection %s: %w", collectionID, err)
	}

	for _, f := range fields {
		if f.Name == FieldNamePassword && f.Type == "password" {
			return f.passwordRules, nil
		}
	}

	return passwordRules{}, fmt.Errorf("collection %s has no password field", collectionID)
}

const superuserColumns = "`id`, `email`, `emailVisibility`, `verified`, `created`, `updated`"

func findSuperuser(ctx context.Context, q sqlitedb.Querier, email string) (*Superuser, error) {
	var su Superuser
	err := q.QueryRowContext(ctx,
		"SELECT "+superuserColumns+" FROM `_superusers` WHERE `email` = ? LIMIT 1", email,
	).Scan(&su.ID, &su.Email, &su.EmailVisibility, &su.Verified, &su.Created, &su.Updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrSuperuserNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("finding superuser: %w", err)
	}

	return &su, nil
}

func countSuperusers(ctx context.Context, q sqlitedb.Querier) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM `_superusers`").Scan(&n); err != nil {
		return 0, fmt.Errorf("counting superusers: %w", err)
	}

	return n, nil
}

// insertSuperuser creates the record, then deletes PocketBase's installer superuser, as
// PocketBase does once a real superuser exists.
func (a *App) insertSuperuser(ctx context.Context, tx *sql.Tx, email, hash string) (*Superuser, error) {
	id, err := newAuthRecordID(ctx, tx)
	if err != nil {
		return nil, err
	}
	tokenKey, err := security.RandomString(TokenKeyLength)
	if err != nil {
		return nil, err
	}

	now := a.nowDateTime()
	su := &Superuser{ID: id, Email: email, Verified: true, Created: now, Updated: now}

	_, err = tx.ExecContext(ctx,
		"INSERT INTO `_superusers` (`id`, `email`, `emailVisibility`, `verified`, `password`, `tokenKey`, `created`, `updated`) "+
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		su.ID, su.Email, su.EmailVisibility, su.Verified, hash, tokenKey, su.Created, su.Updated,
	)
	if err != nil {
		return nil, fmt.Errorf("inserting superuser: %w", err)
	}

	if email != DefaultInstallerEmail {
		installer, err := findSuperuser(ctx, tx, DefaultInstallerEmail)
		switch {
		case err == nil:
			if err := deleteSuperuserRecord(ctx, tx, installer.ID); err != nil {
				return nil, fmt.Errorf("deleting installer superuser: %w", err)
			}
		case !errors.Is(err, ErrSuperuserNotFound):
			return nil, err
		}
	}

	return su, nil
}

// setSuperuserPassword stores a new password hash with a fresh tokenKey, marks the
// record verified (PocketBase forces it for superusers) and, as PocketBase's record
// hooks do on a password and tokenKey change, drops the record's auth origins, MFAs and
// OTPs.
func (a *App) setSuperuserPassword(ctx context.Context, tx *sql.Tx, su *Superuser, hash string) (*Superuser, error) {
	tokenKey, err := security.RandomString(TokenKeyLength)
	if err != nil {
		return nil, err
	}

	updated := *su
	updated.Verified = true
	updated.Updated = a.nowDateTime()

	_, err = tx.ExecContext(ctx,
		"UPDATE `_superusers` SET `password` = ?, `tokenKey` = ?, `verified` = ?, `updated` = ? WHERE `id` = ?",
		hash, tokenKey, updated.Verified, updated.Updated, su.ID,
	)
	if err != nil {
		return nil, fmt.Errorf("updating superuser: %w", err)
	}

	for _, table := range []string{CollectionNameAuthOrigins, CollectionNameMFAs, CollectionNameOTPs} {
		if err := deleteRecordRefs(ctx, tx, table, SuperusersCollectionID, su.ID); err != nil {
			return nil, err
		}
	}

	return &updated, nil
}

func deleteSuperuserRecord(ctx context.Context, tx *sql.Tx, id string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM `_superusers` WHERE `id` = ?", id); err != nil {
		return fmt.Errorf("deleting superuser record: %w", err)
	}

	for _, table := range []string{CollectionNameExternalAuths, CollectionNameMFAs, CollectionNameOTPs, CollectionNameAuthOrigins} {
		if err := deleteRecordRefs(ctx, tx, table, SuperusersCollectionID, id); err != nil {
			return err
		}
	}

	return nil
}

// deleteRecordRefs deletes the rows of a system ref collection (_mfas, _otps, ...) that
// point at one record.
func deleteRecordRefs(ctx context.Context, tx *sql.Tx, table, collectionID, recordID string) error {
	_, err := tx.ExecContext(ctx,
		"DELETE FROM "+quoteIdent(table)+" WHERE `collectionRef` = ? AND `recordRef` = ?",
		collectionID, recordID,
	)
	if err != nil {
		return fmt.Errorf("deleting %s of record %s: %w", table, recordID, err)
	}

	return nil
}

// maxIDAttempts bounds the retries on an id collision (36^15 ids make one unlikely).
const maxIDAttempts = 10

// newAuthRecordID returns a random record id that no auth collection uses yet;
// PocketBase checks auth ids for uniqueness across all auth collections so that a
// mistaken API rule cannot confuse records of two collections.
func newAuthRecordID(ctx context.Context, tx *sql.Tx) (string, error) {
	tables, err := authCollectionNames(ctx, tx)
	if err != nil {
		return "", err
	}

	for range maxIDAttempts {
		id, err := security.RandomStringWithAlphabet(RecordIDLength, security.AlphabetLowerAlphanumeric)
		if err != nil {
			return "", err
		}

		taken, err := idTaken(ctx, tx, tables, id)
		if err != nil {
			return "", err
		}
		if !taken {
			return id, nil
		}
	}

	return "", fmt.Errorf("generating a unique record id: %d collisions", maxIDAttempts)
}

func authCollectionNames(ctx context.Context, q sqlitedb.Querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT `name` FROM `_collections` WHERE `type` = ?", CollectionTypeAuth)
	if err != nil {
		return nil, fmt.Errorf("listing auth collections: %w", err)
	}
	defer rows.Close()

	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("scanning auth collection: %w", err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing auth collections: %w", err)
	}

	return names, nil
}

func idTaken(ctx context.Context, q sqlitedb.Querier, tables []string, id string) (bool, error) {
	for _, table := range tables {
		var n int
		err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(table)+" WHERE `id` = ?", id).Scan(&n)
		if err != nil {
			return false, fmt.Errorf("checking id in %s: %w", table, err)
		}
		if n > 0 {
			return true, nil
		}
	}

	return false, nil
}

// quoteIdent quotes an SQLite identifier with backticks, as PocketBase's dbx does.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}
