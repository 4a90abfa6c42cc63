package core

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// The stored settings are encrypted as PocketBase's tools/security Encrypt does, so that
// a data directory moves between PocketBase and this instance with the same key: AES in
// GCM mode keyed with the key's bytes (AES-256 for the documented 32-character key;
// 16 and 24 bytes select AES-128 and AES-192, any other length is an error), a random
// 12-byte nonce prepended to the sealed data, the whole written in standard base64 as
// the row's text value.

// encryptSettingsValue encrypts data with key in PocketBase's format.
func encryptSettingsValue(data []byte, key string) (string, error) {
	gcm, err := newSettingsGCM(key)
	if err != nil {
		return "", err
	}

	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("encrypting settings: %w", err)
	}

	return base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, data, nil)), nil
}

// decryptSettingsValue decrypts a value written by encryptSettingsValue (or by
// PocketBase) with key.
func decryptSettingsValue(value, key string) ([]byte, error) {
	gcm, err := newSettingsGCM(key)
	if err != nil {
		return nil, err
	}

	sealed, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("decrypting settings: %w", err)
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, errors.New("decrypting settings: value too short")
	}

	nonce, sealed := sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():]
	plain, err := gcm.Open(nil, nonce, sealed, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypting settings: %w", err)
	}

	return plain, nil
}

func newSettingsGCM(key string) (cipher.AEAD, error) {
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		return nil, fmt.Errorf("settings encryption key: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("settings encryption key: %w", err)
	}

	return gcm, nil
}
