package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/picker"
	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// mimeJSON is the Content-Type of every JSON response: PocketBase sends no charset.
const mimeJSON = "application/json"

// writeJSON writes v as the response body the way PocketBase v0.40 does: compact, no
// HTML escaping, no trailing newline, struct fields in declaration order and map keys
// sorted. The body is written for HEAD as well; net/http drops it and keeps the
// Content-Length, as for PocketBase.
//
// A 2xx response goes through the ?fields= picker (§3.3.6): list results are picked
// item by item. A picked response is rebuilt from generic maps, so its keys come out
// sorted, one of the orders PocketBase's random one may take.
func writeJSON(c *gin.Context, status int, v any) error {
	body, err := marshalJSON(v)
	if err != nil {
		return err
	}

	if rawFields := c.Query("fields"); rawFields != "" && status >= 200 && status < 300 {
		if body, err = pickJSON(body, rawFields, isListResult(v)); err != nil {
			return NewBadRequestError("", err)
		}
	}

	setContentTypeIfEmpty(c, mimeJSON)
	c.Status(status)
	if _, err := c.Writer.Write(body); err != nil {
		return fmt.Errorf("writing response: %w", err)
	}

	return nil
}

// isListResult reports whether v is a list response, whose items are picked one by one.
func isListResult(v any) bool {
	switch v.(type) {
	case *search.Result, search.Result, *core.CollectionList, core.CollectionList:
		return true
	}

	return false
}

// pickJSON applies the fields picker to an encoded JSON body.
func pickJSON(body []byte, rawFields string, list bool) ([]byte, error) {
	fields, err := picker.ParseFields(rawFields)
	if err != nil {
		return nil, err
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		return nil, fmt.Errorf("decoding response for the fields picker: %w", err)
	}

	if list {
		data, err = fields.PickResult(data)
	} else {
		data, err = fields.Pick(data)
	}
	if err != nil {
		return nil, err
	}

	return marshalJSON(data)
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
