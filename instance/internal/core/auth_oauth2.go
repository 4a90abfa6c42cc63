package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// oauth2PasswordLength is the length of the random passwords OAuth2 logins set.
const oauth2PasswordLength = 30

// Errors of the OAuth2 login.
var (
	// ErrOAuth2SuperuserSignup refuses creating a superuser through OAuth2.
	ErrOAuth2SuperuserSignup = errors.New("superusers are not allowed to sign-up with OAuth2")
)

// ExternalAuth is one `_externalAuths` row: the link of an auth record to a provider
// identity.
type ExternalAuth struct {
	ID         string
	RecordRef  string
	Provider   string
	ProviderID string
}

// FindExternalAuth returns the most recent link of auth collection c to the provider
// identity, or ErrRecordNotFound.
func (a *App) FindExternalAuth(ctx context.Context, c *Collection, provider, providerID string) (*ExternalAuth, error) {
	ea := &ExternalAuth{Provider: provider, ProviderID: providerID}
	err := a.reader(ctx).QueryRowContext(ctx,
		"SELECT `id`, `recordRef` FROM "+quoteIdent(CollectionNameExternalAuths)+
			" WHERE `collectionRef` = ? AND `provider` = ? AND `providerId` = ? ORDER BY `created` DESC LIMIT 1",
		c.ID, provider, providerID,
	).Scan(&ea.ID, &ea.RecordRef)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrRecordNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("finding external auth: %w", err)
	}

	return ea, nil
}

// CreateExternalAuth links record to the provider identity with a new `_externalAuths`
// row (a unique index allows one identity per provider and collection).
func (a *App) CreateExternalAuth(ctx context.Context, record *Record, provider, providerID string) error {
	c, err := a.FindCachedCollectionByNameOrID(ctx, CollectionNameExternalAuths)
	if err != nil {
		return err
	}

	u := NewRecordCreate(c)
	u.SetAccess(RecordAccessSuperuser)
	u.Load(map[string]any{
		"collectionRef": record.Collection().ID,
		"recordRef":     record.ID(),
		"provider":      provider,
		"providerId":    providerID,
	})
	if _, err := a.SaveRecord(ctx, u); err != nil {
		return fmt.Errorf("failed to save linked rel: %w", err)
	}

	return nil
}

// deleteExternalAuths drops the OAuth2 links of a record inside a save transaction and
// reports whether there were any.
func deleteExternalAuths(ctx context.Context, tx *sql.Tx, collectionID, recordID string) (bool, error) {
	res, err := tx.ExecContext(ctx,
		"DELETE FROM "+quoteIdent(CollectionNameExternalAuths)+" WHERE `collectionRef` = ? AND `recordRef` = ?",
		collectionID, recordID,
	)
	if err != nil {
		return false, fmt.Errorf("deleting external auths of record %s: %w", recordID, err)
	}
	n, err := res.RowsAffected()

	return n > 0, err
}

// verifiedUpgraded reports whether an update turns an unverified auth record verified.
func (u *RecordUpsert) verifiedUpgraded() bool {
	return !u.IsNew() && !castToBool(u.original[FieldNameVerified]) && castToBool(u.values[FieldNameVerified])
}

// dropUnverifiedExternalAuths is PocketBase's pre-hijacking fix (v0.37): when an auth
// record becomes verified, the OAuth2 identities linked to it while it was unverified
// (possibly by someone else who registered the address first) are unlinked and, if
// there were any, its tokenKey is renewed so that their sessions end.
func (u *RecordUpsert) dropUnverifiedExternalAuths(ctx context.Context, tx *sql.Tx) error {
	if !u.verifiedUpgraded() {
		return nil
	}

	dropped, err := deleteExternalAuths(ctx, tx, u.collection.ID, u.ID())
	if err != nil || !dropped {
		return err
	}

	return u.refreshTokenKey()
}

// OAuth2LoginUpdate applies PocketBase v0.40's pre-hijacking rules to an existing
// auth record an OAuth2 login resolved to (apis/record_auth_with_oauth2.go) and returns
// the record as stored afterwards, and whether its OAuth2 links were dropped (the
// caller then links the current identity again):
//   - an unverified record that is not the one already signed in gets a random
//     password, so that whoever registered the address first loses password access;
//   - an unverified record loses all its OAuth2 links, so that it keeps at most the one
//     being used now;
//   - an empty email takes the provider's verified email;
//   - the record becomes verified when it has no email or its email is the provider's
//     verified one.
func (a *App) OAuth2LoginUpdate(ctx context.Context, record *Record, oauth2Email string, signedIn bool) (*Record, bool, error) {
	data := map[string]any{}
	verified := record.GetBool(FieldNameVerified)
	email := record.Email()

	if !signedIn && !verified {
		password, err := security.RandomString(oauth2PasswordLength)
		if err != nil {
			return nil, false, err
		}
		data[FieldNamePassword] = password
		data[formKeyPasswordConfirm] = password
	}
	if !verified {
		err := a.writeTx(ctx, func(tx *sql.Tx) error {
			_, err := deleteExternalAuths(ctx, tx, record.Collection().ID, record.ID())
			return err
		})
		if err != nil {
			return nil, false, err
		}
	}
	if email == "" && oauth2Email != "" {
		email = oauth2Email
		data[FieldNameEmail] = email
	}
	if !verified && (email == "" || email == oauth2Email) {
		data[FieldNameVerified] = true
	}
	if len(data) == 0 {
		return record, !verified, nil
	}

	saved, err := a.saveAuthFlow(ctx, record, data)

	return saved, !verified, err
}

// CanAssignOAuth2Username reports whether a new OAuth2 user may get username in the
// collection's mapped username field: the field is a text field the value is valid
// for, and no record has it yet when the field is unique (PocketBase's
// oldCanAssignUsername).
func (a *App) CanAssignOAuth2Username(ctx context.Context, c *Collection, username string) bool {
	name := c.Auth.OAuth2.MappedFields.Username
	if hasSingleColumnUniqueIndex(c.Indexes, name) {
		if _, err := findRecordWhere(ctx, a.reader(ctx), c, quoteIdent(name)+" = ?", username); err == nil {
			return false
		}
	}
	f, _ := c.Fields.GetByName(name).(*TextField)

	return f != nil && f.ValidatePlainValue(username) == nil
}

// OAuth2SignupVerify marks a record just created by an OAuth2 signup verified when its
// email is the provider's (even when both are empty), and returns it as stored.
func (a *App) OAuth2SignupVerify(ctx context.Context, record *Record, oauth2Email string) (*Record, error) {
	if record.Email() != oauth2Email || record.GetBool(FieldNameVerified) {
		return record, nil
	}

	return a.saveAuthFlow(ctx, record, map[string]any{FieldNameVerified: true})
}
