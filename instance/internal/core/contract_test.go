package core

import (
	"testing"

	"github.com/pocketfleet/pocketfleet/instance/contract"
)

func TestDataDirFileNamesMatchContract(t *testing.T) {
	if dataDBFile != contract.DataDBFile || auxDBFile != contract.AuxiliaryDBFile {
		t.Fatalf("core uses %q/%q, contract says %q/%q", dataDBFile, auxDBFile, contract.DataDBFile, contract.AuxiliaryDBFile)
	}
}

func TestSystemIDsAreChecksums(t *testing.T) {
	tests := []struct{ got, want string }{
		{collectionID(CollectionTypeAuth, CollectionNameSuperusers), SuperusersCollectionID},
		{collectionID(CollectionTypeBase, CollectionNameExternalAuths), ExternalAuthsCollectionID},
		{collectionID(CollectionTypeBase, CollectionNameMFAs), MFAsCollectionID},
		{collectionID(CollectionTypeBase, CollectionNameOTPs), OTPsCollectionID},
		{collectionID(CollectionTypeBase, CollectionNameAuthOrigins), AuthOriginsCollectionID},
		{fieldID("text", FieldNameID), "text3208210256"},
		{fieldID("password", FieldNamePassword), "password901924565"},
		{fieldID("text", FieldNameTokenKey), "text2504183744"},
		{fieldID("email", FieldNameEmail), "email3885137012"},
		{fieldID("bool", FieldNameEmailVisibility), "bool1547992806"},
		{fieldID("bool", FieldNameVerified), "bool256245529"},
		{fieldID("autodate", FieldNameCreated), "autodate2990389176"},
		{fieldID("autodate", FieldNameUpdated), "autodate3332085495"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("id = %q, want %q", tc.got, tc.want)
		}
	}
}
