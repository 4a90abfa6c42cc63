package core

import (
	"context"
	"fmt"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/security"
)

// SendTestEmail sends the template form.Template of the collection form.Collection
// (_superusers when empty) to form.Email, for a dummy record whose non-hidden fields are
// "__pb_test_<name>__" (PocketBase's forms.TestEmailSend). Validate the form first.
func (a *App) SendTestEmail(ctx context.Context, form TestEmailForm) error {
	nameOrID := form.Collection
	if nameOrID == "" {
		nameOrID = CollectionNameSuperusers
	}
	c, err := a.FindCachedCollectionByNameOrID(ctx, nameOrID)
	if err != nil {
		return err
	}
	if !c.IsAuth() {
		return ErrNotAuthRecord
	}

	row := make(map[string]any, len(c.Fields))
	for _, f := range c.Fields {
		if !f.GetHidden() {
			row[f.GetName()] = "__pb_test_" + f.GetName() + "__"
		}
	}
	tokenKey, err := security.RandomString(TokenKeyLength)
	if err != nil {
		return err
	}
	row[FieldNameTokenKey] = tokenKey
	row[FieldNameEmail] = form.Email
	record := NewRecordFromRow(c, row)

	switch form.Template {
	case "verification":
		return a.SendRecordVerification(ctx, record)
	case "password-reset":
		return a.SendRecordPasswordReset(ctx, record)
	case "email-change":
		return a.SendRecordChangeEmail(ctx, record, form.Email)
	case "otp":
		return a.SendRecordOTP(ctx, record, "_PB_TEST_OTP_ID_", "123456")
	case "login-alert":
		info := time.Now().UTC().Format("2006-01-02 15:04:05.000Z") + " - TEST_IP TEST_USER_AGENT"
		return a.SendRecordAuthAlert(ctx, record, info)
	default:
		return fmt.Errorf("unknown template %s", form.Template)
	}
}
