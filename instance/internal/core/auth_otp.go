package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// OTP errors. The HTTP layer maps them to PocketBase's messages.
var (
	// ErrOTPDisabled is returned when otp.enabled is false.
	ErrOTPDisabled = errors.New("the collection is not configured to allow OTP authentication")
	// ErrInvalidOTP is returned alike for an unknown id, an OTP of another collection,
	// an expired OTP, a missing record and a wrong code, so that nothing about the OTPs
	// leaks (apis/record_auth_with_otp.go).
	ErrInvalidOTP = errors.New("invalid or expired OTP")
)

// otpDigits is the alphabet of the one-time codes.
const otpDigits = "1234567890"

// otpHashCost is the bcrypt cost of `_otps.password` (PocketBase's: the codes are
// short-lived).
const otpHashCost = 8

// otpMaxRecent is how many unexpired OTPs a record may have before request-otp reuses
// the last one instead of creating another.
const otpMaxRecent = 9

// OTP is a stored `_otps` row.
type OTP struct {
	ID            string
	CollectionRef string
	RecordRef     string
	// Hash is the bcrypt hash of the code.
	Hash string
	// SentTo is the address the code was mailed to ("" until the mail is sent).
	SentTo  string
	Created time.Time
}

// ValidatePassword reports whether code is the OTP's code (a bcrypt comparison).
func (o *OTP) ValidatePassword(code string) bool {
	return security.ComparePassword(o.Hash, code)
}

// hasExpired reports whether more than maxAge passed since the OTP was created.
func (o *OTP) hasExpired(now time.Time, maxAge time.Duration) bool {
	return o.Created.IsZero() || now.Sub(o.Created) > maxAge
}

// RequestOTP creates an OTP for the record of auth collection c with the given email,
// mails its code in the background and returns its id, as PocketBase's request-otp does.
// An unknown email gets a random id (nothing is stored or sent), so that accounts cannot
// be enumerated. A record with more than nine unexpired OTPs gets the id of the last one
// again, and no mail. Form errors are ValidationErrors under `email`.
func (a *App) RequestOTP(ctx context.Context, c *Collection, email string) (string, error) {
	if !c.IsAuth() || !c.Auth.OTP.Enabled {
		return "", ErrOTPDisabled
	}
	if err := validateEmailForm("email", email); err != nil {
		return "", err
	}

	record, err := a.FindAuthRecordByEmail(ctx, c, email)
	if errors.Is(err, ErrRecordNotFound) {
		a.Logger().LogAttrs(ctx, slog.LevelDebug, "request-otp: no record", slog.String("collection", c.Name))
		return newRecordID()
	}
	if err != nil {
		return "", err
	}

	otps, err := a.findOTPsByRecord(ctx, record)
	if err != nil {
		return "", err
	}
	recent := 0
	maxAge := time.Duration(c.Auth.OTP.Duration) * time.Second
	for _, o := range otps {
		if !o.hasExpired(a.now(), maxAge) {
			recent++
		}
		if recent > otpMaxRecent {
			a.Logger().LogAttrs(ctx, slog.LevelWarn, "Too many OTP requests - reusing the last issued",
				slog.String("recordId", record.ID()), slog.String("otpId", otps[0].ID))
			return otps[0].ID, nil
		}
	}

	code, err := security.RandomStringWithAlphabet(max(c.Auth.OTP.Length, 1), otpDigits)
	if err != nil {
		return "", err
	}
	// note: PocketBase fills sentTo once the mail is accepted and deletes the OTP when
	// it is not; filling it on creation is the same for every code that can be known,
	// without a window in which a code works but does not verify the record.
	id, err := a.createOTP(ctx, record, code, record.Email())
	if err != nil {
		return "", err
	}

	// The mail goes out in the background, as a basic timing and enumeration protection;
	// a failed delivery removes the OTP again.
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), authMailSendTimeout)
	go func() {
		defer cancel()
		if err := a.SendRecordOTP(sendCtx, record, id, code); err != nil {
			err = errors.Join(err, a.deleteOTP(sendCtx, id))
			a.Logger().LogAttrs(sendCtx, slog.LevelError, "Failed to send OTP email", slog.String("error", err.Error()))
		}
	}()

	return id, nil
}

// FindOTPForAuth returns the OTP with the given id and its record when the OTP belongs to
// auth collection c and has not expired; anything else is ErrInvalidOTP. The code is not
// checked yet: the caller rate limits the attempts first, then calls ValidatePassword.
func (a *App) FindOTPForAuth(ctx context.Context, c *Collection, otpID string) (*OTP, *Record, error) {
	if !c.IsAuth() || !c.Auth.OTP.Enabled {
		return nil, nil, ErrOTPDisabled
	}

	o, err := a.findOTP(ctx, otpID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil, ErrInvalidOTP
	case err != nil:
		return nil, nil, err
	case o.CollectionRef != c.ID:
		return nil, nil, fmt.Errorf("%w: the OTP is for a different collection", ErrInvalidOTP)
	case o.hasExpired(a.now(), time.Duration(c.Auth.OTP.Duration)*time.Second):
		return nil, nil, fmt.Errorf("%w: the OTP is expired", ErrInvalidOTP)
	}

	record, err := findRecordWhere(ctx, a.data.Read(), c, "`id` = ?", o.RecordRef)
	if errors.Is(err, ErrRecordNotFound) {
		return nil, nil, fmt.Errorf("%w: missing auth record", ErrInvalidOTP)
	}
	if err != nil {
		return nil, nil, err
	}

	return o, record, nil
}

// CompleteOTPAuth finishes a login with the validated OTP o of record and returns the
// record as it is now: when the code was mailed to the record's current email and the
// record is unverified, it becomes verified (and, unless MFA is on, gets a random
// password, so that a password set by whoever registered the address stops working);
// then the OTP is deleted. Failures of either step are only logged, as with PocketBase:
// the OTP was valid.
func (a *App) CompleteOTPAuth(ctx context.Context, o *OTP, record *Record) *Record {
	c := record.Collection()
	if !record.GetBool(FieldNameVerified) && o.SentTo != "" && o.SentTo == record.Email() {
		data := map[string]any{FieldNameVerified: true}
		if !c.Auth.MFA.Enabled {
			if pass, err := security.RandomString(30); err == nil {
				data[FieldNamePassword], data[formKeyPasswordConfirm] = pass, pass
			}
		}
		if _, err := a.saveAuthFlow(ctx, record, data); err != nil {
			a.Logger().LogAttrs(ctx, slog.LevelError, "Failed to update record verified state after successful OTP validation",
				slog.String("error", err.Error()), slog.String("otpId", o.ID), slog.String("recordId", record.ID()))
		} else if fresh, err := findRecordWhere(ctx, a.data.Read(), c, "`id` = ?", record.ID()); err == nil {
			record = fresh
		}
	}

	if err := a.deleteOTP(ctx, o.ID); err != nil {
		a.Logger().LogAttrs(ctx, slog.LevelError, "Failed to delete used OTP",
			slog.String("error", err.Error()), slog.String("otpId", o.ID))
	}

	return record
}

// newRecordID returns a random 15-character record id.
func newRecordID() (string, error) {
	return security.RandomStringWithAlphabet(RecordIDLength, security.AlphabetLowerAlphanumeric)
}

const otpColumns = "`id`, `collectionRef`, `recordRef`, `password`, `sentTo`, `created`"

func scanOTP(scan func(dest ...any) error) (*OTP, error) {
	var o OTP
	var created string
	if err := scan(&o.ID, &o.CollectionRef, &o.RecordRef, &o.Hash, &o.SentTo, &created); err != nil {
		return nil, err
	}
	o.Created, _ = time.Parse(DateTimeLayout, created)

	return &o, nil
}

func (a *App) findOTP(ctx context.Context, id string) (*OTP, error) {
	row := a.data.Read().QueryRowContext(ctx, "SELECT "+otpColumns+" FROM "+quoteIdent(CollectionNameOTPs)+" WHERE `id` = ?", id)
	o, err := scanOTP(row.Scan)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("finding otp: %w", err)
	}

	return o, err
}

// findOTPsByRecord returns the OTPs of record, newest first.
func (a *App) findOTPsByRecord(ctx context.Context, record *Record) ([]*OTP, error) {
	rows, err := a.data.Read().QueryContext(ctx,
		"SELECT "+otpColumns+" FROM "+quoteIdent(CollectionNameOTPs)+
			" WHERE `collectionRef` = ? AND `recordRef` = ? ORDER BY `created` DESC, `rowid` DESC",
		record.Collection().ID, record.ID())
	if err != nil {
		return nil, fmt.Errorf("listing otps: %w", err)
	}
	defer rows.Close()

	var otps []*OTP
	for rows.Next() {
		o, err := scanOTP(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("listing otps: %w", err)
		}
		otps = append(otps, o)
	}

	return otps, rows.Err()
}

func (a *App) createOTP(ctx context.Context, record *Record, code, sentTo string) (string, error) {
	hash, err := security.HashPassword(code, otpHashCost)
	if err != nil {
		return "", fmt.Errorf("hashing otp: %w", err)
	}
	id, err := newRecordID()
	if err != nil {
		return "", err
	}
	now := a.nowDateTime()
	err = a.data.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			"INSERT INTO "+quoteIdent(CollectionNameOTPs)+" (`id`, `collectionRef`, `recordRef`, `password`, `sentTo`, `created`, `updated`) VALUES (?, ?, ?, ?, ?, ?, ?)",
			id, record.Collection().ID, record.ID(), hash, sentTo, now, now)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("creating otp: %w", err)
	}

	return id, nil
}

func (a *App) deleteOTP(ctx context.Context, id string) error {
	return a.deleteAuthRow(ctx, CollectionNameOTPs, id)
}

// deleteAuthRow deletes the row id of a system auth table (`_otps`, `_mfas`).
func (a *App) deleteAuthRow(ctx context.Context, table, id string) error {
	err := a.data.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(table)+" WHERE `id` = ?", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting %s row: %w", table, err)
	}

	return nil
}

// CreateRecordOTP creates an OTP for record without mailing it, as `pocketbase superuser
// otp` does, and returns its id and code. The record's collection must have OTP enabled
// (ErrOTPDisabled otherwise).
func (a *App) CreateRecordOTP(ctx context.Context, record *Record) (id, code string, err error) {
	c := record.Collection()
	if !c.IsAuth() || !c.Auth.OTP.Enabled {
		return "", "", ErrOTPDisabled
	}
	code, err = security.RandomStringWithAlphabet(max(c.Auth.OTP.Length, 1), otpDigits)
	if err != nil {
		return "", "", err
	}
	id, err = a.createOTP(ctx, record, code, "")
	if err != nil {
		return "", "", err
	}

	return id, code, nil
}
