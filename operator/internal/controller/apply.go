package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// applyChild applies a child's desired state and reports whether that created the
// child or changed it. current is filled with the object as the API server returned it.
//
// note: "changed" compares the object before and after, leaving out status and the
// bookkeeping fields the API server moves by itself, so an idle pass reports nothing
// while a hand-edited or outdated child is reported once.
func (r *PocketBaseInstanceReconciler) applyChild(ctx context.Context, desired runtime.ApplyConfiguration, current client.Object) (created, changed bool, err error) {
	key, err := objectKey(desired)
	if err != nil {
		return false, false, err
	}
	var before map[string]any
	switch err := r.Get(ctx, key, current); {
	case apierrors.IsNotFound(err):
		created = true
	case err != nil:
		return false, false, err
	default:
		if before, err = comparable(current); err != nil {
			return false, false, err
		}
	}
	if err := r.Apply(ctx, desired, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return false, false, err
	}
	// The client wrote the API server's answer into desired; start current afresh so
	// nothing of the old read (a removed label, say) survives the decoding.
	reflect.ValueOf(current).Elem().SetZero()
	if err := convert(desired, current); err != nil {
		return false, false, err
	}
	if created {
		return true, false, nil
	}
	after, err := comparable(current)
	if err != nil {
		return false, false, err
	}
	return false, !equality.Semantic.DeepEqual(before, after), nil
}

// comparable is obj as a map without status and the metadata the API server maintains.
func comparable(obj client.Object) (map[string]any, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", obj, err)
	}
	for _, k := range []string{"status", "apiVersion", "kind"} {
		delete(m, k)
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, k := range []string{"resourceVersion", "managedFields", "generation", "creationTimestamp"} {
			delete(md, k)
		}
	}
	return m, nil
}

// objectKey reads name and namespace from an apply configuration.
func objectKey(ac runtime.ApplyConfiguration) (client.ObjectKey, error) {
	var m struct {
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := convert(ac, &m); err != nil {
		return client.ObjectKey{}, err
	}
	return client.ObjectKey{Namespace: m.Metadata.Namespace, Name: m.Metadata.Name}, nil
}

// convert moves between an apply configuration and its typed object through JSON; both
// share one schema by construction.
func convert(from, to any) error {
	raw, err := json.Marshal(from)
	if err != nil {
		return fmt.Errorf("encoding %T: %w", from, err)
	}
	if err := json.Unmarshal(raw, to); err != nil {
		return fmt.Errorf("decoding into %T: %w", to, err)
	}
	return nil
}
