package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// MFA methods, the `method` of an `_mfas` row.
const (
	MFAMethodPassword = "password"
	MFAMethodOAuth2   = "oauth2"
	MFAMethodOTP      = "otp"
)

// MFA errors, worded as PocketBase's 400 messages (apis/record_helpers.go checkMFA).
var (
	// ErrMFAInvalidOrExpired is returned for an unknown or expired mfaId.
	ErrMFAInvalidOrExpired = errors.New("invalid or expired MFA session")
	// ErrMFAMismatch is returned for an mfaId of another record.
	ErrMFAMismatch = errors.New("invalid MFA session")
	// ErrMFASameMethod is returned when the second factor uses the first one's method.
	ErrMFASameMethod = errors.New("a different authentication method is required")
)

// MFARequired reports whether a login of record needs a second factor, as PocketBase's
// wantsMFA decides: the collection has mfa.enabled and mfa.rule matches the record, the
// rule being evaluated for the login request as it came (info: its own auth, usually
// none, and the auth route's @request.context), with no superuser exception. An empty
// rule always matches. An error is a rule that fails to evaluate.
func (a *App) MFARequired(ctx context.Context, record *Record, info *RequestInfo) (bool, error) {
	c := record.Collection()
	if !c.IsAuth() || !c.Auth.MFA.Enabled {
		return false, nil
	}
	if c.Auth.MFA.Rule == "" {
		return true, nil
	}

	matched, err := a.recordsMatchingRule(ctx, c, []string{record.ID()}, c.Auth.MFA.Rule, info)
	if err != nil {
		return true, err
	}

	return matched[record.ID()], nil
}

// CheckMFA runs PocketBase's MFA step for a successful login of record with method.
// With mfaID empty it stores a new `_mfas` row and returns its id: the caller answers
// 401 {"mfaId": id}. With an mfaID it checks that session (same record, not expired,
// another method), deletes it and returns "": the login may complete.
func (a *App) CheckMFA(ctx context.Context, record *Record, method, mfaID string) (string, error) {
	c := record.Collection()

	if mfaID == "" {
		id, err := a.createMFA(ctx, record, method)
		if err != nil {
			return "", err
		}
		return id, nil
	}

	var collectionRef, recordRef, storedMethod, created string
	err := a.data.Read().QueryRowContext(ctx,
		"SELECT `collectionRef`, `recordRef`, `method`, `created` FROM "+quoteIdent(CollectionNameMFAs)+" WHERE `id` = ?", mfaID,
	).Scan(&collectionRef, &recordRef, &storedMethod, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrMFAInvalidOrExpired
	}
	if err != nil {
		return "", fmt.Errorf("finding mfa: %w", err)
	}

	createdAt := rvDateTime(created)
	expired := createdAt == ""
	if !expired {
		t, _ := time.Parse(DateTimeLayout, createdAt)
		expired = t.Add(time.Duration(c.Auth.MFA.Duration) * time.Second).Before(a.now())
	}
	if expired {
		if err := a.deleteMFA(ctx, mfaID); err != nil {
			return "", err
		}
		return "", ErrMFAInvalidOrExpired
	}

	if recordRef != record.ID() || collectionRef != c.ID {
		return "", ErrMFAMismatch
	}
	if storedMethod == method {
		return "", ErrMFASameMethod
	}

	return "", a.deleteMFA(ctx, mfaID)
}

func (a *App) createMFA(ctx context.Context, record *Record, method string) (string, error) {
	var id string
	err := a.data.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = security.RandomStringWithAlphabet(RecordIDLength, security.AlphabetLowerAlphanumeric)
		if err != nil {
			return err
		}
		now := a.nowDateTime()
		_, err = tx.ExecContext(ctx,
			"INSERT INTO "+quoteIdent(CollectionNameMFAs)+" (`id`, `collectionRef`, `recordRef`, `method`, `created`, `updated`) VALUES (?, ?, ?, ?, ?, ?)",
			id, record.Collection().ID, record.ID(), method, now, now,
		)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("creating mfa: %w", err)
	}

	return id, nil
}

func (a *App) deleteMFA(ctx context.Context, id string) error {
	return a.deleteAuthRow(ctx, CollectionNameMFAs, id)
}
