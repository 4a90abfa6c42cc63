package filesystem

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// S3Config is how to reach an S3-compatible bucket.
type S3Config struct {
	// Endpoint is the service URL, e.g. "https://s3.eu-central-1.amazonaws.com".
	Endpoint string
	// Bucket is the bucket name.
	Bucket string
	// Region is the signing region; "" means us-east-1.
	Region string
	// AccessKey and Secret are the credentials.
	AccessKey, Secret string
	// ForcePathStyle puts the bucket in the path instead of the host name.
	ForcePathStyle bool
}

// S3 is a Store on an S3-compatible bucket, spoken to with plain HTTP requests signed
// with AWS Signature Version 4 (as PocketBase's own trimmed S3 client does). Content
// types and metadata travel as Content-Type and x-amz-meta-* headers.
type S3 struct {
	cfg  S3Config
	base *url.URL
	// client sends the small requests, whole requests bounded by s3Timeout; stream
	// sends the object bodies (uploads and downloads), whose length has no bound, so
	// only the wait for the response headers is.
	client, stream *http.Client
}

var _ Store = (*S3)(nil)

// metaPrefix is the header prefix of S3 user metadata.
const metaPrefix = "X-Amz-Meta-"

// s3Timeout bounds one S3 request.
const s3Timeout = 2 * time.Minute

// NewS3 returns a Store on the bucket cfg names.
func NewS3(cfg S3Config) (*S3, error) {
	base, err := url.Parse(strings.TrimRight(cfg.Endpoint, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("invalid S3 endpoint %q", cfg.Endpoint)
	}
	if cfg.Bucket == "" {
		return nil, errors.New("missing S3 bucket")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.ResponseHeaderTimeout = s3Timeout

	return &S3{
		cfg: cfg, base: base,
		client: &http.Client{Timeout: s3Timeout},
		stream: &http.Client{Transport: transport},
	}, nil
}

// Close implements Store.
func (s *S3) Close() error { return nil }

// objectURL returns the URL of key ("" for the bucket itself) with query.
func (s *S3) objectURL(key string, query url.Values) *url.URL {
	u := *s.base
	p := strings.TrimRight(u.Path, "/")
	if s.cfg.ForcePathStyle {
		p += "/" + s.cfg.Bucket
	} else {
		u.Host = s.cfg.Bucket + "." + u.Host
	}
	p += "/" + key
	u.Path = p
	u.RawPath = s3EscapePath(p)
	u.RawQuery = s3CanonicalQuery(query)

	return &u
}

// do sends a signed request and returns the response of a 2xx status; a 404 is
// ErrNotFound, any other status an error with S3's error code.
func (s *S3) do(ctx context.Context, method, key string, query url.Values) (*http.Response, error) {
	return s.send(ctx, s.client, method, key, query, nil, http.NoBody, 0, emptyPayloadHash)
}

// emptyPayloadHash is the hex SHA-256 of an empty body.
var emptyPayloadHash = func() string {
	sum := sha256.Sum256(nil)
	return hex.EncodeToString(sum[:])
}()

// send is do with a body of size bytes whose hex SHA-256 is payloadHash, sent with
// client.
func (s *S3) send(ctx context.Context, client *http.Client, method, key string, query url.Values, header http.Header,
	body io.Reader, size int64, payloadHash string,
) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.objectURL(key, query).String(), body)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	s.sign(req, payloadHash, time.Now().UTC())

	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return res, nil
	}

	defer func() { _ = res.Body.Close() }()
	var apiErr struct {
		Code string `xml:"Code"`
	}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	_ = xml.Unmarshal(raw, &apiErr)
	if res.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("s3 %s %s: %w", method, key, ErrNotFound)
	}

	return nil, fmt.Errorf("s3 %s %s: status %d %s", method, key, res.StatusCode, apiErr.Code)
}

// sign adds the AWS Signature Version 4 headers to req.
func (s *S3) sign(req *http.Request, payloadHash string, now time.Time) {
	amzDate := now.Format("20060102T150405Z")
	day := now.Format("20060102")

	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)

	names := []string{"host"}
	values := map[string]string{"host": req.URL.Host}
	for k, v := range req.Header {
		lk := strings.ToLower(k)
		if lk == "content-type" || strings.HasPrefix(lk, "x-amz-") {
			names = append(names, lk)
			values[lk] = strings.Join(v, ",")
		}
	}
	slices.Sort(names)
	var canonicalHeaders strings.Builder
	for _, n := range names {
		canonicalHeaders.WriteString(n + ":" + strings.TrimSpace(values[n]) + "\n")
	}
	signedHeaders := strings.Join(names, ";")

	canonicalRequest := strings.Join([]string{
		req.Method, req.URL.EscapedPath(), req.URL.RawQuery,
		canonicalHeaders.String(), signedHeaders, payloadHash,
	}, "\n")
	scope := day + "/" + s.cfg.Region + "/s3/aws4_request"
	crHash := sha256.Sum256([]byte(canonicalRequest))
	stringToSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])

	key := hmacSHA256([]byte("AWS4"+s.cfg.Secret), day)
	key = hmacSHA256(key, s.cfg.Region)
	key = hmacSHA256(key, "s3")
	key = hmacSHA256(key, "aws4_request")
	signature := hex.EncodeToString(hmacSHA256(key, stringToSign))

	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+s.cfg.AccessKey+"/"+scope+
		", SignedHeaders="+signedHeaders+", Signature="+signature)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// s3Escape percent-encodes everything but S3's unreserved characters.
func s3Escape(s string) string {
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}

	return b.String()
}

// s3EscapePath escapes each segment of a path.
func s3EscapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		segs[i] = s3Escape(seg)
	}

	return strings.Join(segs, "/")
}

// s3CanonicalQuery encodes query sorted by key, as SigV4 signs it.
func s3CanonicalQuery(query url.Values) string {
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range query[k] {
			parts = append(parts, s3Escape(k)+"="+s3Escape(v))
		}
	}

	return strings.Join(parts, "&")
}

// Upload implements Store.
func (s *S3) Upload(ctx context.Context, key string, r io.Reader, contentType string, metadata map[string]string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	header := http.Header{}
	if contentType != "" {
		header.Set("Content-Type", contentType)
	}
	for k, v := range metadata {
		header.Set(metaPrefix+k, v)
	}

	// note: SigV4 signs the payload hash, so the body is read twice: a seekable one
	// (a backup archive, a spooled upload) is hashed, rewound and streamed; anything
	// else is read into memory first.
	var (
		body        io.Reader
		size        int64
		payloadHash string
	)
	if rs, ok := r.(io.ReadSeeker); ok {
		start, err := rs.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		h := sha256.New()
		n, err := io.Copy(h, rs)
		if err != nil {
			return err
		}
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return err
		}
		body, size, payloadHash = io.LimitReader(rs, n), n, hex.EncodeToString(h.Sum(nil))
	} else {
		content, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(content)
		body, size, payloadHash = bytes.NewReader(content), int64(len(content)), hex.EncodeToString(sum[:])
	}

	res, err := s.send(ctx, s.stream, http.MethodPut, key, nil, header, body, size, payloadHash)
	if err != nil {
		return err
	}

	return res.Body.Close()
}

// Open implements Store. The object is streamed, never held in memory: the reader
// reads the body of one GET; a seek elsewhere drops it, and the next read sends a GET
// with a Range from the new offset (so http.ServeContent serves ranges with one
// request each).
func (s *S3) Open(ctx context.Context, key string) (*Reader, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	res, err := s.getObject(ctx, key, 0)
	if err != nil {
		return nil, err
	}
	if res.ContentLength < 0 {
		_ = res.Body.Close()
		return nil, fmt.Errorf("s3 GET %s: no Content-Length", key)
	}

	obj := &s3Object{s: s, ctx: ctx, key: key, size: res.ContentLength, body: res.Body}

	return &Reader{ReadSeekCloser: obj, Attributes: s3Attributes(res.Header, res.ContentLength)}, nil
}

// getObject sends the GET of key from byte offset on.
func (s *S3) getObject(ctx context.Context, key string, offset int64) (*http.Response, error) {
	var header http.Header
	if offset > 0 {
		header = http.Header{"Range": {"bytes=" + strconv.FormatInt(offset, 10) + "-"}}
	}
	return s.send(ctx, s.stream, http.MethodGet, key, nil, header, http.NoBody, 0, emptyPayloadHash)
}

// s3Object reads an object as a stream that seeks (see S3.Open).
type s3Object struct {
	s    *S3
	ctx  context.Context //nolint:containedctx // the reads after a seek belong to the Open call
	key  string
	size int64
	pos  int64
	body io.ReadCloser // positioned at pos, or nil
}

func (o *s3Object) Read(p []byte) (int, error) {
	if o.pos >= o.size {
		return 0, io.EOF
	}
	if o.body == nil {
		res, err := o.s.getObject(o.ctx, o.key, o.pos)
		if err != nil {
			return 0, err
		}
		if res.StatusCode != http.StatusPartialContent && o.pos > 0 {
			_ = res.Body.Close()
			return 0, fmt.Errorf("s3 GET %s: range from %d answered with status %d", o.key, o.pos, res.StatusCode)
		}
		o.body = res.Body
	}

	n, err := o.body.Read(p)
	o.pos += int64(n)
	if errors.Is(err, io.EOF) && o.pos < o.size {
		err = io.ErrUnexpectedEOF
	}

	return n, err
}

func (o *s3Object) Seek(offset int64, whence int) (int64, error) {
	abs := offset
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		abs += o.pos
	case io.SeekEnd:
		abs += o.size
	default:
		return 0, errors.New("s3 object seek: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("s3 object seek: negative position")
	}
	if abs != o.pos && o.body != nil {
		_ = o.body.Close()
		o.body = nil
	}
	o.pos = abs

	return abs, nil
}

func (o *s3Object) Close() error {
	if o.body == nil {
		return nil
	}
	err := o.body.Close()
	o.body = nil

	return err
}

// s3Attributes reads the attributes of an object from its response headers.
func s3Attributes(h http.Header, size int64) Attributes {
	attrs := Attributes{ContentType: h.Get("Content-Type"), Size: size, Metadata: map[string]string{}}
	if attrs.ContentType == "" {
		attrs.ContentType = defaultContentType
	}
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		attrs.ModTime = t
	}
	for k, v := range h {
		if strings.HasPrefix(k, metaPrefix) && len(v) > 0 {
			attrs.Metadata[strings.ToLower(strings.TrimPrefix(k, metaPrefix))] = v[0]
		}
	}
	if etag := strings.Trim(h.Get("ETag"), `"`); len(etag) == 32 && !strings.Contains(etag, "-") {
		attrs.MD5, _ = hex.DecodeString(etag)
	}

	return attrs
}

// Exists implements Store.
func (s *S3) Exists(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	res, err := s.do(ctx, http.MethodHead, key, nil)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}

	return true, res.Body.Close()
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if ok, err := s.Exists(ctx, key); err != nil || !ok {
		if err == nil {
			err = ErrNotFound
		}
		return err
	}
	res, err := s.do(ctx, http.MethodDelete, key, nil)
	if err != nil {
		return err
	}

	return res.Body.Close()
}

// ObjectInfo describes one stored object as a bucket listing gives it.
type ObjectInfo struct {
	// Key is the object key.
	Key string
	// Size is its size in bytes.
	Size int64
	// ModTime is its last modification time.
	ModTime time.Time
}

// List returns every object whose key starts with prefix, sorted by key (the
// bucket's listing order).
func (s *S3) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	return s.list(ctx, prefix, 0)
}

// list returns up to maxKeys objects under prefix (all of them for maxKeys ≤ 0).
func (s *S3) list(ctx context.Context, prefix string, maxKeys int) ([]ObjectInfo, error) {
	var keys []ObjectInfo
	token := ""
	for {
		q := url.Values{"list-type": {"2"}, "prefix": {prefix}}
		if maxKeys > 0 {
			q.Set("max-keys", strconv.Itoa(maxKeys))
		}
		if token != "" {
			q.Set("continuation-token", token)
		}
		res, err := s.do(ctx, http.MethodGet, "", q)
		if err != nil {
			return nil, err
		}
		var page struct {
			Contents []struct {
				Key          string    `xml:"Key"`
				Size         int64     `xml:"Size"`
				LastModified time.Time `xml:"LastModified"`
			} `xml:"Contents"`
			IsTruncated           bool   `xml:"IsTruncated"`
			NextContinuationToken string `xml:"NextContinuationToken"`
		}
		err = xml.NewDecoder(res.Body).Decode(&page)
		_ = res.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("decoding the object list: %w", err)
		}
		for _, c := range page.Contents {
			keys = append(keys, ObjectInfo{Key: c.Key, Size: c.Size, ModTime: c.LastModified})
		}
		if !page.IsTruncated || page.NextContinuationToken == "" || (maxKeys > 0 && len(keys) >= maxKeys) {
			return keys, nil
		}
		token = page.NextContinuationToken
	}
}

// DeleteDir implements Store.
func (s *S3) DeleteDir(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	keys, err := s.list(ctx, key+"/", 0)
	if err != nil {
		return err
	}
	var errs []error
	for _, k := range keys {
		res, err := s.do(ctx, http.MethodDelete, k.Key, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_ = res.Body.Close()
	}

	return errors.Join(errs...)
}

// IsEmptyDir implements Store.
func (s *S3) IsEmptyDir(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	keys, err := s.list(ctx, key+"/", 1)
	if err != nil {
		return false, err
	}

	return len(keys) == 0, nil
}
