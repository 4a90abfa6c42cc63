package specs

import (
	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

// Label keys and values put on every child of a PocketBaseInstance.
const (
	// LabelName is the recommended app name label.
	LabelName = "app.kubernetes.io/name"
	// LabelInstance is the recommended instance label: the PocketBaseInstance's name.
	LabelInstance = "app.kubernetes.io/instance"
	// LabelComponent is the recommended component label.
	LabelComponent = "app.kubernetes.io/component"
	// LabelManagedBy is the recommended managed-by label; the operator's caches select
	// on it, so it must be on every child.
	LabelManagedBy = "app.kubernetes.io/managed-by"

	// AppName is the value of LabelName.
	AppName = "pocketbase"
	// ManagedBy is the value of LabelManagedBy.
	ManagedBy = "pocketfleet"
	// ComponentInstance is the component of the pod, Service, Ingress and StatefulSet.
	ComponentInstance = "instance"
	// ComponentData is the component of the data volume claim.
	ComponentData = "data"
	// ComponentSuperuser is the component of the superuser Secret.
	ComponentSuperuser = "superuser"
)

// Annotation keys.
const (
	// AnnotationSuperuserSecretVersion on the pod template carries the resourceVersion of
	// the superuser Secret, so a changed password rolls the pod and is applied at start-up.
	AnnotationSuperuserSecretVersion = "pocketfleet.io/superuser-secret-version"
	// AnnotationUpgradeTarget on the StatefulSet names the image it is being upgraded to
	// while it holds one of the operator's upgrade slots (--max-concurrent-upgrades). The
	// operator rebuilds its slot count from these after a restart.
	AnnotationUpgradeTarget = "pocketfleet.io/upgrade-target"
	// LabelRevisionHash is the StatefulSet controller's label naming a pod's revision.
	LabelRevisionHash = "controller-revision-hash"
)

// SelectorLabels are the labels that select the instance pod. They never change for
// the life of an instance, since a StatefulSet's selector is immutable.
func SelectorLabels(pbi *pbv1alpha1.PocketBaseInstance) map[string]string {
	return map[string]string{
		LabelName:     AppName,
		LabelInstance: pbi.Name,
	}
}

// ServingLabels select the instance pod among the pods of the instance for its Service and
// NetworkPolicy: the pods of its backup and restore Jobs share SelectorLabels, and a push
// calling the Service must not reach itself. Unlike SelectorLabels they may change, since
// Service and NetworkPolicy selectors are mutable.
func ServingLabels(pbi *pbv1alpha1.PocketBaseInstance) map[string]string {
	l := SelectorLabels(pbi)
	l[LabelComponent] = ComponentInstance
	return l
}

// Labels are the labels of a child with the given component.
func Labels(pbi *pbv1alpha1.PocketBaseInstance, component string) map[string]string {
	l := SelectorLabels(pbi)
	l[LabelComponent] = component
	l[LabelManagedBy] = ManagedBy
	return l
}

// Labels of PocketBaseBackup objects, so a tenant's backups are listed by selector.
const (
	// LabelBackupTrigger says what started a backup: TriggerScheduled for the
	// instance's schedule; on-demand backups carry no label or any other value.
	LabelBackupTrigger = "pocketfleet.io/backup-trigger"
	// TriggerScheduled is the LabelBackupTrigger value of backups the schedule creates.
	TriggerScheduled = "scheduled"
)
