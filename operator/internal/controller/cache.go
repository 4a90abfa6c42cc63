package controller

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

// CacheOptions limits the informers of the children to objects this operator labelled,
// so the operator's memory follows the number of tenants, not the size of the cluster.
// Objects outside the cache (users' Secrets, StorageClasses, events) are read through
// the manager's API reader.
func CacheOptions() cache.Options {
	ours := labels.SelectorFromSet(labels.Set{specs.LabelManagedBy: specs.ManagedBy})
	return cache.Options{ByObject: map[client.Object]cache.ByObject{
		&appsv1.StatefulSet{}:           {Label: ours},
		&corev1.Service{}:               {Label: ours},
		&corev1.Secret{}:                {Label: ours},
		&corev1.PersistentVolumeClaim{}: {Label: ours},
		&corev1.Pod{}:                   {Label: ours},
		&networkingv1.Ingress{}:         {Label: ours},
		&networkingv1.NetworkPolicy{}:   {Label: ours},
		&batchv1.Job{}:                  {Label: ours},
	}}
}
