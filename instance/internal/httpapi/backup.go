package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

// Messages of apis/backup*.go.
const (
	msgBackupTryLater       = "Try again later - another backup/restore process has already been started."
	msgBackupValidateFailed = "An error occurred while validating the submitted data."
	msgBackupCreateFailed   = "Failed to create backup."
	msgBackupUploadFailed   = "Failed to upload backup."
	msgBackupForbidden      = "Insufficient permissions to access the resource."
	msgBackupInUse          = "The backup is currently being used and cannot be deleted."
	msgBackupDeleteFailed   = "Invalid or already deleted backup file. Raw error: \n"
	msgBackupRestoreMissing = "Missing or invalid backup file."
	msgBackupListFailed     = "Failed to retrieve backup items. Raw error: \n"
	backupUploadField       = "file"
	backupUploadMimeType    = "application/zip"
	// backupSniffLen is how much of an upload the type is detected from (mimetype's
	// default read limit).
	backupSniffLen = 3072
)

// The write deadline of a backup download: backupDownloadGrace plus the time to send it
// at backupDownloadMinRate bytes per second.
const (
	backupDownloadGrace   = 5 * time.Minute
	backupDownloadMinRate = 256 << 10
)

// restoreDelay gives the restore response time to be written before the restore
// holds the data directory, as PocketBase sleeps 1s before restoring.
var restoreDelay = time.Second

// registerBackupRoutes adds the backups API (apis/backup.go). Everything but the
// download is superuser-only; the download takes a superuser file token in ?token=.
func (a *api) registerBackupRoutes(r routes) {
	su := requireSuperuserAuth()

	r.add(http.MethodGet, "/backups", su, a.backupsList)
	r.add(http.MethodPost, "/backups", su, a.backupCreate)
	r.add(http.MethodPost, "/backups/upload", su, a.backupUpload)
	r.add(http.MethodGet, "/backups/:key", a.backupDownload)
	r.add(http.MethodDelete, "/backups/:key", su, a.backupDelete)
	r.add(http.MethodPost, "/backups/:key/restore", su, a.backupRestore)
}

// backupsList is GET /api/backups: [{"modified","key","size"}].
func (a *api) backupsList(c *gin.Context) error {
	list, err := a.app.ListBackups(c.Request.Context())
	if err != nil {
		return NewBadRequestError(msgBackupListFailed+err.Error(), nil)
	}

	return writeJSON(c, http.StatusOK, list)
}

// backupCreateForm is the body of POST /api/backups.
type backupCreateForm struct {
	Name string `json:"name"`
}

// backupCreate is POST /api/backups {"name"}: the backup is created before the 204.
func (a *api) backupCreate(c *gin.Context) error {
	if a.app.IsBackupActive() {
		return NewBadRequestError(msgBackupTryLater, nil)
	}

	var form backupCreateForm
	if err := bindFixedForm(c, &form); err != nil {
		return err
	}
	if err := a.app.ValidateBackupName(c.Request.Context(), form.Name); err != nil {
		return newValidationApiError(msgBackupValidateFailed, err)
	}

	// note: a large data directory takes longer to archive than the server's
	// WriteTimeout; the answer must still reach the caller (the backup push Job), and
	// only one backup runs at a time, so this request has no write deadline.
	if err := http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return NewInternalServerError("", err)
	}
	if _, err := a.app.CreateBackup(context.WithoutCancel(c.Request.Context()), form.Name); err != nil {
		if errors.Is(err, core.ErrBackupInProgress) {
			return NewBadRequestError(msgBackupTryLater, err)
		}
		return NewBadRequestError(msgBackupCreateFailed, err)
	}
	c.Status(http.StatusNoContent)

	return nil
}

// backupUpload is POST /api/backups/upload, multipart with a zip in "file"; it has no
// body limit, as PocketBase's route.
func (a *api) backupUpload(c *gin.Context) error {
	file, header, err := c.Request.FormFile(backupUploadField)
	if err != nil {
		return newValidationApiError(msgBackupValidateFailed, core.ValidationErrors{
			backupUploadField: {Code: "validation_required", Message: "cannot be blank"},
		})
	}
	defer file.Close()

	name := header.Filename
	// note: the type is detected as PocketBase detects it (mimetype, from the first
	// bytes): a plain zip passes, a docx or jar (zip based, detected as their own
	// types) does not. The message names the file as PocketBase's validator does, by
	// its normalized name.
	head := make([]byte, backupSniffLen)
	n, _ := io.ReadFull(file, head)
	head = head[:n]
	if ok, _ := filesystem.MatchesMimeType(bytes.NewReader(head), []string{backupUploadMimeType}); !ok {
		shown, err := filesystem.NormalizeName(name, nil)
		if err != nil {
			return NewInternalServerError("", err)
		}
		return newValidationApiError(msgBackupValidateFailed, core.ValidationErrors{
			backupUploadField: {
				Code:    "validation_invalid_mime_type",
				Message: fmt.Sprintf("%q mime type must be one of: %s.", shown, backupUploadMimeType),
			},
		})
	}

	err = a.app.SaveUploadedBackup(c.Request.Context(), name, io.MultiReader(bytes.NewReader(head), file))
	switch {
	case err == nil:
	case errors.Is(err, core.ErrInvalidBackupKey):
		return newValidationApiError(msgBackupValidateFailed, core.ValidationErrors{
			backupUploadField: {Code: "validation_invalid_value", Message: "invalid value"},
		})
	default:
		if _, ok := errors.AsType[core.ValidationErrors](err); ok {
			return newValidationApiError(msgBackupValidateFailed, err)
		}
		return NewBadRequestError(msgBackupUploadFailed, err)
	}
	c.Status(http.StatusNoContent)

	return nil
}

// backupDownload is GET /api/backups/{key}?token=<superuser file token>: the zip as an
// attachment, served with http.ServeContent (ranges, conditional requests). Any other
// token, or a superuser's from an IP outside a non-empty settings.superuserIPs, is 403;
// a missing backup is the generic 400, as in PocketBase.
func (a *api) backupDownload(c *gin.Context) error {
	record, err := a.app.FindAuthRecordByToken(c.Request.Context(), c.Query("token"), core.TokenTypeFile)
	if err != nil || !record.IsSuperuser() {
		return NewForbiddenError(msgBackupForbidden, err)
	}
	if !a.superuserIPAllowed(c, record) {
		return NewForbiddenError(msgBackupForbidden, nil)
	}

	key := c.Param("key")
	r, err := a.app.OpenBackup(c.Request.Context(), key)
	if err != nil {
		// note: PocketBase returns the storage error, which its router turns into the
		// generic 400 (a missing blob is not fs.ErrNotExist there).
		return NewBadRequestError("", err)
	}
	defer r.Close()

	// note: the backup push Job streams the download to S3 as it reads, which may take
	// longer than the server's WriteTimeout; the deadline grows with the size instead, so
	// that a stalled client is still cut off.
	deadline := backupDownloadGrace + time.Duration(r.Attributes.Size/backupDownloadMinRate)*time.Second
	if err := http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(deadline)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return NewInternalServerError("", err)
	}

	h := c.Writer.Header()
	h.Set("Content-Disposition", "attachment; filename="+strconv.Quote(key))
	h.Set("Content-Type", backupUploadMimeType)
	h.Set("Content-Security-Policy", fileServeCSP)
	h.Set("Cache-Control", fileServeCache)
	http.ServeContent(c.Writer, c.Request, key, r.Attributes.ModTime, r)

	return nil
}

// backupDelete is DELETE /api/backups/{key}.
func (a *api) backupDelete(c *gin.Context) error {
	err := a.app.DeleteBackup(c.Request.Context(), c.Param("key"))
	switch {
	case err == nil:
	case errors.Is(err, core.ErrBackupInUse):
		return NewBadRequestError(msgBackupInUse, err)
	default:
		return NewBadRequestError(msgBackupDeleteFailed+err.Error(), nil)
	}
	c.Status(http.StatusNoContent)

	return nil
}

// backupRestore is POST /api/backups/{key}/restore: 204, then the restore runs in the
// background (core.App.Restore) once the response is out.
func (a *api) backupRestore(c *gin.Context) error {
	if a.app.IsBackupActive() {
		return NewBadRequestError(msgBackupTryLater, nil)
	}
	key := c.Param("key")
	if err := a.app.CheckBackup(c.Request.Context(), key); err != nil {
		return NewBadRequestError(msgBackupRestoreMissing, err)
	}

	app := a.app
	delay := restoreDelay
	app.Go(func(ctx context.Context) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		if err := app.Restore(ctx, key); err != nil {
			app.Logger().Error("Failed to restore backup", slog.String("key", key), slog.String("error", err.Error()))
		}
	})
	c.Status(http.StatusNoContent)

	return nil
}
