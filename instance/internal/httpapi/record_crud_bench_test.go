package httpapi_test

import (
	"io"
	"net/http"
	"testing"
)

func benchGet(b *testing.B, client *http.Client, url, token string) {
	b.Helper()
	req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Fatalf("status = %d, want 200", res.StatusCode)
	}
}

// BenchmarkListRecords lists the fixture's posts over HTTP: a guest page under the
// listRule, a filtered and sorted page with a relation join, and an expanded page.
func BenchmarkListRecords(b *testing.B) {
	srv, _ := benchServer(b)
	client := srv.Client()
	base := srv.URL + "/api/collections/posts/records"

	cases := []struct{ name, url string }{
		{"guest", base + "?sort=title&perPage=5"},
		{"filter", base + "?filter=" + urlQuery("tags.label ?= 'go' && views > 30") + "&sort=-views"},
		{"expand", base + "?sort=-views&expand=tags,comments_via_post&perPage=10"},
		{"fields", base + "?fields=id,title,body:excerpt(10)"},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				benchGet(b, client, tc.url, "")
			}
		})
	}
}

// BenchmarkViewRecord views one post over HTTP as a guest (viewRule expression),
// plainly and with nested expands.
func BenchmarkViewRecord(b *testing.B) {
	srv, _ := benchServer(b)
	client := srv.Client()
	url := srv.URL + "/api/collections/posts/records/" + post1ID

	b.Run("guest", func(b *testing.B) {
		for b.Loop() {
			benchGet(b, client, url, "")
		}
	})
	b.Run("expand", func(b *testing.B) {
		for b.Loop() {
			benchGet(b, client, url+"?expand=author,tags,comments_via_post.author", "")
		}
	})
}
