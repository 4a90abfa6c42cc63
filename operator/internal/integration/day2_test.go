package integration

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/controller"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

// restartManager runs the rest of the spec against an operator configured with opts,
// and puts the default one back afterwards.
func restartManager(opts ...reconcilerOption) {
	stopManager()
	startManager(opts...)
	DeferCleanup(func() {
		stopManager()
		startManager()
	})
}

// simulateRevision stands in for the StatefulSet controller rolling the pod to a new
// revision: the old pod goes, a pod of the current template labelled with the revision
// comes, ready or crash-looping, and the StatefulSet reports it.
func simulateRevision(ctx context.Context, ns, name, revision string, ready bool) {
	deletePodNow(ctx, ns, name+"-0")
	sts := &appsv1.StatefulSet{}
	eventuallyGet(ctx, key(ns, name), sts)
	labels := map[string]string{specs.LabelRevisionHash: revision}
	for k, v := range sts.Spec.Template.Labels {
		labels[k] = v
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-0", Labels: labels},
		Spec:       *sts.Spec.Template.Spec.DeepCopy(),
	}
	pod.Spec.NodeName = "node-1"
	ExpectWithOffset(1, k8sClient.Create(ctx, pod)).To(Succeed())
	podReady := corev1.ConditionFalse
	if ready {
		podReady = corev1.ConditionTrue
	}
	state := corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}
	if !ready {
		state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5m0s"}}
	}
	setPodStatus(ctx, ns, name+"-0", corev1.PodStatus{
		Phase:      corev1.PodRunning,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: podReady}},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: specs.ContainerName, Image: sts.Spec.Template.Spec.Containers[0].Image, Ready: ready, State: state,
		}},
	})
	EventuallyWithOffset(1, func() error {
		s := &appsv1.StatefulSet{}
		if err := k8sClient.Get(ctx, key(ns, name), s); err != nil {
			return err
		}
		s.Status = appsv1.StatefulSetStatus{
			ObservedGeneration: s.Generation, Replicas: 1, UpdatedReplicas: 1, CurrentReplicas: 1,
			CurrentRevision: "previous", UpdateRevision: revision,
		}
		if ready {
			s.Status.ReadyReplicas, s.Status.AvailableReplicas, s.Status.CurrentRevision = 1, 1, revision
		}
		return k8sClient.Status().Update(ctx, s)
	}, timeout, interval).Should(Succeed())
}

// deletePodNow removes a pod at once, as the kubelet would after it stopped.
func deletePodNow(ctx context.Context, ns, name string) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	ExpectWithOffset(1, client.IgnoreNotFound(k8sClient.Delete(ctx, pod, client.GracePeriodSeconds(0)))).To(Succeed())
	EventuallyWithOffset(1, func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, name), &corev1.Pod{}))
	}, timeout, interval).Should(BeTrue())
}

func stsImage(ctx context.Context, ns, name string) string {
	sts := &appsv1.StatefulSet{}
	ExpectWithOffset(1, k8sClient.Get(ctx, key(ns, name), sts)).To(Succeed())
	return sts.Spec.Template.Spec.Containers[0].Image
}

// touchPod changes a label on the pod, which wakes the reconciler as a kubelet status
// update would.
func touchPod(ctx context.Context, ns, name string) {
	EventuallyWithOffset(1, func() error {
		pod := &corev1.Pod{}
		if err := k8sClient.Get(ctx, key(ns, name), pod); err != nil {
			return err
		}
		pod.Labels["touched"] = fmt.Sprint(time.Now().UnixNano())
		return k8sClient.Update(ctx, pod)
	}, timeout, interval).Should(Succeed())
}

var _ = Describe("PocketBaseInstance day 2", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	It("hibernates to zero pods, keeps the volume, Service and Ingress, and resumes on the same volume", func() {
		pbi := newInstance(ns, "sleepy")
		pbi.Spec.Ingress = &pbv1alpha1.IngressSpec{Host: "sleepy.example.com"}
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		simulatePodReady(ctx, ns, "sleepy")
		eventuallyCondition(ctx, ns, "sleepy", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
		pvc := &corev1.PersistentVolumeClaim{}
		Expect(k8sClient.Get(ctx, key(ns, "sleepy-data"), pvc)).To(Succeed())

		By("scaling the StatefulSet to zero")
		updateInstance(ctx, ns, "sleepy", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Hibernation = &pbv1alpha1.HibernationSpec{Hibernated: true}
		})
		Eventually(func() int32 {
			sts := &appsv1.StatefulSet{}
			Expect(k8sClient.Get(ctx, key(ns, "sleepy"), sts)).To(Succeed())
			return *sts.Spec.Replicas
		}, timeout, interval).Should(BeZero())
		eventuallyCondition(ctx, ns, "sleepy", pbv1alpha1.ConditionReady, metav1.ConditionFalse, pbv1alpha1.ReasonHibernating)

		By("reporting Hibernated, not Degraded, once the pod is gone")
		deletePodNow(ctx, ns, "sleepy-0")
		eventuallyCondition(ctx, ns, "sleepy", pbv1alpha1.ConditionReady, metav1.ConditionFalse, pbv1alpha1.ReasonHibernated)
		eventuallyCondition(ctx, ns, "sleepy", pbv1alpha1.ConditionProgressing, metav1.ConditionFalse, pbv1alpha1.ReasonHibernated)
		eventuallyCondition(ctx, ns, "sleepy", pbv1alpha1.ConditionDegraded, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected)
		Expect(getInstance(ctx, ns, "sleepy").Status.RolloutStartTime).To(BeNil())

		By("keeping the volume, the Secret, the Service and the Ingress")
		kept := &corev1.PersistentVolumeClaim{}
		Expect(k8sClient.Get(ctx, key(ns, "sleepy-data"), kept)).To(Succeed())
		Expect(kept.UID).To(Equal(pvc.UID))
		Expect(k8sClient.Get(ctx, key(ns, "sleepy-superuser"), &corev1.Secret{})).To(Succeed())
		Expect(k8sClient.Get(ctx, key(ns, "sleepy"), &corev1.Service{})).To(Succeed())
		Expect(k8sClient.Get(ctx, key(ns, "sleepy"), &networkingv1.Ingress{})).To(Succeed())
		Expect(eventReasons(ctx, ns, "sleepy")).NotTo(ContainElement(pbv1alpha1.ReasonRolloutStuck))

		By("showing Hibernated in the printer columns")
		crd := &unstructured.Unstructured{}
		crd.SetAPIVersion("apiextensions.k8s.io/v1")
		crd.SetKind("CustomResourceDefinition")
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "pocketbaseinstances.pocketfleet.io"}, crd)).To(Succeed())
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		cols, _, _ := unstructured.NestedSlice(versions[0].(map[string]any), "additionalPrinterColumns")
		Expect(cols).To(ContainElement(HaveKeyWithValue("jsonPath", ".spec.hibernation.hibernated")))
		Expect(cols).To(ContainElement(And(HaveKeyWithValue("name", "Status"),
			HaveKeyWithValue("jsonPath", `.status.conditions[?(@.type=="Ready")].reason`))))

		By("resuming on the same data volume claim")
		updateInstance(ctx, ns, "sleepy", func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Hibernation = nil })
		Eventually(func() int32 {
			sts := &appsv1.StatefulSet{}
			Expect(k8sClient.Get(ctx, key(ns, "sleepy"), sts)).To(Succeed())
			return *sts.Spec.Replicas
		}, timeout, interval).Should(BeEquivalentTo(1))
		sts := &appsv1.StatefulSet{}
		Expect(k8sClient.Get(ctx, key(ns, "sleepy"), sts)).To(Succeed())
		Expect(sts.Spec.Template.Spec.Volumes).To(ContainElement(HaveField("VolumeSource.PersistentVolumeClaim.ClaimName", "sleepy-data")))
		simulatePodReady(ctx, ns, "sleepy")
		eventuallyCondition(ctx, ns, "sleepy", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
		Expect(k8sClient.Get(ctx, key(ns, "sleepy-data"), kept)).To(Succeed())
		Expect(kept.UID).To(Equal(pvc.UID))
	})

	It("grows the volume where the StorageClass allows it and reports the resize", func() {
		sc := &storagev1.StorageClass{
			ObjectMeta:           metav1.ObjectMeta{Name: "grow-" + ns},
			Provisioner:          "example.com/csi",
			AllowVolumeExpansion: ptr.To(true),
		}
		Expect(k8sClient.Create(ctx, sc)).To(Succeed())
		DeferCleanup(func() { _ = k8sClient.Delete(context.Background(), sc) })
		pbi := newInstance(ns, "big")
		pbi.Spec.Storage.StorageClassName = ptr.To(sc.Name)
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		bindClaim(ctx, ns, "big-data", "1Gi")
		simulatePodReady(ctx, ns, "big")
		eventuallyCondition(ctx, ns, "big", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)

		By("patching the claim's request")
		updateInstance(ctx, ns, "big", func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Storage.Size = "5Gi" })
		Eventually(func() string {
			pvc := &corev1.PersistentVolumeClaim{}
			Expect(k8sClient.Get(ctx, key(ns, "big-data"), pvc)).To(Succeed())
			return pvc.Spec.Resources.Requests.Storage().String()
		}, timeout, interval).Should(Equal("5Gi"))
		Eventually(func() []string { return eventReasons(ctx, ns, "big") }, timeout, interval).Should(ContainElement("VolumeExpansionRequested"))

		By("waiting for a resizer while none has started (the claim keeps its capacity)")
		eventuallyCondition(ctx, ns, "big", pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, pbv1alpha1.ReasonVolumeResizing)
		Eventually(func() *pbv1alpha1.StorageStatus { return getInstance(ctx, ns, "big").Status.Storage }, timeout, interval).
			Should(Equal(&pbv1alpha1.StorageStatus{Requested: "5Gi", Capacity: "1Gi"}))
		Expect(condition(ctx, ns, "big", pbv1alpha1.ConditionProgressing).Message).To(ContainSubstring("no resize has started yet"))
		Expect(condition(ctx, ns, "big", pbv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))

		By("reporting a file system resize that waits for the node")
		setClaimStatus(ctx, ns, "big-data", "1Gi", corev1.PersistentVolumeClaimFileSystemResizePending)
		eventuallyCondition(ctx, ns, "big", pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, pbv1alpha1.ReasonVolumeResizing)
		Eventually(func() *pbv1alpha1.StorageStatus { return getInstance(ctx, ns, "big").Status.Storage }, timeout, interval).
			Should(Equal(&pbv1alpha1.StorageStatus{Requested: "5Gi", Capacity: "1Gi", Resize: "FileSystemResizePending"}))
		Expect(condition(ctx, ns, "big", pbv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))

		By("clearing once the volume has its new size")
		setClaimStatus(ctx, ns, "big-data", "5Gi", "")
		eventuallyCondition(ctx, ns, "big", pbv1alpha1.ConditionProgressing, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected)
		Expect(getInstance(ctx, ns, "big").Status.Storage).To(Equal(&pbv1alpha1.StorageStatus{Requested: "5Gi", Capacity: "5Gi"}))
	})

	It("refuses to grow a volume whose StorageClass does not allow it, loses nothing, and proceeds once it does", func() {
		sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "fixed-" + ns}, Provisioner: "example.com/csi"}
		Expect(k8sClient.Create(ctx, sc)).To(Succeed())
		DeferCleanup(func() { _ = k8sClient.Delete(context.Background(), sc) })
		pbi := newInstance(ns, "fixed")
		pbi.Spec.Storage.StorageClassName = ptr.To(sc.Name)
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		bindClaim(ctx, ns, "fixed-data", "1Gi")
		simulatePodReady(ctx, ns, "fixed")
		eventuallyCondition(ctx, ns, "fixed", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
		pvc := &corev1.PersistentVolumeClaim{}
		Expect(k8sClient.Get(ctx, key(ns, "fixed-data"), pvc)).To(Succeed())

		updateInstance(ctx, ns, "fixed", func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Storage.Size = "2Gi" })
		eventuallyCondition(ctx, ns, "fixed", pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, pbv1alpha1.ReasonStorageExpansionNotSupported)
		Expect(condition(ctx, ns, "fixed", pbv1alpha1.ConditionDegraded).Message).To(ContainSubstring("does not set allowVolumeExpansion"))
		Expect(condition(ctx, ns, "fixed", pbv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		Eventually(func() []string { return eventReasons(ctx, ns, "fixed") }, timeout, interval).
			Should(ContainElement(pbv1alpha1.ReasonStorageExpansionNotSupported))
		after := &corev1.PersistentVolumeClaim{}
		Expect(k8sClient.Get(ctx, key(ns, "fixed-data"), after)).To(Succeed())
		Expect(after.UID).To(Equal(pvc.UID))
		Expect(after.Spec.Resources.Requests.Storage().String()).To(Equal("1Gi"))

		By("growing once the StorageClass allows expansion")
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(sc), sc)).To(Succeed())
		sc.AllowVolumeExpansion = ptr.To(true)
		Expect(k8sClient.Update(ctx, sc)).To(Succeed())
		touchPod(ctx, ns, "fixed-0")
		Eventually(func() string {
			Expect(k8sClient.Get(ctx, key(ns, "fixed-data"), after)).To(Succeed())
			return after.Spec.Resources.Requests.Storage().String()
		}, timeout, interval).Should(Equal("2Gi"))
		eventuallyCondition(ctx, ns, "fixed", pbv1alpha1.ConditionDegraded, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected)
	})

	It("rolls out a new version on one pod, reports a stuck rollout, and recovers when the spec is reverted", func() {
		Expect(k8sClient.Create(ctx, newInstance(ns, "up"))).To(Succeed())
		simulateRevision(ctx, ns, "up", "rev-1", true)
		eventuallyCondition(ctx, ns, "up", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)

		By("keeping one replica and ordered pod management, so there is never a second writer")
		sts := &appsv1.StatefulSet{}
		Expect(k8sClient.Get(ctx, key(ns, "up"), sts)).To(Succeed())
		Expect(*sts.Spec.Replicas).To(BeEquivalentTo(1))
		Expect(sts.Spec.PodManagementPolicy).To(Equal(appsv1.OrderedReadyPodManagement))
		Expect(sts.Spec.UpdateStrategy.Type).To(Equal(appsv1.RollingUpdateStatefulSetStrategyType))

		By("rolling to a version whose pod crash-loops")
		updateInstance(ctx, ns, "up", func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Version = ptr.To("v10.0.0") })
		Eventually(func() string { return stsImage(ctx, ns, "up") }, timeout, interval).
			Should(Equal("registry.test/pocketfleet/instance:v10.0.0"))
		Expect(k8sClient.Get(ctx, key(ns, "up"), sts)).To(Succeed())
		Expect(sts.Annotations).To(HaveKeyWithValue(specs.AnnotationUpgradeTarget, "registry.test/pocketfleet/instance:v10.0.0"))
		simulateRevision(ctx, ns, "up", "rev-2", false)
		eventuallyCondition(ctx, ns, "up", pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, pbv1alpha1.ReasonCrashLoop)
		Expect(getInstance(ctx, ns, "up").Status.RolloutStartTime).NotTo(BeNil())
		Expect(k8sClient.Get(ctx, key(ns, "up-0"), &corev1.Pod{})).To(Succeed(), "a pod of the current revision is never deleted")

		By("passing the progress deadline")
		clockOffset.Store(int64(11 * time.Minute))
		DeferCleanup(func() { clockOffset.Store(0) })
		touchPod(ctx, ns, "up-0")
		eventuallyCondition(ctx, ns, "up", pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, pbv1alpha1.ReasonRolloutStuck)
		Expect(condition(ctx, ns, "up", pbv1alpha1.ConditionDegraded).Message).To(ContainSubstring("progressDeadlineSeconds (600s)"))
		Eventually(func() []string { return eventReasons(ctx, ns, "up") }, timeout, interval).Should(ContainElement(pbv1alpha1.ReasonRolloutStuck))

		By("reverting the spec: the broken pod is replaced from the reverted revision")
		updateInstance(ctx, ns, "up", func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Version = nil })
		Eventually(func() string { return stsImage(ctx, ns, "up") }, timeout, interval).Should(Equal(testImage))
		// The StatefulSet controller computes the reverted template's revision.
		Eventually(func() error {
			s := &appsv1.StatefulSet{}
			if err := k8sClient.Get(ctx, key(ns, "up"), s); err != nil {
				return err
			}
			s.Status.ObservedGeneration, s.Status.UpdateRevision = s.Generation, "rev-3"
			return k8sClient.Status().Update(ctx, s)
		}, timeout, interval).Should(Succeed())
		Eventually(func() bool {
			pod := &corev1.Pod{}
			err := k8sClient.Get(ctx, key(ns, "up-0"), pod)
			return apierrors.IsNotFound(err) || pod.DeletionTimestamp != nil
		}, timeout, interval).Should(BeTrue())
		Eventually(func() []string { return eventReasons(ctx, ns, "up") }, timeout, interval).Should(ContainElement("PodReplaced"))
		simulateRevision(ctx, ns, "up", "rev-3", true)
		eventuallyCondition(ctx, ns, "up", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
		eventuallyCondition(ctx, ns, "up", pbv1alpha1.ConditionDegraded, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected)
		Eventually(func() map[string]string {
			Expect(k8sClient.Get(ctx, key(ns, "up"), sts)).To(Succeed())
			return sts.Annotations
		}, timeout, interval).ShouldNot(HaveKey(specs.AnnotationUpgradeTarget))
		Expect(getInstance(ctx, ns, "up").Status.RolloutStartTime).To(BeNil())
	})

	It("lets only --max-concurrent-upgrades instances roll out a new image at once", func() {
		restartManager(func(r *controller.PocketBaseInstanceReconciler) {
			r.Upgrades = &controller.UpgradeGate{MaxConcurrent: 1}
		})
		for _, n := range []string{"q1", "q2"} {
			Expect(k8sClient.Create(ctx, newInstance(ns, n))).To(Succeed())
			simulateRevision(ctx, ns, n, "rev-1", true)
			eventuallyCondition(ctx, ns, n, pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
		}
		for _, n := range []string{"q1", "q2"} {
			updateInstance(ctx, ns, n, func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Version = ptr.To("v2.0.0") })
		}
		newImage := "registry.test/pocketfleet/instance:v2.0.0"

		By("admitting one and queueing the other, which keeps serving its current image")
		var first, second string
		Eventually(func(g Gomega) {
			i1, i2 := stsImage(ctx, ns, "q1"), stsImage(ctx, ns, "q2")
			g.Expect([]string{i1, i2}).To(ConsistOf(newImage, testImage))
			first, second = "q1", "q2"
			if i2 == newImage {
				first, second = "q2", "q1"
			}
		}, timeout, interval).Should(Succeed())
		eventuallyCondition(ctx, ns, second, pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, pbv1alpha1.ReasonUpgradeQueued)
		Expect(condition(ctx, ns, second, pbv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		Expect(condition(ctx, ns, second, pbv1alpha1.ConditionProgressing).Message).To(ContainSubstring("1 of 1 instances are upgrading"))
		Consistently(func() string { return stsImage(ctx, ns, second) }, 2*time.Second, 200*time.Millisecond).Should(Equal(testImage))

		By("starting the queued upgrade once the first is rolled out and ready")
		simulateRevision(ctx, ns, first, "rev-2", true)
		eventuallyCondition(ctx, ns, first, pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
		Eventually(func() string { return stsImage(ctx, ns, second) }, timeout, interval).Should(Equal(newImage))
		Eventually(func() []string { return eventReasons(ctx, ns, second) }, timeout, interval).
			Should(ContainElements(pbv1alpha1.ReasonUpgradeQueued, "UpgradeStarted"))
		Eventually(func() []string { return eventReasons(ctx, ns, first) }, timeout, interval).Should(ContainElement("UpgradeCompleted"))
	})

	It("starts upgrades only inside the maintenance window", func() {
		now := time.Now().UTC()
		// A two-hour window starting three hours from now.
		start := now.Add(3 * time.Hour)
		w, err := controller.ParseMaintenanceWindow(fmt.Sprintf("%02d:00-%02d:00", start.Hour(), (start.Hour()+2)%24))
		Expect(err).NotTo(HaveOccurred())
		restartManager(func(r *controller.PocketBaseInstanceReconciler) {
			r.Upgrades = &controller.UpgradeGate{Window: w}
		})
		Expect(k8sClient.Create(ctx, newInstance(ns, "mw"))).To(Succeed())
		simulateRevision(ctx, ns, "mw", "rev-1", true)
		eventuallyCondition(ctx, ns, "mw", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)

		updateInstance(ctx, ns, "mw", func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Version = ptr.To("v3.0.0") })
		eventuallyCondition(ctx, ns, "mw", pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, pbv1alpha1.ReasonUpgradeQueued)
		Expect(condition(ctx, ns, "mw", pbv1alpha1.ConditionProgressing).Message).To(ContainSubstring("maintenance window"))
		Expect(stsImage(ctx, ns, "mw")).To(Equal(testImage))

		By("moving the clock into the window")
		clockOffset.Store(int64(start.Add(30*time.Minute).Sub(now).Truncate(time.Hour) + 10*time.Minute))
		DeferCleanup(func() { clockOffset.Store(0) })
		touchPod(ctx, ns, "mw-0")
		Eventually(func() string { return stsImage(ctx, ns, "mw") }, timeout, interval).
			Should(Equal("registry.test/pocketfleet/instance:v3.0.0"))
	})

	It("gives each instance a NetworkPolicy when configured and removes it when not", func() {
		nsSel, err := metav1.ParseToLabelSelector("kubernetes.io/metadata.name=ingress-nginx")
		Expect(err).NotTo(HaveOccurred())
		podSel, err := metav1.ParseToLabelSelector("app.kubernetes.io/name=ingress-nginx")
		Expect(err).NotTo(HaveOccurred())
		monSel, err := metav1.ParseToLabelSelector("monitoring in (true)")
		Expect(err).NotTo(HaveOccurred())
		restartManager(func(r *controller.PocketBaseInstanceReconciler) {
			r.NetworkPolicyPeers = []specs.NetworkPolicyPeer{
				{NamespaceSelector: nsSel, PodSelector: podSel},
				{NamespaceSelector: monSel},
			}
		})
		Expect(k8sClient.Create(ctx, newInstance(ns, "fenced"))).To(Succeed())
		np := &networkingv1.NetworkPolicy{}
		eventuallyGet(ctx, key(ns, "fenced"), np)
		Expect(np.Spec.PodSelector.MatchLabels).To(Equal(map[string]string{
			"app.kubernetes.io/name": "pocketbase", "app.kubernetes.io/instance": "fenced", "app.kubernetes.io/component": "instance",
		}))
		Expect(np.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress))
		Expect(np.Spec.Ingress).To(HaveLen(2))
		backups := np.Spec.Ingress[1]
		Expect(backups.Ports).To(HaveLen(1))
		Expect(backups.Ports[0].Port.IntValue()).To(Equal(8090))
		Expect(backups.From).To(HaveLen(1))
		Expect(backups.From[0].NamespaceSelector).To(BeNil(), "the backup Jobs of the instance's own namespace")
		Expect(backups.From[0].PodSelector.MatchLabels).To(HaveKeyWithValue("app.kubernetes.io/component", "backup"))
		Expect(backups.From[0].PodSelector.MatchLabels).To(HaveKeyWithValue("app.kubernetes.io/instance", "fenced"))
		rule := np.Spec.Ingress[0]
		Expect(rule.Ports).To(HaveLen(2))
		Expect(rule.Ports[0].Port.IntValue()).To(Equal(8090))
		Expect(rule.Ports[1].Port.IntValue()).To(Equal(9090))
		Expect(rule.From).To(HaveLen(2))
		Expect(rule.From[0].NamespaceSelector.MatchLabels).To(Equal(map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}))
		Expect(rule.From[0].PodSelector.MatchLabels).To(Equal(map[string]string{"app.kubernetes.io/name": "ingress-nginx"}))
		Expect(rule.From[1].NamespaceSelector.MatchExpressions).To(HaveLen(1))
		Expect(rule.From[1].PodSelector).To(BeNil())

		By("removing it when the operator stops managing network policies")
		stopManager()
		startManager()
		updateInstance(ctx, ns, "fenced", func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.PodLabels = map[string]string{"x": "y"} })
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, "fenced"), &networkingv1.NetworkPolicy{}))
		}, timeout, interval).Should(BeTrue())
	})

	It("runs a pod that the Pod Security \"restricted\" profile admits", func() {
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})).To(Succeed())
		nsObj := &corev1.Namespace{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: ns}, nsObj)).To(Succeed())
		nsObj.Labels["pod-security.kubernetes.io/enforce"] = "restricted"
		nsObj.Labels["pod-security.kubernetes.io/enforce-version"] = "latest"
		Expect(k8sClient.Update(ctx, nsObj)).To(Succeed())

		By("the API server's PodSecurity admission refusing a pod that breaks the profile")
		bad := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bad"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
		}
		err := k8sClient.Create(ctx, bad)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring(`violates PodSecurity "restricted:latest"`))

		By("admitting the instance pod built from the StatefulSet's template")
		Expect(k8sClient.Create(ctx, newInstance(ns, "strict"))).To(Succeed())
		simulatePodReady(ctx, ns, "strict")
		eventuallyCondition(ctx, ns, "strict", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
	})

	It("reads why the StatefulSet cannot create its pod once the StatefulSet controller has tried", func() {
		Expect(k8sClient.Create(ctx, newInstance(ns, "nopod"))).To(Succeed())
		sts := &appsv1.StatefulSet{}
		eventuallyGet(ctx, key(ns, "nopod"), sts)
		eventuallyCondition(ctx, ns, "nopod", pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, pbv1alpha1.ReasonRollingOut)
		// The StatefulSet controller's report: a FailedCreate event, and a status that
		// observed the spec but counts no pod.
		Expect(k8sClient.Create(ctx, &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nopod.failedcreate"},
			InvolvedObject: corev1.ObjectReference{
				Kind: "StatefulSet", APIVersion: "apps/v1", Namespace: ns, Name: "nopod", UID: sts.UID,
			},
			Reason: "FailedCreate", Type: corev1.EventTypeWarning,
			Message:       `create Pod nopod-0 in StatefulSet nopod failed error: pods "nopod-0" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=10, limited: pods=10`,
			LastTimestamp: metav1.Now(), FirstTimestamp: metav1.Now(), Count: 1,
			Source: corev1.EventSource{Component: "statefulset-controller"},
		})).To(Succeed())
		setNoPodStatus := func(observed bool) {
			EventuallyWithOffset(1, func() error {
				s := &appsv1.StatefulSet{}
				if err := k8sClient.Get(ctx, key(ns, "nopod"), s); err != nil {
					return err
				}
				s.Status = appsv1.StatefulSetStatus{CurrentRevision: "nopod-1", UpdateRevision: "nopod-1"}
				if observed {
					s.Status.ObservedGeneration = s.Generation
				}
				return k8sClient.Status().Update(ctx, s)
			}, timeout, interval).Should(Succeed())
		}
		setNoPodStatus(false)
		Consistently(func() string {
			return condition(ctx, ns, "nopod", pbv1alpha1.ConditionDegraded).Reason
		}, time.Second, 200*time.Millisecond).Should(Equal(pbv1alpha1.ReasonAsExpected), "an event is read only once the StatefulSet controller has observed the spec")
		setNoPodStatus(true)
		eventuallyCondition(ctx, ns, "nopod", pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, pbv1alpha1.ReasonQuotaExceeded)
	})

	It("exposes controller-runtime's reconcile metrics next to pocketfleet's", func() {
		Expect(k8sClient.Create(ctx, newInstance(ns, "metered"))).To(Succeed())
		eventuallyCondition(ctx, ns, "metered", pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, pbv1alpha1.ReasonRollingOut)
		families, err := ctrlmetrics.Registry.Gather()
		Expect(err).NotTo(HaveOccurred())
		byName := map[string]*dto.MetricFamily{}
		for _, f := range families {
			byName[f.GetName()] = f
		}
		for _, name := range []string{
			"controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total",
			"controller_runtime_reconcile_time_seconds", "workqueue_depth",
		} {
			Expect(byName).To(HaveKey(name))
		}
		var total float64
		for _, m := range byName["controller_runtime_reconcile_total"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == controller.ControllerName {
					total += m.GetCounter().GetValue()
				}
			}
		}
		Expect(total).To(BeNumerically(">", 0))
	})
})

// bindClaim stands in for the volume provisioner: the claim is bound with a capacity.
func bindClaim(ctx context.Context, ns, name, capacity string) {
	eventuallyGet(ctx, key(ns, name), &corev1.PersistentVolumeClaim{})
	setClaimStatus(ctx, ns, name, capacity, "")
}

// setClaimStatus sets a bound claim's capacity and, when resize is set, a True
// condition of that type.
func setClaimStatus(ctx context.Context, ns, name, capacity string, resize corev1.PersistentVolumeClaimConditionType) {
	EventuallyWithOffset(1, func() error {
		pvc := &corev1.PersistentVolumeClaim{}
		if err := k8sClient.Get(ctx, key(ns, name), pvc); err != nil {
			return err
		}
		pvc.Status = corev1.PersistentVolumeClaimStatus{
			Phase:       corev1.ClaimBound,
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(capacity)},
		}
		if resize != "" {
			pvc.Status.Conditions = []corev1.PersistentVolumeClaimCondition{{Type: resize, Status: corev1.ConditionTrue}}
		}
		return k8sClient.Status().Update(ctx, pvc)
	}, timeout, interval).Should(Succeed())
}
