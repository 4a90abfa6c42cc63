package core_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/internal/apitest"
	"github.com/pocketfleet/pocketfleet/instance/internal/core"
)

// TestCollectionValidation saves collections built from JSON bodies (new ones, or
// merged over a stored one) and compares the flattened validation codes.
func TestCollectionValidation(t *testing.T) {
	app := apitest.NewTestApp(t, apitest.CopyFixture(t))

	tests := []struct {
		name     string
		existing string // "" creates a new collection
		body     string
		want     string
	}{
		{"valid base", "", `{"name":"ok_base","fields":[{"name":"a","type":"text"}]}`, ""},
		{"missing name", "", `{"type":"base"}`, "name:validation_required"},
		{"name with via", "", `{"name":"a_via_b"}`, "name:validation_found_via"},
		{"name of an internal table", "", `{"name":"_params"}`, "name:validation_collection_name_invalid"},
		{"name equal to an id", "", `{"name":"pbc_1125843985"}`, "name:validation_collection_name_id_duplicate"},
		{"unknown type", "", `{"name":"x","type":"nope"}`, "type:validation_in_invalid"},
		{"explicit id taken", "", `{"id":"_pb_users_auth_","name":"x"}`, "id:validation_invalid_or_existing_id"},
		{"bad explicit id", "", `{"id":"a b","name":"x"}`, "id:validation_match_invalid"},
		{"no fields", "", `{"name":"x","fields":[{"name":"a","type":"text"}]}`, ""},
		{"reserved auth field", "", `{"name":"x","type":"auth","fields":[{"name":"oldPassword","type":"text"}]}`, "fields.1.name:validation_reserved_field_name"},
		{"identity field without unique index", "", `{"name":"x","type":"auth","fields":[{"name":"nick","type":"text"}],"passwordAuth":{"enabled":true,"identityFields":["email","nick"]}}`, "passwordAuth.identityFields:validation_missing_unique_constraint"},
		{"identity field missing", "", `{"name":"x","type":"auth","passwordAuth":{"enabled":true,"identityFields":["nope"]}}`, "passwordAuth.identityFields:validation_missing_field"},
		{"mfa needs two methods", "", `{"name":"x","type":"auth","mfa":{"enabled":true,"duration":600}}`, "mfa.enabled:validation_mfa_not_enough_auths"},
		{"token duration", "", `{"name":"x","type":"auth","authToken":{"duration":5}}`, "authToken.duration:validation_min_greater_equal_than_required"},
		{"help too long", "", `{"name":"x","fields":[{"name":"a","type":"bool","help":"` + strings.Repeat("h", 301) + `"},{"name":"b","type":"select","help":"` + strings.Repeat("h", 300) + `"}]}`,
			"fields.1.help:validation_length_out_of_range,fields.2.values:validation_required"},
		{"blank template", "", `{"name":"x","type":"auth","verificationTemplate":{"subject":"","body":""}}`, "verificationTemplate.body:validation_required,verificationTemplate.subject:validation_required"},
		{"empty manage rule", "", `{"name":"x","type":"auth","manageRule":""}`, "manageRule:validation_nil_or_not_empty_required"},
		{"oauth2 provider", "", `{"name":"x","type":"auth","oauth2":{"enabled":true,"providers":[{"name":"google"}]}}`, "oauth2.providers.0.clientId:validation_required,oauth2.providers.0.clientSecret:validation_required"},
		{"duplicated index name", "", `{"name":"x","fields":[{"name":"a","type":"text"}],"indexes":["CREATE INDEX i1 ON x (a)","CREATE INDEX I1 ON x (id)"]}`, "indexes.1:validation_duplicated_index_name"},
		{"index name used elsewhere", "", `{"name":"x","fields":[{"name":"a","type":"text"}],"indexes":["CREATE INDEX idx_tags_label ON x (a)"]}`, "indexes.0:validation_existing_index_name"},
		{"duplicated index definition", "", `{"name":"x","fields":[{"name":"a","type":"text"}],"indexes":["CREATE INDEX i1 ON x (a)","CREATE INDEX i2 ON x (a)"]}`, "indexes.1:validation_duplicated_index_definition"},
		{"view without query", "", `{"name":"v","type":"view"}`, "fields:validation_required,viewQuery:validation_required"},
		{"view with indexes", "", `{"name":"v","type":"view","viewQuery":"SELECT id FROM tags","indexes":["CREATE INDEX i ON v (id)"]}`, "indexes:validation_indexes_not_supported"},
		{"type change", "users", `{"type":"base"}`, "type:validation_collection_type_change"},
		{"system flag change", "tags", `{"system":true}`, "system:validation_collection_system_flag_change"},
		{"system rule change", "_mfas", `{"listRule":null}`, "listRule:validation_collection_system_rule_change"},
		{"id change", "tags", `{"id":"other"}`, "id:validation_values_mismatch"},
		{"field type change", "tags", `{"fields":[{"id":"text3208210256","name":"id","type":"text","primaryKey":true,"pattern":"^[a-z0-9]+$","required":true,"system":true},{"id":"text245846248","name":"label","type":"number"}]}`, "fields.1:validation_field_type_change"},
		{"relation collection change", "posts", `{"fields":[{"id":"relation1874629670","name":"tags","type":"relation","collectionId":"_pb_users_auth_","maxSelect":10}]}`,
			// the rules name fields the new list drops, so they fail too (as in PocketBase)
			"createRule:validation_invalid_rule,deleteRule:validation_invalid_rule,fields.1.collectionId:validation_field_relation_change," +
				"listRule:validation_invalid_rule,updateRule:validation_invalid_rule,viewRule:validation_invalid_rule"},
		{"relation to a view", "", `{"name":"x","fields":[{"name":"r","type":"relation","collectionId":"pbc_240029401"}]}`, "fields.1.collectionId:validation_relation_field_non_view_base_collection"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *core.Collection
			if tt.existing == "" {
				c = &core.Collection{}
			} else {
				var err error
				if c, err = app.FindCollectionByNameOrID(t.Context(), tt.existing); err != nil {
					t.Fatal(err)
				}
			}
			if err := json.Unmarshal([]byte(tt.body), c); err != nil {
				t.Fatal(err)
			}

			err := app.SaveCollection(t.Context(), c)
			got := ""
			if err != nil {
				var nested core.NestedErrors
				if !errors.As(err, &nested) {
					t.Fatalf("not a validation error: %v", err)
				}
				got = flatten("", nested)
			}
			if got != tt.want {
				t.Errorf("errors = %q, want %q", got, tt.want)
			}

			if err == nil && tt.existing == "" {
				if err := app.DeleteCollection(t.Context(), c); err != nil {
					t.Fatalf("cleaning up: %v", err)
				}
			}
		})
	}
}
