package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// FuzzBatchForm feeds arbitrary JSON and multipart batch bodies to the batch form
// binding and validation: every failure is an ApiError (400 or 413), never a panic,
// and a form that validates has only valid items.
func FuzzBatchForm(f *testing.F) {
	f.Add([]byte(`{"requests":[{"method":"POST","url":"/api/collections/tags/records","body":{"label":"a"}}]}`), false)
	f.Add([]byte(`{"requests":[{"method":"PUT","url":"/api/collections/x/records?fields=id","headers":{"X-A":"1"},"body":{"id":12}}]}`), false)
	f.Add([]byte(`{"REQUESTS":[null,{"Method":"delete","URL":""}]}`), false)
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"@jsonPayload\"\r\n\r\n{\"requests\":[{\"method\":\"POST\",\"url\":\"/u\"}]}\r\n"+
		"--b\r\nContent-Disposition: form-data; name=\"requests.0.f\"; filename=\"a.txt\"\r\n\r\nhi\r\n--b--\r\n"), true)
	f.Fuzz(func(t *testing.T, body []byte, multipart bool) {
		req := httptest.NewRequest(http.MethodPost, "/api/batch", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if multipart {
			req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		}
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = req

		form, err := readBatchForm(c, 1<<16)
		if err != nil {
			checkBatchError(t, err)
			return
		}
		defer form.cleanup()
		if err := form.validate(5); err != nil {
			checkBatchError(t, err)
			return
		}
		for _, item := range form.Requests {
			if errs := item.validate(); len(errs) > 0 {
				t.Fatalf("validated form has an invalid item: %v", errs)
			}
			if _, _, err := item.encodeBody(); err != nil {
				t.Fatalf("encoding a bound body: %v", err)
			}
			_ = batchRecordsRe.MatchString(item.URL) || batchRecordRe.MatchString(item.URL)
			_ = item.bodyID()
		}
	})
}

func checkBatchError(t *testing.T, err error) {
	t.Helper()
	apiErr, ok := errors.AsType[*ApiError](err)
	if !ok || (apiErr.Status != http.StatusBadRequest && apiErr.Status != http.StatusRequestEntityTooLarge) {
		t.Fatalf("error = %#v, want a 400 or 413 ApiError", err)
	}
}
