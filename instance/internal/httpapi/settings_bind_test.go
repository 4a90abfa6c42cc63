package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// repeatReader yields the same byte forever.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestBindFixedFormBodyLimit(t *testing.T) {
	tests := []struct {
		name          string
		body          io.Reader
		contentLength int64
		wantStatus    int
		wantMessage   string
	}{
		{
			name:          "declared length over the limit: 413 before reading",
			body:          strings.NewReader(`{"filesystem":"storage"}`),
			contentLength: maxFixedFormBody + 1,
			wantStatus:    http.StatusRequestEntityTooLarge,
			wantMessage:   "Request entity too large.",
		},
		{
			name: "chunked body over the limit: a load failure",
			body: io.MultiReader(strings.NewReader(`{"filesystem":"`),
				io.LimitReader(repeatReader('a'), maxFixedFormBody), strings.NewReader(`"}`)),
			contentLength: -1,
			wantStatus:    http.StatusBadRequest,
			wantMessage:   msgFormLoadFailed,
		},
		{
			name:          "chunked body within the limit",
			body:          bytes.NewReader([]byte(`{"filesystem":"storage"}`)),
			contentLength: -1,
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := gin.CreateTestContext(httptest.NewRecorder())
			c.Request = httptest.NewRequest(http.MethodPost, "/api/settings/test/s3", tc.body)
			c.Request.ContentLength = tc.contentLength
			c.Request.Header.Set("Content-Type", "application/json")

			var form core.TestS3Form
			err := bindFixedForm(c, &form)
			if tc.wantStatus == 0 {
				if err != nil || form.Filesystem != "storage" {
					t.Fatalf("bindFixedForm = %v, form %+v", err, form)
				}
				return
			}
			apiErr := ToApiError(err)
			if apiErr.Status != tc.wantStatus || apiErr.Message != tc.wantMessage {
				t.Errorf("error = %d %q, want %d %q", apiErr.Status, apiErr.Message, tc.wantStatus, tc.wantMessage)
			}
		})
	}
}
