package integration

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

const (
	timeout  = 20 * time.Second
	interval = 100 * time.Millisecond
)

var nsCounter atomic.Int32

// newNamespace creates a namespace of its own for one spec.
func newNamespace(ctx context.Context) string {
	name := fmt.Sprintf("t%d-%d", GinkgoParallelProcess(), nsCounter.Add(1))
	Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	return name
}

func newInstance(ns, name string) *pbv1alpha1.PocketBaseInstance {
	return &pbv1alpha1.PocketBaseInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

func key(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

// getInstance reads the instance fresh from the API server.
func getInstance(ctx context.Context, ns, name string) *pbv1alpha1.PocketBaseInstance {
	pbi := &pbv1alpha1.PocketBaseInstance{}
	ExpectWithOffset(1, k8sClient.Get(ctx, key(ns, name), pbi)).To(Succeed())
	return pbi
}

// condition returns the instance's condition of the given type, or nil.
func condition(ctx context.Context, ns, name string, t pbv1alpha1.ConditionType) *metav1.Condition {
	return meta.FindStatusCondition(getInstance(ctx, ns, name).Status.Conditions, string(t))
}

// eventuallyCondition waits until the condition has the given status and reason.
func eventuallyCondition(ctx context.Context, ns, name string, t pbv1alpha1.ConditionType, s metav1.ConditionStatus, reason string) {
	EventuallyWithOffset(1, func(g Gomega) {
		c := condition(ctx, ns, name, t)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(s), "condition %s: %s", t, c.Message)
		g.Expect(c.Reason).To(Equal(reason), "condition %s: %s", t, c.Message)
		g.Expect(c.ObservedGeneration).To(Equal(getInstance(ctx, ns, name).Generation))
	}, timeout, interval).Should(Succeed())
}

// eventuallyGet waits until the object exists and reads it.
func eventuallyGet(ctx context.Context, k client.ObjectKey, obj client.Object) {
	EventuallyWithOffset(1, func() error { return k8sClient.Get(ctx, k, obj) }, timeout, interval).Should(Succeed())
}

// simulatePodReady stands in for the StatefulSet controller and the kubelet, which
// envtest does not run: it creates the instance pod from the StatefulSet's template,
// marks it ready, and reports the StatefulSet rolled out.
func simulatePodReady(ctx context.Context, ns, name string) {
	sts := &appsv1.StatefulSet{}
	eventuallyGet(ctx, key(ns, name), sts)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name + "-0",
			Labels:          sts.Spec.Template.Labels,
			Annotations:     sts.Spec.Template.Annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(sts, appsv1.SchemeGroupVersion.WithKind("StatefulSet"))},
		},
		Spec: *sts.Spec.Template.Spec.DeepCopy(),
	}
	pod.Spec.NodeName = "node-1"
	ExpectWithOffset(1, client.IgnoreAlreadyExists(k8sClient.Create(ctx, pod))).To(Succeed())
	setPodStatus(ctx, ns, name+"-0", corev1.PodStatus{
		Phase: corev1.PodRunning,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue},
		},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: specs.ContainerName, Ready: true, Image: sts.Spec.Template.Spec.Containers[0].Image,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
		}},
	})
	setStatefulSetRolledOut(ctx, ns, name)
}

// startReady creates the instance and brings it to Ready.
func startReady(ctx context.Context, pbi *pbv1alpha1.PocketBaseInstance) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
	simulatePodReady(ctx, pbi.Namespace, pbi.Name)
	eventuallyCondition(ctx, pbi.Namespace, pbi.Name, pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
}

func setPodStatus(ctx context.Context, ns, name string, st corev1.PodStatus) {
	EventuallyWithOffset(2, func() error {
		pod := &corev1.Pod{}
		if err := k8sClient.Get(ctx, key(ns, name), pod); err != nil {
			return err
		}
		pod.Status = st
		return k8sClient.Status().Update(ctx, pod)
	}, timeout, interval).Should(Succeed())
}

func setStatefulSetRolledOut(ctx context.Context, ns, name string) {
	EventuallyWithOffset(2, func() error {
		sts := &appsv1.StatefulSet{}
		if err := k8sClient.Get(ctx, key(ns, name), sts); err != nil {
			return err
		}
		sts.Status = appsv1.StatefulSetStatus{
			ObservedGeneration: sts.Generation,
			Replicas:           1, ReadyReplicas: 1, CurrentReplicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1,
			CurrentRevision: fmt.Sprintf("%s-%d", name, sts.Generation),
			UpdateRevision:  fmt.Sprintf("%s-%d", name, sts.Generation),
		}
		return k8sClient.Status().Update(ctx, sts)
	}, timeout, interval).Should(Succeed())
}

// events lists the reasons of the events about an object.
func eventReasons(ctx context.Context, ns, name string) []string {
	list := &eventsv1.EventList{}
	ExpectWithOffset(1, k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	var reasons []string
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Regarding.Kind == "PocketBaseInstance" {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons
}

// updateInstance changes the instance with retries on conflict, as a user's client would.
func updateInstance(ctx context.Context, ns, name string, change func(*pbv1alpha1.PocketBaseInstance)) *pbv1alpha1.PocketBaseInstance {
	pbi := &pbv1alpha1.PocketBaseInstance{}
	EventuallyWithOffset(1, func() error {
		if err := k8sClient.Get(ctx, key(ns, name), pbi); err != nil {
			return err
		}
		change(pbi)
		return k8sClient.Update(ctx, pbi)
	}, timeout, interval).Should(Succeed())
	return pbi
}

// s3Dest is the bucket the tests' backups live in, with the credentials Secret secret.
// It has no prefix: the operator puts each instance's backups under namespace/instance/.
func s3Dest(secret string) pbv1alpha1.S3Destination {
	return pbv1alpha1.S3Destination{
		Endpoint: "http://s3.storage.svc:9000", Bucket: "tenant-backups", Region: "eu-west-1", ForcePathStyle: true,
		CredentialsSecretRef: pbv1alpha1.SecretReference{Name: secret},
	}
}

// credentialsData is the data of an S3 credentials Secret with the given keys, each
// with the value "value-of-" and its key.
func credentialsData(keys ...string) map[string][]byte {
	data := map[string][]byte{}
	for _, k := range keys {
		data[k] = []byte("value-of-" + k)
	}
	return data
}

// newCredentials creates the S3 credentials Secret name with the given keys.
func newCredentials(ctx context.Context, ns, name string, keys ...string) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Data:       credentialsData(keys...),
	})).To(Succeed())
}

// get reads an object of kind T fresh from the API server.
func get[T any, PT interface {
	*T
	client.Object
}](ctx context.Context, ns, name string) PT {
	GinkgoHelper()
	obj := PT(new(T))
	Expect(k8sClient.Get(ctx, key(ns, name), obj)).To(Succeed())
	return obj
}

// phased are the kinds whose status has a BackupPhase and a message.
type phased interface {
	pbv1alpha1.PocketBaseBackup | pbv1alpha1.PocketBaseRestore
}

// eventuallyPhase waits until the backup or restore name has the phase, and returns it.
func eventuallyPhase[T phased, PT interface {
	*T
	client.Object
}](ctx context.Context, ns, name string, phase pbv1alpha1.BackupPhase) PT {
	GinkgoHelper()
	obj := PT(new(T))
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, key(ns, name), obj)).To(Succeed())
		got, msg := phaseOf(obj)
		g.Expect(got).To(Equal(phase), "%T %s: %s", obj, name, msg)
	}, timeout, interval).Should(Succeed())
	return obj
}

// phaseOf is the phase and message of a backup or a restore.
func phaseOf(obj client.Object) (pbv1alpha1.BackupPhase, string) {
	switch o := obj.(type) {
	case *pbv1alpha1.PocketBaseBackup:
		return o.Status.Phase, o.Status.Message
	case *pbv1alpha1.PocketBaseRestore:
		return o.Status.Phase, o.Status.Message
	default:
		panic(fmt.Sprintf("%T has no phase", obj))
	}
}

// eventsAbout lists the events regarding the object name of kind, as "Type/Reason: note".
func eventsAbout(ctx context.Context, ns, kind, name string) []string {
	GinkgoHelper()
	list := &eventsv1.EventList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == kind && e.Regarding.Name == name {
			out = append(out, e.Type+"/"+e.Reason+": "+e.Note)
		}
	}
	return out
}
