package core

import (
	"context"
	"crypto/md5" //nolint:gosec // G501: a device fingerprint, not a secret (PocketBase's security.MD5)
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"
)

// authOriginsMax is how many login origins are kept per record (an arbitrary bound, as
// PocketBase's).
const authOriginsMax = 5

// authOriginUserAgentMax is how much of the User-Agent enters a fingerprint and the
// alert mail; a longer one is cut there and gets "..." appended (PocketBase's authAlert).
const authOriginUserAgentMax = 200

// authAlertTimeLayout is how the time of a new login is written in the alert mail.
const authAlertTimeLayout = "2006-01-02 15:04:05.000Z"

// AuthOriginFingerprint is the `_authOrigins.fingerprint` of a login from ip with
// userAgent: the hex MD5 of the IP followed by the user agent, cut as
// authOriginUserAgent does.
func AuthOriginFingerprint(ip, userAgent string) string {
	sum := md5.Sum([]byte(ip + authOriginUserAgent(userAgent))) //nolint:gosec // G401: see the import

	return hex.EncodeToString(sum[:])
}

// authOriginUserAgent is userAgent as a login origin records it: its first 200 bytes
// followed by "..." when it is longer.
func authOriginUserAgent(userAgent string) string {
	if len(userAgent) > authOriginUserAgentMax {
		return userAgent[:authOriginUserAgentMax] + "..."
	}

	return userAgent
}

type authOrigin struct {
	id, fingerprint string
}

// TrackAuthOrigin records a successful login of record from ip with userAgent in
// `_authOrigins`, as PocketBase's authAlert does for collections with authAlert.enabled:
// a login from a device (fingerprint) the record has not used before gets the
// new-login alert mail, unless it is the record's first login or the record has no
// email; a known device only has its row touched. A new device leaves at most five
// origins, the first recorded ones being dropped (PocketBase orders them by created).
//
// As PocketBase, the alert is sent before the origin is saved and waited for (up to
// authAlertWait): when it cannot be sent (a mail server that refuses it, or none
// configured), the origin is not recorded, so the next login from the device alerts
// again, and the error is returned for the caller to log.
func (a *App) TrackAuthOrigin(ctx context.Context, record *Record, ip, userAgent string) error {
	fingerprint := AuthOriginFingerprint(ip, userAgent)
	c := record.Collection()

	origins, err := a.findAuthOrigins(ctx, record)
	if err != nil {
		return err
	}
	var current *authOrigin
	for i := range origins {
		if origins[i].fingerprint == fingerprint {
			current = &origins[i]
			break
		}
	}

	if current == nil && len(origins) > 0 && record.Email() != "" {
		info := a.now().UTC().Format(authAlertTimeLayout) + " - " + ip + " " + authOriginUserAgent(userAgent)
		sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), authAlertWait)
		err := a.SendRecordAuthAlert(sendCtx, record, info)
		cancel()
		if err != nil {
			return err
		}
	}

	now := a.nowDateTime()
	err = a.data.Tx(ctx, func(tx *sql.Tx) error {
		// keep room for the current origin among the newest ones
		kept := 1
		for _, o := range origins {
			if current != nil && o.id == current.id {
				continue
			}
			if kept < authOriginsMax {
				kept++
				continue
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(CollectionNameAuthOrigins)+" WHERE `id` = ?", o.id); err != nil {
				return err
			}
		}

		if current != nil {
			_, err := tx.ExecContext(ctx, "UPDATE "+quoteIdent(CollectionNameAuthOrigins)+" SET `updated` = ? WHERE `id` = ?", now, current.id)
			return err
		}
		id, err := newRecordID()
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			"INSERT INTO "+quoteIdent(CollectionNameAuthOrigins)+" (`id`, `collectionRef`, `recordRef`, `fingerprint`, `created`, `updated`) VALUES (?, ?, ?, ?, ?, ?)",
			id, c.ID, record.ID(), fingerprint, now, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("saving auth origin: %w", err)
	}

	return nil
}

// authAlertWait is how long a login waits for its new-device alert mail (PocketBase's
// 15 s "fake" timeout in apis/record_helpers.go authAlert).
const authAlertWait = 15 * time.Second

// findAuthOrigins returns the origins of record, most recently created first.
func (a *App) findAuthOrigins(ctx context.Context, record *Record) ([]authOrigin, error) {
	rows, err := a.data.Read().QueryContext(ctx,
		"SELECT `id`, `fingerprint` FROM "+quoteIdent(CollectionNameAuthOrigins)+
			" WHERE `collectionRef` = ? AND `recordRef` = ? ORDER BY `created` DESC, `rowid` DESC",
		record.Collection().ID, record.ID())
	if err != nil {
		return nil, fmt.Errorf("listing auth origins: %w", err)
	}
	defer rows.Close()

	var origins []authOrigin
	for rows.Next() {
		var o authOrigin
		if err := rows.Scan(&o.id, &o.fingerprint); err != nil {
			return nil, fmt.Errorf("listing auth origins: %w", err)
		}
		origins = append(origins, o)
	}

	return origins, rows.Err()
}
