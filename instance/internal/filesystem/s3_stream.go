package filesystem

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Multipart upload limits of S3 (and of the compatible servers).
const (
	// minPartSize is the smallest part but the last one.
	minPartSize = 5 << 20
	// maxParts is the most parts one upload may have.
	maxParts = 10000
	// partGrowth is the number of parts after which UploadStream doubles its part size,
	// so that 8 MiB parts cover a 8 GiB stream and a larger one still fits in maxParts.
	partGrowth = 1000
)

// DefaultPartSize is the part size UploadStream starts with: the memory one upload
// holds at a time.
const DefaultPartSize = 8 << 20

// UploadStream stores what r holds under key without knowing its length beforehand and
// without holding more than one part in memory: a stream shorter than partSize is one
// signed PUT, a longer one a multipart upload of partSize parts (doubled every 1000
// parts), each signed with its own SHA-256, so the bucket checks every byte it is sent.
// On failure the multipart upload is aborted and nothing is stored under key.
func (s *S3) UploadStream(ctx context.Context, key string, r io.Reader, contentType string, metadata map[string]string, partSize int) error {
	if err := checkKey(key); err != nil {
		return err
	}
	partSize = max(partSize, minPartSize)

	first, err := readPart(r, partSize)
	if err != nil {
		return fmt.Errorf("reading %s: %w", key, err)
	}
	if len(first) < partSize {
		return s.Upload(ctx, key, bytes.NewReader(first), contentType, metadata)
	}

	header := http.Header{}
	if contentType != "" {
		header.Set("Content-Type", contentType)
	}
	for k, v := range metadata {
		header.Set(metaPrefix+k, v)
	}
	uploadID, err := s.createMultipartUpload(ctx, key, header)
	if err != nil {
		return err
	}

	parts, err := s.uploadParts(ctx, key, uploadID, first, r, partSize)
	if err == nil {
		err = s.completeMultipartUpload(ctx, key, uploadID, parts)
	}
	if err != nil {
		// the context may be what failed: the abort gets its own
		if abortErr := s.abortMultipartUpload(context.WithoutCancel(ctx), key, uploadID); abortErr != nil {
			err = errors.Join(err, abortErr)
		}
		return err
	}

	return nil
}

// readPart reads up to size bytes; fewer only at the end of r.
func readPart(r io.Reader, size int) ([]byte, error) {
	buf := make([]byte, size)
	n, err := io.ReadFull(r, buf)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}

	return buf[:n], err
}

// completedPart is one <Part> of a CompleteMultipartUpload body.
type completedPart struct {
	PartNumber int    `xml:"PartNumber"`
	ETag       string `xml:"ETag"`
}

// uploadParts sends first, then the rest of r, as parts; it returns them in order.
// note: each part has a buffer of its own, as the transport may still read a request
// body after the response came (http.RoundTripper).
func (s *S3) uploadParts(ctx context.Context, key, uploadID string, first []byte, r io.Reader, partSize int) ([]completedPart, error) {
	var parts []completedPart
	buf, size := first, partSize
	for number := 1; ; number++ {
		if number > maxParts {
			return nil, fmt.Errorf("s3 upload %s: more than %d parts", key, maxParts)
		}
		etag, err := s.uploadPart(ctx, key, uploadID, number, buf)
		if err != nil {
			return nil, err
		}
		parts = append(parts, completedPart{PartNumber: number, ETag: etag})
		if len(buf) < size {
			return parts, nil // a short part is the end of r
		}

		size = partSize << (number / partGrowth)
		if buf, err = readPart(r, size); err != nil {
			return nil, fmt.Errorf("reading %s: %w", key, err)
		}
		if len(buf) == 0 {
			return parts, nil
		}
	}
}

func (s *S3) createMultipartUpload(ctx context.Context, key string, header http.Header) (string, error) {
	res, err := s.send(ctx, s.client, http.MethodPost, key, url.Values{"uploads": {""}}, header, http.NoBody, 0, emptyPayloadHash)
	if err != nil {
		return "", err
	}
	defer func() { _ = res.Body.Close() }()

	var out struct {
		UploadID string `xml:"UploadId"`
	}
	if err := xml.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&out); err != nil {
		return "", fmt.Errorf("s3 POST %s?uploads: decoding the answer: %w", key, err)
	}
	if out.UploadID == "" {
		return "", fmt.Errorf("s3 POST %s?uploads: no upload id", key)
	}

	return out.UploadID, nil
}

func (s *S3) uploadPart(ctx context.Context, key, uploadID string, number int, part []byte) (string, error) {
	sum := sha256.Sum256(part)
	q := url.Values{"partNumber": {strconv.Itoa(number)}, "uploadId": {uploadID}}
	res, err := s.send(ctx, s.stream, http.MethodPut, key, q, nil, bytes.NewReader(part), int64(len(part)), hex.EncodeToString(sum[:]))
	if err != nil {
		return "", err
	}
	_ = res.Body.Close()
	etag := res.Header.Get("ETag")
	if etag == "" {
		return "", fmt.Errorf("s3 PUT %s part %d: no ETag", key, number)
	}

	return etag, nil
}

func (s *S3) completeMultipartUpload(ctx context.Context, key, uploadID string, parts []completedPart) error {
	body, err := xml.Marshal(struct {
		XMLName xml.Name        `xml:"CompleteMultipartUpload"`
		Parts   []completedPart `xml:"Part"`
	}{Parts: parts})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	res, err := s.send(ctx, s.client, http.MethodPost, key, url.Values{"uploadId": {uploadID}}, nil,
		bytes.NewReader(body), int64(len(body)), hex.EncodeToString(sum[:]))
	if err != nil {
		return err
	}
	defer func() { _ = res.Body.Close() }()

	// note: S3 may answer 200 and report the failure in the body
	var out struct {
		XMLName xml.Name
		Code    string `xml:"Code"`
	}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err := xml.Unmarshal(raw, &out); err == nil && out.XMLName.Local == "Error" {
		return fmt.Errorf("s3 POST %s?uploadId: %s", key, out.Code)
	}

	return nil
}

func (s *S3) abortMultipartUpload(ctx context.Context, key, uploadID string) error {
	res, err := s.send(ctx, s.client, http.MethodDelete, key, url.Values{"uploadId": {uploadID}}, nil, http.NoBody, 0, emptyPayloadHash)
	if err != nil {
		return fmt.Errorf("aborting the upload of %s: %w", key, err)
	}

	return res.Body.Close()
}
