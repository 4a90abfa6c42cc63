package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pocketfleet/pocketfleet/instance/contract"
)

// settingsParamID is the `_params` row holding the settings (core/settings_model.go
// paramsKeySettings).
const settingsParamID = "settings"

// settingsState holds the App's current settings.
type settingsState struct {
	// current is replaced as a whole on save and never modified in place.
	current atomic.Pointer[Settings]
	// saveMu orders the saves, so that the row and current change together.
	saveMu sync.Mutex
	// encryptionKey, when set, encrypts the stored row.
	encryptionKey string
}

// Settings returns a copy of the current settings. It is safe to call from any
// goroutine, and the copy may be changed freely: changes take effect only through
// SaveSettings.
func (a *App) Settings() *Settings {
	s := a.settings.current.Load()
	if s == nil {
		return DefaultSettings()
	}

	return s.Clone()
}

// SaveSettings validates s and, when it is valid, stores it in `_params` (encrypted when
// the app has an encryption key) and makes it the current settings, then applies
// settings.logs to the stored logs (applyLogSettings). Invalid settings return
// NestedErrors (see Settings.Validate) and change nothing.
func (a *App) SaveSettings(ctx context.Context, s *Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s = s.Clone()

	raw, err := s.storedJSON()
	if err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	// note: as PocketBase does, the plain row is written as a BLOB and the encrypted one
	// as base64 TEXT.
	var value any = raw
	if key := a.settings.encryptionKey; key != "" {
		if value, err = encryptSettingsValue(raw, key); err != nil {
			return fmt.Errorf("saving settings: %w", err)
		}
	}

	a.settings.saveMu.Lock()
	defer a.settings.saveMu.Unlock()

	now := a.nowDateTime()
	err = a.data.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			"INSERT INTO `_params` (`id`, `value`, `created`, `updated`) VALUES (?, ?, ?, ?) "+
				"ON CONFLICT (`id`) DO UPDATE SET `value` = excluded.`value`, `updated` = excluded.`updated`",
			settingsParamID, value, now, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	a.settings.current.Store(s)
	a.applyLogSettings(ctx, s.Logs)

	return nil
}

// loadSettings reads the stored settings into the app, as PocketBase's ReloadSettings
// does when it bootstraps: a missing row is created with the defaults.
func (a *App) loadSettings(ctx context.Context, encryptionKey string) error {
	a.settings.encryptionKey = encryptionKey

	var value []byte
	err := a.data.Read().QueryRowContext(ctx,
		"SELECT `value` FROM `_params` WHERE `id` = ?", settingsParamID,
	).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		if err := a.SaveSettings(ctx, DefaultSettings()); err != nil {
			return fmt.Errorf("storing the default settings: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading settings: %w", err)
	}

	s, err := decodeStoredSettings(value, encryptionKey)
	if err != nil {
		return fmt.Errorf("reading settings: %w", err)
	}
	a.settings.current.Store(s)

	return nil
}

// decodeStoredSettings decodes a `_params` settings value over the defaults, as
// PocketBase's Settings.loadParam does: as plain JSON first and, when that fails, as a
// value encrypted with key. Members the row lacks keep their default.
func decodeStoredSettings(value []byte, key string) (*Settings, error) {
	s := DefaultSettings()
	plainErr := decodeJSON(value, s, false)
	if plainErr == nil {
		return s, nil
	}
	if key == "" {
		return nil, fmt.Errorf("invalid settings db data or missing encryption key %q: %w", contract.EnvEncryptionKey, plainErr)
	}

	plain, err := decryptSettingsValue(string(value), key)
	if err != nil {
		return nil, err
	}
	s = DefaultSettings()
	if err := decodeJSON(plain, s, false); err != nil {
		return nil, fmt.Errorf("decoding decrypted settings: %w", err)
	}

	return s, nil
}
