package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// instanceClient calls the backups API of a running instance as a superuser.
type instanceClient struct {
	base  *url.URL
	http  *http.Client
	token string // the superuser's auth token, once logged in
}

// parseInstanceURL checks the --url of a push: an http(s) base URL with a host and
// nothing after the path.
func parseInstanceURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid --url %q: want the instance's base URL, e.g. http://acme.team-acme.svc:8090", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")

	return u, nil
}

// newInstanceClient returns a client of the instance at base. The requests have no
// timeout of their own (a large snapshot takes time): ctx bounds them.
func newInstanceClient(base *url.URL) *instanceClient {
	return &instanceClient{base: base, http: &http.Client{}}
}

// login authenticates as the superuser email/password.
func (ic *instanceClient) login(ctx context.Context, email, password string) error {
	var out struct {
		Token string `json:"token"`
	}
	err := ic.call(ctx, http.MethodPost, "/api/collections/_superusers/auth-with-password",
		map[string]string{"identity": email, "password": password}, &out)
	if err != nil {
		return fmt.Errorf("logging in as superuser %s: %w", email, err)
	}
	if out.Token == "" {
		return fmt.Errorf("logging in as superuser %s: no token in the answer", email)
	}
	ic.token = out.Token

	return nil
}

// createBackup makes the instance write backups/<name> (a consistent snapshot).
func (ic *instanceClient) createBackup(ctx context.Context, name string) error {
	if err := ic.call(ctx, http.MethodPost, "/api/backups", map[string]string{"name": name}, nil); err != nil {
		return fmt.Errorf("creating the backup on the instance: %w", err)
	}

	return nil
}

// deleteBackup deletes backups/<name> on the instance.
func (ic *instanceClient) deleteBackup(ctx context.Context, name string) error {
	if err := ic.call(ctx, http.MethodDelete, "/api/backups/"+url.PathEscape(name), nil, nil); err != nil {
		return fmt.Errorf("deleting the backup on the instance: %w", err)
	}

	return nil
}

// openBackup starts the download of backups/<name>; the caller closes the body.
func (ic *instanceClient) openBackup(ctx context.Context, name string) (io.ReadCloser, error) {
	var tok struct {
		Token string `json:"token"`
	}
	if err := ic.call(ctx, http.MethodPost, "/api/files/token", nil, &tok); err != nil {
		return nil, fmt.Errorf("getting a file token: %w", err)
	}
	path := "/api/backups/" + url.PathEscape(name)
	res, err := ic.send(ctx, http.MethodGet, path, url.Values{"token": {tok.Token}}, nil)
	if err != nil {
		return nil, fmt.Errorf("downloading the backup: %w", err)
	}

	return res.Body, nil
}

// call sends a request with an optional JSON body and decodes a JSON answer into out
// (when set).
func (ic *instanceClient) call(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(raw)
	}
	res, err := ic.send(ctx, method, path, nil, r)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
	}

	return nil
}

// send sends a request and returns a 2xx response. Errors name the method and path
// only, never the query (a file token) nor the credentials; a PocketBase error answer
// gives its status and message.
func (ic *instanceClient) send(ctx context.Context, method, path string, query url.Values, body io.Reader) (*http.Response, error) {
	u := *ic.base
	u.Path += path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ic.token != "" {
		req.Header.Set("Authorization", ic.token)
	}

	res, err := ic.http.Do(req)
	if err != nil {
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err
		}
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return res, nil
	}

	defer res.Body.Close()
	var apiErr struct {
		Message string `json:"message"`
		Data    map[string]struct {
			Message string `json:"message"`
		} `json:"data"`
	}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if json.Unmarshal(raw, &apiErr) != nil || apiErr.Message == "" {
		apiErr.Message = http.StatusText(res.StatusCode)
	}
	msg := strings.TrimSpace(apiErr.Message)
	for _, field := range slices.Sorted(maps.Keys(apiErr.Data)) {
		msg += " " + field + ": " + apiErr.Data[field].Message
	}

	return nil, fmt.Errorf("%s %s: status %d: %s", method, path, res.StatusCode, msg)
}
