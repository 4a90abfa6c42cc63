package oauth2

import (
	"testing"
)

// FuzzUserMapping feeds arbitrary user info documents through every provider's
// mapping: decoding and mapping must never panic, whatever a provider answers.
func FuzzUserMapping(f *testing.F) {
	for _, seed := range []string{
		`{"sub":"1","email":"a@b.c","email_verified":"true"}`,
		`{"data":[{"id":"1"}],"response":[{"id":5,"first_name":"a"}]}`,
		`{"data":{"me":{"enabled":true},"viewer":{"active":false}},"active":1}`,
		`{"id":1e400}`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(_ *testing.T, data []byte) {
		raw, err := decodeObject(data)
		if err != nil {
			return
		}
		for _, s := range specs {
			u := &User{ID: lookupString(raw, s.user.ID), Email: lookupString(raw, s.user.Email)}
			_ = truthy(lookup(raw, s.user.EmailVerified))
			if s.fixUser != nil {
				_ = s.fixUser(u, raw)
			}
		}
	})
}
