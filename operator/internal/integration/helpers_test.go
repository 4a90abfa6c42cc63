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
