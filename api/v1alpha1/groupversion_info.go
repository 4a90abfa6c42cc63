// Package v1alpha1 contains the API types of the pocketfleet.io group, version v1alpha1.
//
// +kubebuilder:object:generate=true
// +kubebuilder:ac:generate=true
// +groupName=pocketfleet.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "pocketfleet.io", Version: "v1alpha1"}

	// SchemeGroupVersion is GroupVersion under the name that generated code expects.
	SchemeGroupVersion = GroupVersion

	// SchemeBuilder adds the types of this group version to a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types in this group version to the given scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&PocketBaseInstance{}, &PocketBaseInstanceList{},
		&PocketBaseBackup{}, &PocketBaseBackupList{},
		&PocketBaseRestore{}, &PocketBaseRestoreList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
