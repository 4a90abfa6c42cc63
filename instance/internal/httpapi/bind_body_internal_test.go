package httpapi

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// bindTestForm is a fixed form as the auth routes declare theirs.
type bindTestForm struct {
	Identity string   `json:"identity"`
	Tags     []string `json:"tags"`
}

func bindTestContext(t *testing.T, target, contentType, body string) *gin.Context {
	t.Helper()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if contentType != "" {
		c.Request.Header.Set("Content-Type", contentType)
	}

	return c
}

func multipartBody(t *testing.T, fields ...string) (contentType, body string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := w.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	return w.FormDataContentType(), buf.String()
}

func TestBindBody(t *testing.T) {
	multipartType, multipartData := multipartBody(t, "identity", "part", "tags", "p")
	tests := []struct {
		name, target, contentType, body string
		want                            bindTestForm
		wantErr                         bool
	}{
		{name: "empty body binds nothing", contentType: "text/plain"},
		{name: "json", contentType: "application/json", body: `{"IDENTITY":"a","tags":["x"]}`, want: bindTestForm{Identity: "a", Tags: []string{"x"}}},
		{name: "json content type by prefix", contentType: "application/jsonfoo", body: `{"identity":"a"}`, want: bindTestForm{Identity: "a"}},
		{name: "only the first json value", contentType: "application/json", body: `{"identity":"a"} {"identity":"b"} x`, want: bindTestForm{Identity: "a"}},
		{name: "json repeated name", contentType: "application/json", body: `{"identity":"a","identity":"b"}`, wantErr: true},
		{name: "json repeated folded name", contentType: "application/json", body: `{"identity":"a","Identity":"b"}`, wantErr: true},
		{name: "json invalid utf-8", contentType: "application/json", body: "{\"identity\":\"\xff\"}", wantErr: true},
		{name: "json lone surrogate", contentType: "application/json", body: `{"identity":"\ud800"}`, wantErr: true},
		{name: "json of another type", contentType: "application/json", body: `{"identity":1}`, wantErr: true},
		{name: "upper-case content type", contentType: "APPLICATION/JSON", body: `{"identity":"a"}`, wantErr: true},
		{name: "no content type", body: `{"identity":"a"}`, wantErr: true},
		{name: "text/plain", contentType: "text/plain", body: `{"identity":"a"}`, wantErr: true},
		{
			name: "urlencoded takes the query values after the body's", target: "?identity=q&tags=qt",
			contentType: "application/x-www-form-urlencoded", body: "identity=b&tags=bt",
			want: bindTestForm{Identity: "b", Tags: []string{"bt", "qt"}},
		},
		{
			name: "multipart takes the query values before the parts'", target: "?identity=q&tags=qt",
			contentType: multipartType, body: multipartData,
			want: bindTestForm{Identity: "q", Tags: []string{"qt", "p"}},
		},
		{
			name: "@jsonPayload over the values", target: "?identity=q",
			contentType: "application/x-www-form-urlencoded", body: `@jsonPayload={"identity":"j"}`,
			want: bindTestForm{Identity: "j"},
		},
		{name: "@jsonPayload with trailing data", contentType: "application/x-www-form-urlencoded", body: `@jsonPayload={"identity":"j"} x`, wantErr: true},
		{name: "@jsonPayload with a repeated name", contentType: "application/x-www-form-urlencoded", body: `@jsonPayload={"identity":"j","identity":"k"}`, wantErr: true},
		{name: "xml", contentType: "application/xml", body: `<form><Identity>x</Identity></form>`, want: bindTestForm{Identity: "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := bindTestContext(t, "/api/x"+tc.target, tc.contentType, tc.body)
			var got bindTestForm
			_, err := bindBody(c, &got)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("bindBody succeeded with %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Identity != tc.want.Identity || !slices.Equal(got.Tags, tc.want.Tags) {
				t.Errorf("form = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestBindBodyErrorAnswers(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		bind                    func(c *gin.Context) error
		wantMessage             string
	}{
		{
			name: "auth form, unsupported", contentType: "APPLICATION/JSON", body: `{}`,
			bind:        func(c *gin.Context) error { return bindAuthForm(c, &bindTestForm{}) },
			wantMessage: "Unsupported Content-Type.",
		},
		{
			name: "auth form, bad json", contentType: "application/json", body: `{"a":1,"a":1}`,
			bind:        func(c *gin.Context) error { return bindAuthForm(c, &bindTestForm{}) },
			wantMessage: msgLoadFailed,
		},
		{
			name: "impersonate and confirm-password-reset, unsupported", contentType: "text/plain", body: `{}`,
			bind:        func(c *gin.Context) error { return bindAuthFormPlain(c, &bindTestForm{}) },
			wantMessage: msgLoadFailed,
		},
		{
			name: "fixed form, unsupported", contentType: "text/plain", body: `{}`,
			bind:        func(c *gin.Context) error { return bindFixedForm(c, &bindTestForm{}) },
			wantMessage: msgFormLoadFailed,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			apiErr := ToApiError(tc.bind(bindTestContext(t, "/api/x", tc.contentType, tc.body)))
			if apiErr.Status != http.StatusBadRequest || apiErr.Message != tc.wantMessage {
				t.Errorf("error = %d %q, want 400 %q", apiErr.Status, apiErr.Message, tc.wantMessage)
			}
		})
	}
}

func TestBindAuthFormRequestBody(t *testing.T) {
	c := bindTestContext(t, "/api/x?extra=1&identity=q", "application/x-www-form-urlencoded", "identity=b&tags=x&tags=y")
	var form bindTestForm
	if err := bindAuthForm(c, &form); err != nil {
		t.Fatal(err)
	}
	body, _ := c.Get(ctxKeyAuthFormBody)
	values, _ := body.(map[string]any)
	// as PocketBase's @request.body of a form: the request's Form, inferred
	if values["extra"] != 1.0 || !slices.Equal(values["identity"].([]any), []any{"b", "q"}) || len(values["tags"].([]any)) != 2 {
		t.Errorf("@request.body = %#v", values)
	}
}
