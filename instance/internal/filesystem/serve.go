package filesystem

import (
	"path/filepath"
	"slices"
	"strconv"
)

// inlineContentTypes are served inline; everything else is an attachment
// (tools/filesystem inlineServeContentTypes).
var inlineContentTypes = []string{
	"image/png", "image/jpg", "image/jpeg", "image/gif", "image/webp", "image/x-icon", "image/bmp",
	"video/webm", "video/mp4", "video/3gpp", "video/quicktime", "video/x-ms-wmv",
	"audio/basic", "audio/aiff", "audio/mpeg", "audio/midi", "audio/mp3", "audio/wave",
	"audio/wav", "audio/x-wav", "audio/x-mpeg", "audio/x-m4a", "audio/aac",
	"application/pdf", "application/x-pdf",
}

// extensionContentTypes force the served content type of some extensions, whose
// sniffed type browsers would not load properly.
var extensionContentTypes = map[string]string{
	".svg":  "image/svg+xml",
	".css":  "text/css",
	".js":   "text/javascript",
	".mjs":  "text/javascript",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}

// ImageContentTypes are the stored types thumbs are made of.
var ImageContentTypes = []string{"image/png", "image/jpg", "image/jpeg", "image/gif", "image/webp"}

// ServeHeaders returns the Content-Type and Content-Disposition of a stored file of
// type storedType served under name: inline for images, video, audio and pdf unless
// download is asked, an attachment otherwise; the content type forced for the
// extensions browsers need (svg, css, js, mjs, xlsx, docx, pptx). The name is quoted
// as strconv.Quote quotes it, as PocketBase does.
func ServeHeaders(storedType, name string, download bool) (contentType, disposition string) {
	disposition = "attachment"
	if !download && slices.Contains(inlineContentTypes, storedType) {
		disposition = "inline"
	}

	contentType = storedType
	if forced, ok := extensionContentTypes[filepath.Ext(name)]; ok {
		contentType = forced
	}

	return contentType, disposition + "; filename=" + strconv.Quote(name)
}
