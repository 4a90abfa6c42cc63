package httpapi

import (
	"errors"

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
// bindBody, and answers its errors as the handlers of apis/settings.go, backup_create.go
// and realtime.go do: 413 as it is, anything else (an unsupported Content-Type too) 400
// "An error occurred while loading the submitted data.".
func bindFixedForm(c *gin.Context, dst any) error {
	if _, err := bindBody(c, dst); err != nil {
		if apiErr, ok := errors.AsType[*ApiError](err); ok {
			return apiErr
		}
		return NewBadRequestError(msgFormLoadFailed, err)
	}

	return nil
}
