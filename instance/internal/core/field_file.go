package core

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/filesystem"
)

// fileMaxSizeDefault is what a file field's maxSize of 0 means (5 MiB).
const fileMaxSizeDefault int64 = 5 << 20

// thumbSizeRegex is the thumb format of file fields (tools/filesystem ThumbSizeRegex).
var thumbSizeRegex = filesystem.ThumbSizeRegex

// looseFilenameRegex loosely checks a new file's stored name (core/field_file.go).
var looseFilenameRegex = regexp.MustCompile(`^[^\./\\][^/\\]+$`)

// Stored name length bounds of a new file.
const (
	fileNameMinLength = 1
	fileNameMaxLength = 150
)

// FileField is a "file" field: the names of one (maxSelect ≤ 1) or several files kept
// in the record's storage directory.
type FileField struct {
	fieldBase
	// Help is the dashboard help text.
	Help string `json:"help"`
	// MaxSize is the largest file in bytes; 0 means 5 MiB.
	MaxSize int64 `json:"maxSize"`
	// MaxSelect is the most files allowed; ≤ 1 means a single file.
	MaxSelect int64 `json:"maxSelect"`
	// MimeTypes are the accepted types; empty means any.
	MimeTypes []string `json:"mimeTypes"`
	// Thumbs are the thumb sizes served besides 100x100.
	Thumbs []string `json:"thumbs"`
	// Protected files need a file token.
	Protected bool `json:"protected"`
	// Required rejects an empty value.
	Required bool `json:"required"`
}

// Type implements Field.
func (f *FileField) Type() string { return FieldTypeFile }

// IsMultiple implements MultiValuer.
func (f *FileField) IsMultiple() bool { return f.MaxSelect > 1 }

// ColumnType implements Field.
func (f *FileField) ColumnType() string {
	if f.IsMultiple() {
		return columnJSONList
	}

	return columnText
}

// PrepareValue implements Field.
func (f *FileField) PrepareValue(raw any) any { return multiValue(raw, f.IsMultiple()) }

// DriverValue implements Field.
func (f *FileField) DriverValue(value any) (any, error) {
	return multiDriverValue(value, f.IsMultiple())
}

// OutputValue implements Field.
func (f *FileField) OutputValue(value any) any { return multiValue(value, f.IsMultiple()) }

// MaxSelectOrOne returns the most files allowed (at least 1).
func (f *FileField) MaxSelectOrOne() int64 { return max(f.MaxSelect, 1) }

// MaxSizeOrDefault returns the largest file allowed in bytes.
func (f *FileField) MaxSizeOrDefault() int64 {
	if f.MaxSize <= 0 {
		return fileMaxSizeDefault
	}

	return f.MaxSize
}

// CalculateMaxBodySize returns the largest total upload in bytes.
func (f *FileField) CalculateMaxBodySize() int64 {
	return f.MaxSizeOrDefault() * f.MaxSelectOrOne()
}

// ValidateValue implements Field, in PocketBase's order: required; every name must be
// a stored one or a new upload of this write (validation_invalid_file); at most
// maxSelect names (validation_too_many_files); then each new upload kept in the value
// must have a plain name, fit maxSize (validation_file_size_limit) and, when the field
// lists mimeTypes, have a detected type among them (validation_invalid_mime_type).
func (f *FileField) ValidateValue(_ context.Context, vc ValueContext, value any) error {
	files := toUniqueStringSlice(value)
	if len(files) == 0 {
		if f.Required {
			return errRequired()
		}
		return nil
	}

	old := toUniqueStringSlice(vc.OldValue)
	var invalid []string
	for _, name := range files {
		if slices.Contains(old, name) || vc.NewFiles[name] != nil {
			continue
		}
		if len(name) > 250 {
			name = name[:250]
		}
		invalid = append(invalid, name)
	}
	if len(invalid) > 0 {
		return newValidationError("validation_invalid_file",
			fmt.Sprintf("Invalid new files: %v.", invalid), map[string]any{"invalidFiles": invalid})
	}

	if maxSelect := f.MaxSelectOrOne(); int64(len(files)) > maxSelect {
		return newValidationError("validation_too_many_files",
			fmt.Sprintf("The maximum allowed files is %d", maxSelect), map[string]any{"maxSelect": maxSelect})
	}

	for _, name := range files {
		if upload := vc.NewFiles[name]; upload != nil {
			if err := f.validateUpload(upload); err != nil {
				return err
			}
		}
	}

	return nil
}

// validateUpload checks one new file (validators.UploadedFileSize and
// UploadedFileMimeType).
func (f *FileField) validateUpload(upload *filesystem.File) error {
	if n := len(upload.Name); n < fileNameMinLength || n > fileNameMaxLength {
		return errLength(fileNameMinLength, fileNameMaxLength)
	}
	if !looseFilenameRegex.MatchString(upload.Name) {
		return errMatch()
	}

	if maxSize := f.MaxSizeOrDefault(); upload.Size > maxSize {
		return newValidationError("validation_file_size_limit",
			fmt.Sprintf("Failed to upload %s - the maximum allowed file size is %v bytes.", upload.OriginalName, maxSize),
			map[string]any{"file": upload.OriginalName, "maxSize": maxSize})
	}

	if len(f.MimeTypes) == 0 {
		return nil
	}
	unsupported := newValidationError("validation_invalid_mime_type",
		fmt.Sprintf("Failed to upload %q due to unsupported file type.", upload.OriginalName), nil)
	r, err := upload.Open()
	if err != nil {
		return unsupported
	}
	defer func() { _ = r.Close() }()
	ok, err := filesystem.MatchesMimeType(r, f.MimeTypes)
	if err != nil {
		return unsupported
	}
	if !ok {
		return newValidationError("validation_invalid_mime_type",
			fmt.Sprintf("%q mime type must be one of: %s.", upload.Name, strings.Join(f.MimeTypes, ", ")), nil)
	}

	return nil
}

// ValidateSettings implements Field.
func (f *FileField) ValidateSettings(_ context.Context, _ *SettingsContext) error {
	errs := NestedErrors{}
	f.validateBase(errs)
	errs.addErr("maxSelect", checkSize(f.MaxSelect))
	errs.addErr("maxSize", checkSize(f.MaxSize))

	thumbErrs := NestedErrors{}
	for i, thumb := range f.Thumbs {
		switch {
		case thumb == "":
		case slices.Contains([]string{"0x0", "0x0t", "0x0b", "0x0f"}, thumb):
			thumbErrs[strconv.Itoa(i)] = errNotIn()
		case !thumbSizeRegex.MatchString(thumb):
			thumbErrs[strconv.Itoa(i)] = errMatch()
		}
	}
	errs.addErr("thumbs", thumbErrs.orNil())

	return errs.orNil()
}

// HasThumb reports whether the field serves the thumb size: 100x100 or one of its
// thumbs.
func (f *FileField) HasThumb(size string) bool {
	return size == defaultThumbSize || slices.Contains(f.Thumbs, size)
}

// defaultThumbSize is the thumb every file field serves.
const defaultThumbSize = "100x100"
