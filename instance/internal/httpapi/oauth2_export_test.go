package httpapi

import (
	"net/http"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// TakeAppleName exposes the Apple name store of /api/oauth2-redirect to tests.
func TakeAppleName(app *core.App, code string) string { return takeAppleName(app, code) }

// AllowLoopbackAvatars lets OAuth2 avatar downloads reach loopback servers (the OP of
// the tests) until the returned restore runs; production refuses them.
func AllowLoopbackAvatars() (restore func()) {
	saved := oauth2AvatarClient
	oauth2AvatarClient = &http.Client{Timeout: oauth2AvatarTimeout}
	return func() { oauth2AvatarClient = saved }
}
