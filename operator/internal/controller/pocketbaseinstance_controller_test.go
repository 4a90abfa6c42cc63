package controller

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

func newReconciler(t *testing.T, objs ...client.Object) (*PocketBaseInstanceReconciler, *events.FakeRecorder) {
	t.Helper()
	b, scheme := fakeClient(objs...)
	c := b.WithStatusSubresource(&pbv1alpha1.PocketBaseInstance{}).
		WithIndex(&pbv1alpha1.PocketBaseRestore{}, restoreInstanceField, restoreInstanceName).
		WithIndex(&corev1.Event{}, "involvedObject.uid", func(o client.Object) []string {
			return []string{string(o.(*corev1.Event).InvolvedObject.UID)}
		}).
		Build()
	rec := events.NewFakeRecorder(100)
	return &PocketBaseInstanceReconciler{
		Client: c, APIReader: c, Scheme: scheme, Recorder: rec, DefaultImage: "reg/instance:v1",
	}, rec
}

func reconcileOnce(t *testing.T, r *PocketBaseInstanceReconciler, name string) ctrl.Result {
	t.Helper()
	res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: name}})
	if err != nil {
		t.Fatalf("Reconcile() error = %v", err)
	}
	return res
}

func TestReconcileIsIdempotent(t *testing.T) {
	pbi := &pbv1alpha1.PocketBaseInstance{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "acme", UID: "u1", Generation: 1},
		Spec: pbv1alpha1.PocketBaseInstanceSpec{
			Superuser: pbv1alpha1.SuperuserSpec{Email: "admin@example.com"},
			Storage:   pbv1alpha1.StorageSpec{Size: "1Gi"},
			Ingress:   &pbv1alpha1.IngressSpec{Host: "acme.example.com"},
		},
	}
	r, rec := newReconciler(t, pbi)
	ctx := context.Background()

	reconcileOnce(t, r, "acme")
	first := drain(rec)
	for _, want := range []string{"SuperuserSecretCreated", "Created PersistentVolumeClaim", "Created Service", "Created StatefulSet", "Created Ingress"} {
		if !containsSubstring(first, want) {
			t.Errorf("first pass events %q lack %q", first, want)
		}
	}
	secret := &corev1.Secret{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "acme-superuser"}, secret); err != nil {
		t.Fatalf("superuser secret: %v", err)
	}
	password := string(secret.Data["password"])
	if len(password) != passwordLength {
		t.Errorf("password length = %d", len(password))
	}

	got := &pbv1alpha1.PocketBaseInstance{}
	if err := r.Get(ctx, client.ObjectKeyFromObject(pbi), got); err != nil {
		t.Fatal(err)
	}
	if got.Status.ObservedGeneration != 1 || got.Status.URL != "http://acme.example.com" ||
		!meta.IsStatusConditionFalse(got.Status.Conditions, "Ready") {
		t.Errorf("status after first pass = %+v", got.Status)
	}
	statusRV := got.ResourceVersion

	reconcileOnce(t, r, "acme")
	if second := drain(rec); len(second) != 0 {
		t.Errorf("second pass emitted events %q; an idle pass must report nothing", second)
	}
	if err := r.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "acme-superuser"}, secret); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["password"]) != password {
		t.Error("password changed on the second pass")
	}
	if err := r.Get(ctx, client.ObjectKeyFromObject(pbi), got); err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion != statusRV {
		t.Errorf("idle pass rewrote the instance (resourceVersion %s -> %s)", statusRV, got.ResourceVersion)
	}
	for _, obj := range []client.Object{&appsv1.StatefulSet{}, &corev1.Service{}, &networkingv1.Ingress{}} {
		if err := r.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "acme"}, obj); err != nil {
			t.Errorf("%T: %v", obj, err)
		}
	}
}

func TestReconcileMissingInstance(t *testing.T) {
	r, rec := newReconciler(t)
	if res := reconcileOnce(t, r, "gone"); res != (ctrl.Result{}) {
		t.Errorf("result = %+v", res)
	}
	if e := drain(rec); len(e) != 0 {
		t.Errorf("events = %q", e)
	}
}

func TestReconcileUserSecretWithoutPassword(t *testing.T) {
	pbi := &pbv1alpha1.PocketBaseInstance{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "byo", UID: "u2", Generation: 3},
		Spec:       pbv1alpha1.PocketBaseInstanceSpec{Superuser: pbv1alpha1.SuperuserSpec{SecretName: ptr.To("admin")}},
	}
	short := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "admin"}, Data: map[string][]byte{"password": []byte("short")}}
	r, rec := newReconciler(t, pbi, short)
	if res := reconcileOnce(t, r, "byo"); res.RequeueAfter != recheckAfter {
		t.Errorf("result = %+v, want a recheck", res)
	}
	got := &pbv1alpha1.PocketBaseInstance{}
	if err := r.Get(context.Background(), client.ObjectKeyFromObject(pbi), got); err != nil {
		t.Fatal(err)
	}
	c := meta.FindStatusCondition(got.Status.Conditions, "Degraded")
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != pbv1alpha1.ReasonSecretInvalid || c.ObservedGeneration != 3 {
		t.Errorf("Degraded = %+v", c)
	}
	if !containsSubstring(drain(rec), pbv1alpha1.ReasonSecretInvalid) {
		t.Error("no event for the invalid secret")
	}
	err := r.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "byo"}, &appsv1.StatefulSet{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("StatefulSet created without a usable secret: %v", err)
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p := generatePassword()
		if len(p) != passwordLength || strings.Trim(p, passwordAlphabet) != "" {
			t.Fatalf("password %q is not %d letters of the alphabet", p, passwordLength)
		}
		if seen[p] {
			t.Fatalf("password repeated: %q", p)
		}
		seen[p] = true
	}
}

func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
