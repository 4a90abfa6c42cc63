package filesystem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"regexp"
	"strconv"

	"github.com/disintegration/imaging"

	// note: imaging decodes through image.Decode; PocketBase registers the webp decoder
	// the same way, since imaging has none.
	_ "golang.org/x/image/webp"
)

// ThumbSizeRegex is the format of a thumb size (tools/filesystem ThumbSizeRegex).
var ThumbSizeRegex = regexp.MustCompile(`^(\d+)x(\d+)(t|b|f)?$`)

// Thumb modes: how an image is fitted into a WxH box.
const (
	// ThumbCenter fills the box and crops from the centre (WxH).
	ThumbCenter = ""
	// ThumbTop fills the box and crops from the top (WxHt).
	ThumbTop = "t"
	// ThumbBottom fills the box and crops from the bottom (WxHb).
	ThumbBottom = "b"
	// ThumbFit fits inside the box without cropping (WxHf).
	ThumbFit = "f"
)

// maxThumbPixels bounds both the decoded original and the thumb (about 256 MiB of
// NRGBA pixels), so that a crafted image header or a huge size cannot exhaust memory.
// PocketBase has no such bound; past it the original is served instead.
const maxThumbPixels = 64 << 20

// ThumbSize is a parsed thumb size.
type ThumbSize struct {
	// Width and Height in pixels; one of them may be 0 (keep the aspect ratio).
	Width, Height int
	// Mode is one of the Thumb* modes.
	Mode string
}

// ParseThumbSize parses "WxH", "WxHt", "WxHb", "WxHf", "0xH" or "Wx0". Both sides 0 is
// an error, and so is a side that does not fit an int.
func ParseThumbSize(s string) (ThumbSize, error) {
	parts := ThumbSizeRegex.FindStringSubmatch(s)
	if len(parts) != 4 {
		return ThumbSize{}, errors.New("thumb size must be in WxH, WxHt, WxHb or WxHf format")
	}

	w, errW := strconv.Atoi(parts[1])
	h, errH := strconv.Atoi(parts[2])
	if errW != nil || errH != nil {
		return ThumbSize{}, errors.New("thumb size is out of range")
	}
	if w == 0 && h == 0 {
		return ThumbSize{}, errors.New("thumb width and height cannot be zero at the same time")
	}

	return ThumbSize{Width: w, Height: h, Mode: parts[3]}, nil
}

// String returns the size in its text form.
func (s ThumbSize) String() string {
	return strconv.Itoa(s.Width) + "x" + strconv.Itoa(s.Height) + s.Mode
}

// CreateThumb makes the thumb of the image stored at originalKey and stores it at
// thumbKey, as PocketBase does: only the first frame, EXIF orientation applied, linear
// resampling; a 0 side keeps the aspect ratio, otherwise the mode picks fill-and-crop
// (centre, top, bottom) or fit. The thumb keeps the original's format and content type
// for JPEG, GIF, TIFF and BMP; anything else (PNG, WebP) becomes a PNG stored as
// image/png. A panic of the image decoders is returned as an error.
func CreateThumb(ctx context.Context, store Store, originalKey, thumbKey string, size ThumbSize) (err error) {
	// note: golang.org/x/image has had panics on crafted input over the years;
	// PocketBase recovers them too (routine.SafeWrap).
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("creating thumb %s: panic: %v", thumbKey, p)
		}
	}()

	return createThumb(ctx, store, originalKey, thumbKey, size)
}

func createThumb(ctx context.Context, store Store, originalKey, thumbKey string, size ThumbSize) error {
	if int64(size.Width)*int64(size.Height) > maxThumbPixels ||
		int64(size.Width) > maxThumbPixels || int64(size.Height) > maxThumbPixels {
		return fmt.Errorf("thumb size %s is too large", size)
	}

	r, err := store.Open(ctx, originalKey)
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()

	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return fmt.Errorf("reading image header: %w", err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxThumbPixels {
		return fmt.Errorf("image of %dx%d is too large for a thumb", cfg.Width, cfg.Height)
	}
	if _, err := r.Seek(0, 0); err != nil {
		return err
	}

	img, err := imaging.Decode(r, imaging.AutoOrientation(true))
	if err != nil {
		return fmt.Errorf("decoding image: %w", err)
	}

	var thumb *image.NRGBA
	switch {
	case size.Width == 0 || size.Height == 0:
		thumb = imaging.Resize(img, size.Width, size.Height, imaging.Linear)
	case size.Mode == ThumbFit:
		thumb = imaging.Fit(img, size.Width, size.Height, imaging.Linear)
	case size.Mode == ThumbTop:
		thumb = imaging.Fill(img, size.Width, size.Height, imaging.Top, imaging.Linear)
	case size.Mode == ThumbBottom:
		thumb = imaging.Fill(img, size.Width, size.Height, imaging.Bottom, imaging.Linear)
	default:
		thumb = imaging.Fill(img, size.Width, size.Height, imaging.Center, imaging.Linear)
	}

	contentType, format := thumbFormat(r.Attributes.ContentType)
	var buf bytes.Buffer
	if err := imaging.Encode(&buf, thumb, format); err != nil {
		return fmt.Errorf("encoding thumb: %w", err)
	}

	return store.Upload(ctx, thumbKey, &buf, contentType, nil)
}

// thumbFormat returns the content type and encoding of the thumb of an original of
// content type original (tools/filesystem createThumb): JPEG, GIF, TIFF and BMP keep
// theirs, everything else (WebP included) is encoded as PNG.
func thumbFormat(original string) (string, imaging.Format) {
	switch original {
	case "image/jpeg":
		return original, imaging.JPEG
	case "image/gif":
		return original, imaging.GIF
	case "image/tiff":
		return original, imaging.TIFF
	case "image/bmp":
		return original, imaging.BMP
	default:
		return "image/png", imaging.PNG
	}
}
