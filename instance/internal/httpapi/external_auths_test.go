package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// `_externalAuths` records are checked on save as PocketBase's recordRefHooks and
// provider hook do: collectionRef an auth collection, recordRef one of its records,
// provider a known provider name; the first failure only.
func TestExternalAuthsSaveValidation(t *testing.T) {
	tok := newTokens(t)
	auth := map[string]string{"Authorization": tok.admin, "Content-Type": "application/json"}
	body := func(collectionRef, recordRef, provider string) *strings.Reader {
		return strings.NewReader(`{"collectionRef":"` + collectionRef + `","recordRef":"` + recordRef +
			`","provider":"` + provider + `","providerId":"p1"}`)
	}
	failure := func(field, code, message string) string {
		return `{"data":{"` + field + `":{"code":"` + code + `","message":"` + message + `"}},"message":"Failed to create record.","status":400}`
	}
	const url = "/api/collections/_externalAuths/records"

	scenarios := []apitest.ApiScenario{
		{Name: "missing collectionRef", Method: http.MethodPost, URL: url, Headers: auth, Body: body("", aliceID, "google"),
			ExpectedStatus: 400, ExpectedBody: failure("collectionRef", "validation_required", "Cannot be blank.")},
		{Name: "unknown collection", Method: http.MethodPost, URL: url, Headers: auth, Body: body("nope", aliceID, "google"),
			ExpectedStatus: 400, ExpectedBody: failure("collectionRef", "validation_invalid_collection_id", "Missing or invalid collection.")},
		{Name: "base collection", Method: http.MethodPost, URL: url, Headers: auth, Body: body("pbc_1125843985", post1ID, "google"),
			ExpectedStatus: 400, ExpectedBody: failure("collectionRef", "validation_invalid_collection_type", "Invalid collection type - must be auth.")},
		{Name: "missing recordRef", Method: http.MethodPost, URL: url, Headers: auth, Body: body("_pb_users_auth_", "", "google"),
			ExpectedStatus: 400, ExpectedBody: failure("recordRef", "validation_required", "Cannot be blank.")},
		{Name: "record of another collection", Method: http.MethodPost, URL: url, Headers: auth, Body: body("_pb_users_auth_", post1ID, "google"),
			ExpectedStatus: 400, ExpectedBody: failure("recordRef", "validation_invalid_record", "Missing or invalid record.")},
		{Name: "unknown provider", Method: http.MethodPost, URL: url, Headers: auth, Body: body("_pb_users_auth_", aliceID, "myspace"),
			ExpectedStatus: 400, ExpectedBody: failure("provider", "validation_in_invalid", "Must be a valid value.")},
		{Name: "missing provider", Method: http.MethodPost, URL: url, Headers: auth, Body: body("_pb_users_auth_", aliceID, ""),
			ExpectedStatus: 400, ExpectedBody: failure("provider", "validation_required", "Cannot be blank.")},
		{Name: "valid link", Method: http.MethodPost, URL: url, Headers: auth, Body: body("_pb_users_auth_", aliceID, "google"),
			ExpectedStatus: 200, ExpectedContent: []string{`"collectionRef":"_pb_users_auth_"`, `"provider":"google"`, `"recordRef":"` + aliceID + `"`},
			AfterTestFunc: func(t testing.TB, app *core.App, _ *http.Response, _ []byte) {
				users, err := app.FindCollectionByNameOrID(t.Context(), "users")
				if err != nil {
					t.Fatal(err)
				}
				if ea, err := app.FindExternalAuth(t.Context(), users, "google", "p1"); err != nil || ea.RecordRef != aliceID {
					t.Errorf("stored link = %+v, %v", ea, err)
				}
			}},
	}
	for _, s := range scenarios {
		s.TestAppFactory = fixtureApp
		s.Test(t)
	}
}
