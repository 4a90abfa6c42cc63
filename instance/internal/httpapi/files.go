package httpapi

import (
	"context"
	"errors"
	"net/http"
	"path"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

// Messages and headers of apis/file.go and tools/filesystem Serve.
const (
	msgFileTokenFailed = "Failed to generate file token"
	fileServeCSP       = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
	fileServeCache     = "max-age=2592000, stale-while-revalidate=86400"
)

// registerFileRoutes adds the files API (apis/file.go): file tokens and downloads.
func (a *api) registerFileRoutes(r routes) {
	r.add(http.MethodPost, "/files/token", requireAuth(), a.fileToken)
	r.add(http.MethodGet, "/files/:collection/:recordId/:filename", a.fileDownload)
}

// fileToken is POST /api/files/token: {"token":"<file token>"} for the authenticated
// record (superusers included); a guest is 401.
func (a *api) fileToken(c *gin.Context) error {
	record := authRecord(c)
	if record == nil {
		return NewUnauthorizedError("Missing auth context.", nil)
	}
	token, err := core.NewFileToken(record)
	if err != nil {
		return NewInternalServerError(msgFileTokenFailed, err)
	}

	return writeJSON(c, http.StatusOK, struct {
		Token string `json:"token"`
	}{token})
}

// fileDownload is GET /api/files/{collection}/{recordId}/{filename} (apis/file.go
// download). A missing collection or record, or a name that no file field of the
// record holds, is the generic 404. A protected field's file needs the collection's
// viewRule to pass for the record behind ?token= (a file token; @request.context is
// protectedFile), else 404; a superuser's file token is ignored from an IP outside a
// non-empty settings.superuserIPs. ?thumb= serves a thumb of an image when the size is 100x100
// or one of the field's thumbs, made once and kept under "thumbs_<name>/"; a thumb that
// cannot be made, or any other size, serves the original. ?download=1 forces an
// attachment. Range and conditional requests work through http.ServeContent.
func (a *api) fileDownload(c *gin.Context) error {
	ctx := c.Request.Context()

	collection, err := a.app.FindCachedCollectionByNameOrID(ctx, c.Param("collection"))
	if err != nil {
		return NewNotFoundError("", nil)
	}
	recordID := c.Param("recordId")
	if recordID == "" {
		return NewNotFoundError("", nil)
	}
	// note: an empty rule lets everyone see the record: this reads it with the
	// cached collection (FindRecordByID would look the collection up again).
	everyone := ""
	record, err := a.app.FindRecordByIDWithRule(ctx, collection, recordID, &everyone, nil)
	if err != nil {
		return NewNotFoundError("", err)
	}

	filename := c.Param("filename")
	field := fileFieldOf(record, filename)
	if field == nil {
		return NewNotFoundError("", nil)
	}

	if field.Protected {
		info := readRequestInfo(c)
		info.Context = core.RequestContextProtectedFile
		info.Auth, _ = a.app.FindAuthRecordByToken(ctx, c.Query("token"), core.TokenTypeFile)
		if !a.superuserIPAllowed(c, info.Auth) {
			// a superuser file token from outside settings.superuserIPs counts as none
			info.Auth = nil
		}
		if _, err := a.app.FindRecordByIDWithRule(ctx, collection, recordID, collection.ViewRule, info); err != nil {
			return NewNotFoundError("", errors.New("insufficient permissions to access the file resource"))
		}
	}

	store, err := a.app.OpenFileStore()
	if err != nil {
		return NewInternalServerError("Filesystem initialization failure.", err)
	}
	defer func() { _ = store.Close() }()

	// a view's file fields show files of the source collection's records
	filesCollection, filesRecordID := collection, recordID
	if collection.IsView() {
		source, err := a.app.FindRecordByViewFile(ctx, collection, field.Name, filename)
		if err != nil {
			return NewNotFoundError("", err)
		}
		filesCollection, filesRecordID = source.Collection(), source.ID()
	}

	originalKey := core.RecordFilesKey(filesCollection, filesRecordID, filename)
	servedKey, servedName := originalKey, filename

	if thumb := c.Query("thumb"); thumb != "" && field.HasThumb(thumb) {
		original, err := store.Open(ctx, originalKey)
		if err != nil {
			return NewNotFoundError("", err)
		}
		contentType := original.Attributes.ContentType
		_ = original.Close()

		if slices.Contains(filesystem.ImageContentTypes, contentType) {
			servedName = thumb + "_" + filename
			servedKey = path.Join(path.Dir(originalKey), "thumbs_"+filename, servedName)
			if exists, _ := store.Exists(ctx, servedKey); !exists {
				if err := thumbs.create(ctx, store, originalKey, servedKey, thumb); err != nil {
					a.app.Logger().Warn("Fallback to original - failed to create thumb "+servedName,
						"error", err, "original", originalKey, "thumb", servedKey)
					servedKey, servedName = originalKey, filename
				}
			}
		}
	}

	// note: clickjacking is no concern for uploaded files, which may be embedded.
	c.Writer.Header().Del("X-Frame-Options")

	r, err := store.Open(ctx, servedKey)
	if err != nil {
		return NewNotFoundError("", err)
	}
	defer func() { _ = r.Close() }()

	download, _ := strconv.ParseBool(c.Query("download"))
	contentType, disposition := filesystem.ServeHeaders(r.Attributes.ContentType, servedName, download)
	h := c.Writer.Header()
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Type", contentType)
	h.Set("Content-Security-Policy", fileServeCSP)
	h.Set("Cache-Control", fileServeCache)
	http.ServeContent(c.Writer, c.Request, servedName, r.Attributes.ModTime, r)

	return nil
}

// fileFieldOf returns the file field of record that holds filename, or nil.
func fileFieldOf(record *core.Record, filename string) *core.FileField {
	if filename == "" {
		return nil
	}
	for _, f := range record.Collection().Fields {
		ff, ok := f.(*core.FileField)
		if ok && slices.Contains(core.ToStringList(record.Get(ff.Name)), filename) {
			return ff
		}
	}

	return nil
}

// thumbMaker makes thumbs with bounded concurrency: a thumb being made is made once
// for all the requests that want it, and at most a few are made at the same time
// (PocketBase: NumCPU+2 workers, 60 s of waiting at most).
type thumbMaker struct {
	pending singleflight.Group
	sem     *semaphore.Weighted
	maxWait time.Duration
}

var thumbs = &thumbMaker{sem: semaphore.NewWeighted(int64(runtime.NumCPU() + 2)), maxWait: time.Minute}

func (m *thumbMaker) create(ctx context.Context, store filesystem.Store, originalKey, thumbKey, size string) error {
	parsed, err := filesystem.ParseThumbSize(size)
	if err != nil {
		return err
	}

	ch := m.pending.DoChan(thumbKey, func() (any, error) {
		// note: the first request's cancellation must not fail the others waiting.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.maxWait)
		defer cancel()
		if err := m.sem.Acquire(wctx, 1); err != nil {
			return nil, err
		}
		defer m.sem.Release(1)

		return nil, filesystem.CreateThumb(wctx, store, originalKey, thumbKey, parsed)
	})
	res := <-ch
	m.pending.Forget(thumbKey)

	return res.Err
}
