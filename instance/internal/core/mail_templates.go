package core

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"net/mail"
	"slices"
	"strings"
)

// Placeholders of the collection email templates (core/collection_model_auth_options.go).
// Besides these, "{RECORD:<field>}" is the string value of a non-hidden field of the
// auth record.
const (
	EmailPlaceholderAppName   = "{APP_NAME}"
	EmailPlaceholderAppURL    = "{APP_URL}"
	EmailPlaceholderToken     = "{TOKEN}"
	EmailPlaceholderOTP       = "{OTP}"
	EmailPlaceholderOTPID     = "{OTP_ID}"
	EmailPlaceholderAlertInfo = "{ALERT_INFO}"
)

// mailLayout is the HTML document PocketBase wraps every template body in
// (mails/templates/layout.go), with the same styles.
const mailLayout = `
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
    <meta name="viewport" content="width=device-width,initial-scale=1" />
    <style>
        body, html {
            padding: 0;
            margin: 0;
            border: 0;
            color: #16161a;
            background: #fff;
            font-size: 14px;
            line-height: 20px;
            font-weight: normal;
            font-family: Source Sans Pro, sans-serif, emoji;
        }
        body {
            padding: 20px 30px;
        }
        strong {
            font-weight: bold;
        }
        em, i {
            font-style: italic;
        }
        p {
            display: block;
            margin: 10px 0;
            font-family: inherit;
        }
        small {
            font-size: 12px;
            line-height: 16px;
        }
        hr {
            display: block;
            height: 1px;
            border: 0;
            width: 100%;
            background: #e1e6ea;
            margin: 10px 0;
        }
        a {
            color: inherit;
        }
        .hidden {
            display: none !important;
        }
        .btn {
            display: inline-block;
            vertical-align: top;
            border: 0;
            cursor: pointer;
            color: #fff !important;
            background: #16161a !important;
            text-decoration: none !important;
            line-height: 40px;
            width: auto;
            min-width: 150px;
            text-align: center;
            padding: 0 20px;
            margin: 5px 0;
            font-family: Source Sans Pro, sans-serif, emoji;;
            font-size: 14px;
            font-weight: bold;
            border-radius: 6px;
            box-sizing: border-box;
        }
    </style>
</head>
<body>
    {{template "content" .}}
</body>
</html>
`

// mailLayoutTemplate is mailLayout with the body (mails/templates/html_content.go)
// inserted unescaped: the collection templates are trusted HTML.
var mailLayoutTemplate = template.Must(template.Must(template.New("layout").Parse(mailLayout)).
	Parse(`{{define "content"}}{{.HTMLContent}}{{end}}`))

// ResolveEmailTemplate returns the subject and body of t with the placeholders replaced
// (EmailTemplate.Resolve: plain string replacement, values not escaped).
func ResolveEmailTemplate(t EmailTemplate, placeholders map[string]string) (subject, body string) {
	subject, body = t.Subject, t.Body
	for k, v := range placeholders {
		subject = strings.ReplaceAll(subject, k, v)
		body = strings.ReplaceAll(body, k, v)
	}

	return subject, body
}

// unescapedPlaceholderTypes are the field types whose {RECORD:<field>} value goes into
// a mail as is; every other value is HTML-escaped (mails/record.go nonescapeTypes).
var unescapedPlaceholderTypes = []string{FieldTypeAutodate, FieldTypeDate, FieldTypeBool, FieldTypeNumber}

// RenderRecordEmail renders an email template of record's collection as PocketBase's
// mails.resolveEmailTemplate does: the given placeholders, then {APP_NAME}, {APP_URL}
// and {RECORD:<field>} of every non-hidden field unless given (HTML-escaped but for
// dates, bools and numbers, so that a user's own field values cannot inject markup),
// and the body wrapped in the mail layout.
func (a *App) RenderRecordEmail(record *Record, t EmailTemplate, placeholders map[string]string) (subject, body string, err error) {
	all := make(map[string]string, len(placeholders)+len(record.Collection().Fields)+2)
	for k, v := range placeholders {
		all[k] = v
	}
	meta := a.Settings().Meta
	setDefault := func(k, v string) {
		if _, ok := all[k]; !ok {
			all[k] = v
		}
	}
	setDefault(EmailPlaceholderAppName, meta.AppName)
	setDefault(EmailPlaceholderAppURL, meta.AppURL)
	for _, f := range record.Collection().Fields {
		if f.GetHidden() {
			continue
		}
		v := placeholderString(record.Get(f.GetName()))
		if !slices.Contains(unescapedPlaceholderTypes, f.Type()) {
			v = html.EscapeString(v)
		}
		setDefault("{RECORD:"+f.GetName()+"}", v)
	}

	subject, rawBody := ResolveEmailTemplate(t, all)

	var buf bytes.Buffer
	//nolint:gosec // G203: the collection templates are HTML set by superusers, sent as is (PocketBase)
	data := struct{ HTMLContent template.HTML }{HTMLContent: template.HTML(rawBody)}
	if err := mailLayoutTemplate.Execute(&buf, data); err != nil {
		return "", "", fmt.Errorf("rendering mail layout: %w", err)
	}

	return subject, buf.String(), nil
}

// placeholderString is cast.ToString of a record value: lists and objects give "",
// JSON its raw text.
func placeholderString(v any) string {
	switch x := v.(type) {
	case json.RawMessage:
		return string(x)
	case []string, map[string]any, []any:
		return ""
	default:
		return castToString(x)
	}
}

// sendRecordEmail renders template t for record and mails it to the address to, from
// meta.senderName/senderAddress.
func (a *App) sendRecordEmail(ctx context.Context, record *Record, to string, t EmailTemplate, placeholders map[string]string) error {
	subject, body, err := a.RenderRecordEmail(record, t, placeholders)
	if err != nil {
		return err
	}

	meta := a.Settings().Meta
	return a.NewMailClient().Send(ctx, &MailMessage{
		From:    mail.Address{Name: meta.SenderName, Address: meta.SenderAddress},
		To:      []mail.Address{{Address: to}},
		Subject: subject,
		HTML:    body,
	})
}

// SendRecordVerification mails record a new verification token
// (mails.SendRecordVerification).
func (a *App) SendRecordVerification(ctx context.Context, record *Record) error {
	token, err := NewVerificationToken(record)
	if err != nil {
		return err
	}

	return a.sendRecordEmail(ctx, record, record.Email(), record.Collection().Auth.VerificationTemplate,
		map[string]string{EmailPlaceholderToken: token})
}

// SendRecordPasswordReset mails record a new password reset token
// (mails.SendRecordPasswordReset).
func (a *App) SendRecordPasswordReset(ctx context.Context, record *Record) error {
	token, err := NewPasswordResetToken(record)
	if err != nil {
		return err
	}

	return a.sendRecordEmail(ctx, record, record.Email(), record.Collection().Auth.ResetPasswordTemplate,
		map[string]string{EmailPlaceholderToken: token})
}

// SendRecordChangeEmail mails newEmail a token confirming record's change of email to
// it (mails.SendRecordChangeEmail).
func (a *App) SendRecordChangeEmail(ctx context.Context, record *Record, newEmail string) error {
	token, err := NewEmailChangeToken(record, newEmail)
	if err != nil {
		return err
	}

	return a.sendRecordEmail(ctx, record, newEmail, record.Collection().Auth.ConfirmEmailChangeTemplate,
		map[string]string{EmailPlaceholderToken: token})
}

// SendRecordOTP mails record the one-time password pass of the OTP otpID
// (mails.SendRecordOTP).
func (a *App) SendRecordOTP(ctx context.Context, record *Record, otpID, pass string) error {
	return a.sendRecordEmail(ctx, record, record.Email(), record.Collection().Auth.OTP.EmailTemplate,
		map[string]string{EmailPlaceholderOTPID: otpID, EmailPlaceholderOTP: pass})
}

// SendRecordAuthAlert mails record the new-location login alert with info, HTML-escaped
// as it carries the client's User-Agent (mails.SendRecordAuthAlert).
func (a *App) SendRecordAuthAlert(ctx context.Context, record *Record, info string) error {
	return a.sendRecordEmail(ctx, record, record.Email(), record.Collection().Auth.AuthAlert.EmailTemplate,
		map[string]string{EmailPlaceholderAlertInfo: html.EscapeString(info)})
}
