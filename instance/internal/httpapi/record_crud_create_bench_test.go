package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// BenchmarkCreateRecord measures a whole record create over HTTP on a copy of the
// fixture: body binding, validation (a relation lookup included), the write
// transaction and the response. "superuser" bypasses the createRule; "rule" is alice
// creating her own post, which also evaluates the createRule over the virtual row.
func BenchmarkCreateRecord(b *testing.B) {
	srv, app := benchServer(b)
	find := func(collection, id string) *core.Record {
		rec, err := app.FindRecordByID(b.Context(), collection, id)
		if err != nil {
			b.Fatal(err)
		}
		return rec
	}
	token := func(rec *core.Record) map[string]string {
		tok, err := core.NewAuthToken(rec)
		if err != nil {
			b.Fatal(err)
		}
		return map[string]string{"Authorization": tok, "Content-Type": "application/json"}
	}
	admin, alice := token(find("_superusers", adminID)), token(find("users", aliceID))
	url := srv.URL + "/api/collections/posts/records"

	cases := []struct {
		name    string
		headers map[string]string
	}{
		{"superuser", admin},
		{"rule", alice},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				body := `{"title":"Bench ` + strconv.Itoa(i) + `","author":"` + aliceID +
					`","tags":["` + rwTagGo + `"],"channels":["web"],"views":` + strconv.Itoa(i) + `}`
				benchPost(b, srv.Client(), url, body, tc.headers, http.StatusOK)
			}
		})
	}
}
