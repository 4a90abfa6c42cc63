package interop

import (
	"bytes"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSameBindingAnswersAsPocketBase sends both servers the same bodies of the routes
// that bind a fixed form (PocketBase's router.Event.BindBody): auth forms, collections
// and their import, settings, the SQL console, backups and realtime, with trailing
// data, repeated names, invalid UTF-8, lone surrogates, case-insensitive names, wrong
// Content-Types and form bodies whose URL carries query values too.
//
// note: a JSON null settings body is not probed: PocketBase answers 500, ours a 400.
func TestSameBindingAnswersAsPocketBase(t *testing.T) {
	pair := startPair(t)
	for _, p := range bindingProbes(t) {
		want, got := pair.ask(t, p)
		if p.anyOrder {
			want.Keys, got.Keys = "", ""
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: %s %s as %q differs (-pocketbase +ours):\n%s", p.name, p.method, p.path, p.as, diff)
		}
	}
}

// formData is a multipart body of the fields (name, value pairs) with a fixed boundary,
// and its Content-Type.
func formData(t *testing.T, fields ...string) (body, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary("jsonbindboundary"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		if err := w.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String(), w.FormDataContentType()
}

const formType = "application/x-www-form-urlencoded"

// bindingProbes are the requests of TestSameBindingAnswersAsPocketBase, in order.
func bindingProbes(t *testing.T) []probe {
	const password = "/api/collections/users/auth-with-password"
	aliceLogin := `{"identity":"alice@example.com","password":"alice-pass-123"}`
	multiLogin, multiType := formData(t, "identity", "alice@example.com")
	multiWrong, _ := formData(t, "identity", "alice@example.com", "password", "wrong")

	var out []probe
	// one JSON body sent with every flavour of malformed JSON and Content-Type
	malformed := func(name, method, path, as, good string) {
		open := strings.TrimSuffix(good, "}")
		comma := ","
		if open == "{" {
			comma = ""
		}
		out = append(out,
			probe{name: name + ": right", method: method, path: path, as: as, body: good},
			probe{name: name + ": trailing garbage", method: method, path: path, as: as, body: good + " x"},
			probe{name: name + ": a second value", method: method, path: path, as: as, body: good + good},
			probe{name: name + ": trailing comma", method: method, path: path, as: as, body: good + ","},
			probe{name: name + ": repeated name", method: method, path: path, as: as, body: open + comma + `"zz":1,"zz":2}`},
			probe{name: name + ": repeated escaped name", method: method, path: path, as: as, body: open + comma + `"zz":1,"\u007a\u007a":2}`},
			probe{name: name + ": invalid utf-8", method: method, path: path, as: as, body: open + comma + "\"zz\":\"\xff\"}"},
			probe{name: name + ": lone surrogate", method: method, path: path, as: as, body: open + comma + `"zz":"\ud800"}`},
			probe{name: name + ": surrogate pair", method: method, path: path, as: as, body: open + comma + `"zz":"\ud83d\ude00"}`},
			probe{name: name + ": truncated", method: method, path: path, as: as, body: open + comma + `"zz":`},
			probe{name: name + ": an array", method: method, path: path, as: as, body: `[` + good + `]`},
			probe{name: name + ": upper-case Content-Type", method: method, path: path, as: as, body: good, ctype: "APPLICATION/JSON"},
			probe{name: name + ": Content-Type with charset", method: method, path: path, as: as, body: good, ctype: "application/json; charset=utf-8"},
			probe{name: name + ": Content-Type by prefix", method: method, path: path, as: as, body: good, ctype: "application/jsonx"},
			probe{name: name + ": text/plain", method: method, path: path, as: as, body: good, ctype: "text/plain"},
			probe{name: name + ": no Content-Type subtype", method: method, path: path, as: as, body: good, ctype: "application"},
			probe{name: name + ": empty body", method: method, path: path, as: as, body: "", ctype: "text/plain"},
			probe{name: name + ": @jsonPayload with trailing data", method: method, path: path, as: as, body: "@jsonPayload=" + q(good+" x"), ctype: formType},
			probe{name: name + ": @jsonPayload with a repeated name", method: method, path: path, as: as, body: "@jsonPayload=" + q(open+comma+`"zz":1,"zz":2}`), ctype: formType},
			probe{name: name + ": @jsonPayload not an object", method: method, path: path, as: as, body: "@jsonPayload=" + q(`[1]`), ctype: formType},
		)
	}

	// auth forms
	malformed("auth with password", "POST", password, "", aliceLogin)
	out = append(out,
		probe{name: "password: names fold case", method: "POST", path: password, body: `{"IDENTITY":"alice@example.com","Password":"alice-pass-123"}`},
		probe{name: "password: names fold - and _", method: "POST", path: password, body: `{"identity":"alice@example.com","pass_word":"alice-pass-123"}`},
		probe{name: "password: a number for a string", method: "POST", path: password, body: `{"identity":1,"password":"x"}`},
		probe{name: "password: null body", method: "POST", path: password, body: `null`},
		probe{name: "password: urlencoded with the password in the query", method: "POST", path: password + "?password=alice-pass-123", body: "identity=alice%40example.com", ctype: formType},
		probe{name: "password: urlencoded body before the query", method: "POST", path: password + "?password=alice-pass-123", body: "identity=alice%40example.com&password=wrong", ctype: formType},
		probe{name: "password: multipart with the password in the query", method: "POST", path: password + "?password=alice-pass-123", body: multiLogin, ctype: multiType},
		probe{name: "password: multipart query before the parts", method: "POST", path: password + "?password=alice-pass-123", body: multiWrong, ctype: multiType},
		probe{name: "password: form values all in the query", method: "POST", path: password + "?identity=alice%40example.com&password=alice-pass-123", body: "x=1", ctype: formType},
		probe{name: "password: @jsonPayload over the query", method: "POST", path: password + "?password=wrong", body: "@jsonPayload=" + q(aliceLogin), ctype: formType},
		probe{name: "password: xml by Go field names", method: "POST", path: password, body: `<form><Identity>alice@example.com</Identity><Password>alice-pass-123</Password></form>`, ctype: "text/xml"},
		probe{name: "otp: xml by Go field names", method: "POST", path: "/api/collections/users/auth-with-otp", body: `<form><OTPId>nope</OTPId><Password>123456</Password></form>`, ctype: "application/xml"},
		probe{name: "otp: xml by json names", method: "POST", path: "/api/collections/users/auth-with-otp", body: `<form><otpId>nope</otpId><password>123456</password></form>`, ctype: "application/xml"},
		probe{name: "password: broken xml", method: "POST", path: password, body: `<form><Identity>`, ctype: "application/xml"},
		probe{name: "password: xml", method: "POST", path: password, body: `<form><identity>alice@example.com</identity><password>alice-pass-123</password></form>`, ctype: "application/xml"},
	)
	malformed("request otp", "POST", "/api/collections/users/request-otp", "", `{"email":"nobody@example.com"}`)
	malformed("auth with otp", "POST", "/api/collections/users/auth-with-otp", "", `{"otpId":"nope","password":"123456"}`)
	malformed("request verification", "POST", "/api/collections/users/request-verification", "", `{"email":"nobody@example.com"}`)
	malformed("confirm verification", "POST", "/api/collections/users/confirm-verification", "", `{"token":"bad"}`)
	malformed("request password reset", "POST", "/api/collections/users/request-password-reset", "", `{"email":"nobody@example.com"}`)
	malformed("confirm password reset", "POST", "/api/collections/users/confirm-password-reset", "", `{"token":"bad","password":"new-pass-123","passwordConfirm":"new-pass-123"}`)
	malformed("request email change", "POST", "/api/collections/users/request-email-change", "alice", `{"newEmail":"bad"}`)
	malformed("confirm email change", "POST", "/api/collections/users/confirm-email-change", "", `{"token":"bad","password":"x"}`)
	malformed("impersonate", "POST", "/api/collections/users/impersonate/"+aliceID, "su", `{"duration":100}`)
	malformed("auth with oauth2", "POST", "/api/collections/users/auth-with-oauth2", "", `{"provider":"nope","code":"x","createData":{"a":1}}`)
	out = append(out,
		probe{name: "impersonate: a fraction for the duration", method: "POST", path: "/api/collections/users/impersonate/" + aliceID, as: "su", body: `{"duration":1.5}`},
		probe{name: "impersonate: duration in the query of a form", method: "POST", path: "/api/collections/users/impersonate/" + aliceID + "?duration=-1", as: "su", body: "x=1", ctype: formType},
		probe{name: "request otp: email in the query of a form", method: "POST", path: "/api/collections/users/request-otp?email=bad", body: "x=1", ctype: formType},
		probe{name: "oauth2: createData in a form", method: "POST", path: "/api/collections/users/auth-with-oauth2", body: "provider=nope&createData=x", ctype: formType},
		probe{name: "oauth2: createData not an object", method: "POST", path: "/api/collections/users/auth-with-oauth2", body: `{"provider":"nope","createData":[1]}`},
	)

	// collections
	malformed("create collection", "POST", "/api/collections", "su", `{"name":"jb_one","type":"base","fields":[{"name":"title","type":"text"}]}`)
	out = append(out,
		probe{name: "create collection: folded names", method: "POST", path: "/api/collections", as: "su", body: `{"NAME":"jb_two","Type":"base"}`},
		probe{name: "create collection: urlencoded with the query", method: "POST", path: "/api/collections?type=base&listRule=" + q(`id != ""`), as: "su", body: "name=jb_three", ctype: formType},
		probe{name: "update collection: trailing garbage", method: "PATCH", path: "/api/collections/jb_one", as: "su", body: `{"listRule":""} x`},
		probe{name: "update collection: repeated name", method: "PATCH", path: "/api/collections/jb_one", as: "su", body: `{"listRule":"","listRule":null}`},
		probe{name: "update collection: invalid utf-8", method: "PATCH", path: "/api/collections/jb_one", as: "su", body: "{\"listRule\":\"\xff\"}"},
		probe{name: "update collection: upper-case Content-Type", method: "PATCH", path: "/api/collections/jb_one", as: "su", body: `{"listRule":""}`, ctype: "APPLICATION/JSON"},
		probe{name: "update collection: urlencoded with the query", method: "PATCH", path: "/api/collections/jb_one?viewRule=" + q(`id != ""`), as: "su", body: "listRule=", ctype: formType},
		probe{name: "update collection: the query alone", method: "PATCH", path: "/api/collections/jb_one?createRule=", as: "su", body: "x=1", ctype: formType},
		probe{name: "view collection", method: "GET", path: "/api/collections/jb_one", as: "su"},
	)
	malformed("import collections", "PUT", "/api/collections/import", "su", `{"collections":[],"deleteMissing":false}`)
	out = append(out,
		probe{name: "import: deleteMissing from the query", method: "PUT", path: "/api/collections/import?deleteMissing=1", as: "su", body: "x=1", ctype: formType},
		probe{name: "import: collections in a form", method: "PUT", path: "/api/collections/import", as: "su", body: "collections=x", ctype: formType},
	)
	for _, name := range []string{"jb_one", "jb_two", "jb_three"} {
		out = append(out, probe{name: "delete " + name, method: "DELETE", path: "/api/collections/" + name, as: "su"})
	}

	// settings
	malformed("update settings", "PATCH", "/api/settings", "su", `{"meta":{"appName":"Jsonbind"}}`)
	out = append(out,
		probe{name: "settings: urlencoded with the query", method: "PATCH", path: "/api/settings?meta.appName=FromQuery", as: "su", body: "meta.senderName=Sender", ctype: formType},
		probe{name: "settings: the body's value before the query's", method: "PATCH", path: "/api/settings?meta.appName=FromQuery", as: "su", body: "meta.appName=FromBody", ctype: formType},
		probe{name: "settings: a fraction for an integer", method: "PATCH", path: "/api/settings", as: "su", body: `{"smtp":{"port":25.5}}`},
	)
	malformed("test email", "POST", "/api/settings/test/email", "su", `{"email":"bad","template":"verification"}`)
	malformed("test s3", "POST", "/api/settings/test/s3", "su", `{"filesystem":"nope"}`)
	malformed("apple client secret", "POST", "/api/settings/apple/generate-client-secret", "su", `{"clientId":"x","teamId":"y","keyId":"z","privateKey":"bad","duration":1}`)
	out = append(out,
		probe{name: "apple client secret: a fraction for the duration", method: "POST", path: "/api/settings/apple/generate-client-secret", as: "su", body: `{"clientId":"x","duration":1.5}`},
		probe{name: "apple client secret: values in the query of a form", method: "POST", path: "/api/settings/apple/generate-client-secret?clientId=x&duration=-1", as: "su", body: "teamId=y", ctype: formType},
	)

	// the SQL console, backups, realtime
	malformed("sql", "POST", "/api/sql", "su", `{"query":"select 1 as one"}`)
	out = append(out,
		probe{name: "sql: query in the query string of a form", method: "POST", path: "/api/sql?query=" + q("select 2 as two"), as: "su", body: "x=1", ctype: formType},
	)
	malformed("create backup", "POST", "/api/backups", "su", `{"name":"bad name"}`)
	malformed("realtime subscriptions", "POST", "/api/realtime", "", `{"clientId":"nope","subscriptions":["posts"]}`)
	out = append(out,
		probe{name: "realtime: clientId in the query of a form", method: "POST", path: "/api/realtime?clientId=nope", body: "subscriptions=posts", ctype: formType},
	)

	return out
}
