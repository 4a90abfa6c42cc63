package httpapi

import "github.com/pocketfleet/pocketfleet/instance/internal/core"

// TakeAppleName exposes the Apple name store of /api/oauth2-redirect to tests.
func TakeAppleName(app *core.App, code string) string { return takeAppleName(app, code) }
