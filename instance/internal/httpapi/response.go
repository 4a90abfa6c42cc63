package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gin-gonic/gin"
)

// mimeJSON is the Content-Type of every JSON response: PocketBase sends no charset.
const mimeJSON = "application/json"

// writeJSON writes v as the response body the way PocketBase v0.40 does: compact, no
// HTML escaping, no trailing newline, struct fields in declaration order and map keys
// sorted. The body is written for HEAD as well; net/http drops it and keeps the
// Content-Length, as for PocketBase.
//
// note: PocketBase's ?fields= picker applies to every 2xx JSON response; it arrives with
// the records task.
func writeJSON(c *gin.Context, status int, v any) error {
	body, err := marshalJSON(v)
	if err != nil {
		return err
	}

	setContentTypeIfEmpty(c, mimeJSON)
	c.Status(status)
	if _, err := c.Writer.Write(body); err != nil {
		return fmt.Errorf("writing response: %w", err)
	}

	return nil
}

func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding response: %w", err)
	}

	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func setContentTypeIfEmpty(c *gin.Context, value string) {
	if c.Writer.Header().Get("Content-Type") == "" {
		c.Writer.Header().Set("Content-Type", value)
	}
}
