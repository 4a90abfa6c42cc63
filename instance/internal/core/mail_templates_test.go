package core_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func TestRenderRecordEmail(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	alice, err := app.FindRecordByID(t.Context(), "users", "w2bx8e6qg38uo33")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name                  string
		template              core.EmailTemplate
		placeholders          map[string]string
		wantSubject, wantBody string
	}{
		{
			name: "app placeholders and record fields",
			template: core.EmailTemplate{
				Subject: "{APP_NAME}: hi {RECORD:name}",
				Body:    "<p>{RECORD:email} {RECORD:verified} {RECORD:emailVisibility} {RECORD:id} {APP_URL}</p>",
			},
			wantSubject: "Acme: hi Alice",
			wantBody:    "<p>alice@example.com true true w2bx8e6qg38uo33 http://localhost:8090</p>",
		},
		{
			name:        "hidden fields and unknown placeholders stay as written",
			template:    core.EmailTemplate{Subject: "{RECORD:password}", Body: "{RECORD:tokenKey} {RECORD:nope} {OTP}"},
			wantSubject: "{RECORD:password}",
			wantBody:    "{RECORD:tokenKey} {RECORD:nope} {OTP}",
		},
		{
			name:         "given placeholders win and are not escaped",
			template:     core.EmailTemplate{Subject: "{APP_NAME}", Body: "<a href=\"{APP_URL}/x/{TOKEN}\">{RECORD:name}</a>"},
			placeholders: map[string]string{"{APP_NAME}": "Other & Co", "{TOKEN}": "a.b.c", "{RECORD:name}": "<b>A</b>"},
			wantSubject:  "Other & Co",
			wantBody:     `<a href="http://localhost:8090/x/a.b.c"><b>A</b></a>`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			subject, body, err := app.RenderRecordEmail(alice, tc.template, tc.placeholders)
			if err != nil {
				t.Fatal(err)
			}
			if subject != tc.wantSubject {
				t.Errorf("subject = %q, want %q", subject, tc.wantSubject)
			}
			// the body sits in PocketBase's layout
			if !strings.HasPrefix(body, "\n<!DOCTYPE html PUBLIC") || !strings.Contains(body, "<body>\n    "+tc.wantBody+"\n</body>\n</html>\n") {
				t.Errorf("body = %q, want the layout around %q", body, tc.wantBody)
			}
		})
	}
}

// TestRenderRecordEmailLayoutStyles checks that the layout styles exactly the selectors
// of PocketBase's (mails/templates/layout.go), no more: the mails must be the same.
func TestRenderRecordEmailLayoutStyles(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	alice, err := app.FindRecordByID(t.Context(), "users", "w2bx8e6qg38uo33")
	if err != nil {
		t.Fatal(err)
	}
	_, body, err := app.RenderRecordEmail(alice, core.EmailTemplate{Subject: "s", Body: "b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	style, _, _ := strings.Cut(body[strings.Index(body, "<style>")+len("<style>"):], "</style>")
	var selectors []string
	for line := range strings.Lines(style) {
		if sel, ok := strings.CutSuffix(strings.TrimSpace(line), " {"); ok {
			selectors = append(selectors, sel)
		}
	}
	want := []string{"body, html", "body", "strong", "em, i", "p", "small", "hr", "a", ".hidden", ".btn"}
	if !slices.Equal(selectors, want) {
		t.Errorf("layout selectors = %q, want PocketBase's %q", selectors, want)
	}
}

func TestResolveEmailTemplateDefaults(t *testing.T) {
	opts, err := core.NewAuthOptions()
	if err != nil {
		t.Fatal(err)
	}
	subject, body := core.ResolveEmailTemplate(opts.ResetPasswordTemplate, map[string]string{
		"{APP_NAME}": "Acme", "{APP_URL}": "https://acme.test", "{TOKEN}": "TKN",
	})
	if subject != "Reset your Acme password" {
		t.Errorf("subject = %q", subject)
	}
	if !strings.Contains(body, `href="https://acme.test/_/#/auth/confirm-password-reset/TKN"`) || !strings.Contains(body, "Acme team") {
		t.Errorf("body = %s", body)
	}
}

// TestRenderRecordEmailEscapesRecordValues checks that {RECORD:<field>} values are
// HTML-escaped, as PocketBase's resolveEmailTemplate does for every type but dates,
// bools and numbers: a user's own name cannot put markup into the mails sent to them.
func TestRenderRecordEmailEscapesRecordValues(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))
	if _, err := app.DB().Write().ExecContext(t.Context(),
		"UPDATE users SET name = ? WHERE id = ?", `<a href="https://evil.test">Alice & co</a>`, "w2bx8e6qg38uo33"); err != nil {
		t.Fatal(err)
	}
	alice, err := app.FindRecordByID(t.Context(), "users", "w2bx8e6qg38uo33")
	if err != nil {
		t.Fatal(err)
	}

	subject, body, err := app.RenderRecordEmail(alice, core.EmailTemplate{
		Subject: "hi {RECORD:name}",
		Body:    "<p>{RECORD:name} {RECORD:verified}</p>",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const escaped = "&lt;a href=&#34;https://evil.test&#34;&gt;Alice &amp; co&lt;/a&gt;"
	if subject != "hi "+escaped {
		t.Errorf("subject = %q", subject)
	}
	if !strings.Contains(body, "<p>"+escaped+" true</p>") {
		t.Errorf("body = %q", body)
	}
}
