package v1alpha1

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestChildNames(t *testing.T) {
	custom := "my-admin"
	tests := []struct {
		name          string
		spec          PocketBaseInstanceSpec
		wantSecret    string
		wantGenerated bool
		wantPolicy    PersistentVolumeClaimPolicy
	}{
		{name: "defaults", wantSecret: "acme-superuser", wantGenerated: true, wantPolicy: PersistentVolumeClaimRetain},
		{
			name:       "existing secret, delete policy",
			spec:       PocketBaseInstanceSpec{Superuser: SuperuserSpec{SecretName: &custom}, Storage: StorageSpec{ReclaimPolicy: PersistentVolumeClaimDelete}},
			wantSecret: "my-admin", wantPolicy: PersistentVolumeClaimDelete,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &PocketBaseInstance{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: tc.spec}
			if got := in.ChildName(); got != "acme" {
				t.Errorf("ChildName() = %q", got)
			}
			if got := in.DataVolumeClaimName(); got != "acme-data" {
				t.Errorf("DataVolumeClaimName() = %q", got)
			}
			if got := in.SuperuserSecretName(); got != tc.wantSecret {
				t.Errorf("SuperuserSecretName() = %q, want %q", got, tc.wantSecret)
			}
			if got := in.GeneratesSuperuserSecret(); got != tc.wantGenerated {
				t.Errorf("GeneratesSuperuserSecret() = %v, want %v", got, tc.wantGenerated)
			}
			if got := in.StorageReclaimPolicy(); got != tc.wantPolicy {
				t.Errorf("StorageReclaimPolicy() = %q, want %q", got, tc.wantPolicy)
			}
		})
	}
}
