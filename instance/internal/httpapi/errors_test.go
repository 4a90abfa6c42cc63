package httpapi

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

func TestSentenize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"   ", ""},
		{"missing or invalid email", "Missing or invalid email."},
		{"  already a sentence.  ", "Already a sentence."},
		{"what?", "What?"},
		{"stop!", "Stop!"},
		{"ümlaut first", "Ümlaut first."},
		{"Too Many Requests.", "Too Many Requests."},
		{"ends with ellipsis…", "Ends with ellipsis…."},
	}
	for _, tc := range tests {
		if got := Sentenize(tc.in); got != tc.want {
			t.Errorf("Sentenize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewApiErrorDefaults(t *testing.T) {
	tests := []struct {
		name        string
		err         *ApiError
		wantStatus  int
		wantMessage string
	}{
		{"not found", NewNotFoundError("", nil), 404, "The requested resource wasn't found."},
		{"bad request", NewBadRequestError("", nil), 400, "Something went wrong while processing your request."},
		{"forbidden", NewForbiddenError("", nil), 403, "You are not allowed to perform this request."},
		{"unauthorized", NewUnauthorizedError("", nil), 401, "Missing or invalid authentication."},
		{"internal", NewInternalServerError("", nil), 500, "Something went wrong while processing your request."},
		{"too many", NewTooManyRequestsError("", nil), 429, "Too Many Requests."},
		{"other status uses its status text", NewApiError(http.StatusRequestEntityTooLarge, "", nil), 413, "Request Entity Too Large."},
		{"custom message is sentenized", NewBadRequestError("unsupported Content-Type", nil), 400, "Unsupported Content-Type."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err.Status != tc.wantStatus || tc.err.Message != tc.wantMessage {
				t.Fatalf("got %d %q, want %d %q", tc.err.Status, tc.err.Message, tc.wantStatus, tc.wantMessage)
			}
			if tc.err.Data == nil {
				t.Fatal("Data is nil, want {}")
			}
		})
	}
}

func TestToApiError(t *testing.T) {
	custom := NewForbiddenError("nope", nil)

	tests := []struct {
		name        string
		err         error
		wantStatus  int
		wantMessage string
	}{
		{"api error as is", custom, 403, "Nope."},
		{"wrapped api error", fmt.Errorf("doing x: %w", custom), 403, "Nope."},
		{"no rows", sql.ErrNoRows, 404, "The requested resource wasn't found."},
		{"wrapped no rows", fmt.Errorf("finding: %w", sql.ErrNoRows), 404, "The requested resource wasn't found."},
		{"core not found", core.ErrSuperuserNotFound, 404, "The requested resource wasn't found."},
		{"missing file", fs.ErrNotExist, 404, "The requested resource wasn't found."},
		{"anything else", errors.New("near \"SELEC\": syntax error"), 400, "Something went wrong while processing your request."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ToApiError(tc.err)
			if got.Status != tc.wantStatus || got.Message != tc.wantMessage {
				t.Fatalf("ToApiError() = %d %q, want %d %q", got.Status, got.Message, tc.wantStatus, tc.wantMessage)
			}
			if len(got.Data) != 0 {
				t.Fatalf("Data = %v, want {} (internal causes never leak)", got.Data)
			}
			if _, isAPI := errors.AsType[*ApiError](tc.err); !isAPI && !errors.Is(got, tc.err) {
				t.Fatalf("errors.Is(ToApiError(err), err) = false, want the cause kept")
			}
		})
	}
}

func TestApiErrorJSON(t *testing.T) {
	tests := []struct {
		name string
		err  *ApiError
		want string
	}{
		{
			name: "key order data, message, status",
			err:  NewNotFoundError("", nil),
			want: `{"data":{},"message":"The requested resource wasn't found.","status":404}`,
		},
		{
			name: "no HTML escaping",
			err:  NewBadRequestError("<svg> & co", nil),
			want: `{"data":{},"message":"<svg> & co.","status":400}`,
		},
		{
			name: "nil data",
			err:  &ApiError{Message: "X.", Status: 400},
			want: `{"data":null,"message":"X.","status":400}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := marshalJSON(tc.err)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("marshalJSON() = %s, want %s", got, tc.want)
			}
		})
	}
}
