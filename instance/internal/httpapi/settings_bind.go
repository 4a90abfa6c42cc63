package httpapi

import (
	"github.com/gin-gonic/gin"
)

const (
	// maxFixedFormBody is PocketBase's default body limit (apis.DefaultMaxBodySize).
	maxFixedFormBody = 32 << 20
	// maxFormMemory is PocketBase's router.DefaultMaxMemory for multipart forms.
	maxFormMemory = 32 << 20

	msgFormLoadFailed = "An error occurred while loading the submitted data."
)

// bindFixedForm binds the request body into dst, a pointer to a fixed form struct, with
// bindBody, answered as the handlers of apis/settings.go, backup_create.go and
// realtime.go do (bindPlain): 413 for a Content-Length over the limit, anything else (an
// unsupported Content-Type too) 400 "An error occurred while loading the submitted
// data.".
func bindFixedForm(c *gin.Context, dst any) error {
	_, err := bindPlain(c, dst, msgFormLoadFailed)

	return err
}
