package integration

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
)

var _ = Describe("PocketBaseInstance", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	It("creates every child with the right shape and reports the truth until the pod is ready", func() {
		Expect(k8sClient.Create(ctx, newInstance(ns, "acme"))).To(Succeed())

		By("defaulting the spec in the schema")
		pbi := getInstance(ctx, ns, "acme")
		Expect(pbi.Spec.Storage.Size).To(Equal("1Gi"))
		Expect(pbi.Spec.Storage.ReclaimPolicy).To(Equal(pbv1alpha1.PersistentVolumeClaimRetain))
		Expect(pbi.Spec.Superuser.Email).To(Equal("admin@pocketfleet.local"))

		By("generating the superuser Secret")
		secret := &corev1.Secret{}
		eventuallyGet(ctx, key(ns, "acme-superuser"), secret)
		Expect(string(secret.Data[contract.SecretKeyEmail])).To(Equal("admin@pocketfleet.local"))
		Expect(secret.Data[contract.SecretKeyPassword]).To(HaveLen(32))
		Expect(metav1.IsControlledBy(secret, pbi)).To(BeTrue())

		By("creating the data volume claim without an owner under the Retain policy")
		pvc := &corev1.PersistentVolumeClaim{}
		eventuallyGet(ctx, key(ns, "acme-data"), pvc)
		Expect(pvc.OwnerReferences).To(BeEmpty())
		Expect(pvc.Spec.AccessModes).To(ConsistOf(corev1.ReadWriteOnce))
		Expect(pvc.Spec.Resources.Requests.Storage().Equal(resource.MustParse("1Gi"))).To(BeTrue())

		By("creating the Service")
		svc := &corev1.Service{}
		eventuallyGet(ctx, key(ns, "acme"), svc)
		Expect(metav1.IsControlledBy(svc, pbi)).To(BeTrue())
		Expect(svc.Spec.Ports).To(HaveLen(1))
		Expect(svc.Spec.Ports[0].Port).To(BeEquivalentTo(contract.HTTPPort))
		Expect(svc.Spec.Selector).To(Equal(map[string]string{
			"app.kubernetes.io/name": "pocketbase", "app.kubernetes.io/instance": "acme", "app.kubernetes.io/component": "instance",
		}))

		By("creating a single-replica, locked-down StatefulSet")
		sts := &appsv1.StatefulSet{}
		eventuallyGet(ctx, key(ns, "acme"), sts)
		Expect(metav1.IsControlledBy(sts, pbi)).To(BeTrue())
		Expect(*sts.Spec.Replicas).To(BeEquivalentTo(1))
		Expect(sts.Spec.VolumeClaimTemplates).To(BeEmpty())
		podSpec := sts.Spec.Template.Spec
		Expect(*podSpec.SecurityContext.RunAsNonRoot).To(BeTrue())
		Expect(*podSpec.SecurityContext.FSGroup).To(BeEquivalentTo(contract.RunAsGroup))
		Expect(podSpec.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))
		Expect(*podSpec.AutomountServiceAccountToken).To(BeFalse())
		Expect(podSpec.Volumes).To(ContainElement(HaveField("VolumeSource.PersistentVolumeClaim.ClaimName", "acme-data")))
		c := podSpec.Containers[0]
		Expect(c.Image).To(Equal(testImage))
		Expect(c.Command).To(Equal([]string{"/instance"}))
		Expect(c.Args).To(Equal([]string{"serve", "--http", "0.0.0.0:8090", "--dir", "/pb_data", "--metrics-http", "0.0.0.0:9090"}))
		Expect(*c.SecurityContext.ReadOnlyRootFilesystem).To(BeTrue())
		Expect(*c.SecurityContext.AllowPrivilegeEscalation).To(BeFalse())
		Expect(c.SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")))
		for _, p := range []*corev1.Probe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe} {
			Expect(p.HTTPGet.Path).To(Equal("/api/health"))
		}
		Expect(c.Env).To(ContainElement(corev1.EnvVar{Name: contract.EnvSuperuserPassword, ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "acme-superuser"}, Key: "password"},
		}}))

		By("no Ingress without spec.ingress")
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, "acme"), &networkingv1.Ingress{}))).To(BeTrue())

		By("reporting Progressing, not Ready, while no pod runs")
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionReady, metav1.ConditionFalse, pbv1alpha1.ReasonRollingOut)
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, pbv1alpha1.ReasonRollingOut)
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionDegraded, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected)
		pbi = getInstance(ctx, ns, "acme")
		Expect(pbi.Status.URL).To(Equal("http://acme." + ns + ".svc:8090"))
		Expect(pbi.Status.SuperuserSecretName).To(Equal("acme-superuser"))
		Expect(pbi.Status.ObservedGeneration).To(Equal(pbi.Generation))

		By("turning Ready once the StatefulSet's pod is ready")
		simulatePodReady(ctx, ns, "acme")
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionProgressing, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected)
		pbi = getInstance(ctx, ns, "acme")
		Expect(pbi.Status.ReadyReplicas).To(BeEquivalentTo(1))
		Expect(pbi.Status.Image).To(Equal(testImage))
		Eventually(func() []string { return eventReasons(ctx, ns, "acme") }, timeout, interval).
			Should(ContainElements("SuperuserSecretCreated", "Created", "InstanceReady"))
	})

	It("keeps the generated password across reconciles, spec changes and operator restarts", func() {
		Expect(k8sClient.Create(ctx, newInstance(ns, "keep"))).To(Succeed())
		secret := &corev1.Secret{}
		eventuallyGet(ctx, key(ns, "keep-superuser"), secret)
		password := string(secret.Data["password"])
		rv := secret.ResourceVersion

		By("changing the spec, which reconciles again")
		updateInstance(ctx, ns, "keep", func(pbi *pbv1alpha1.PocketBaseInstance) { pbi.Spec.Version = ptr.To("v1.2.3") })
		Eventually(func() string {
			sts := &appsv1.StatefulSet{}
			_ = k8sClient.Get(ctx, key(ns, "keep"), sts)
			if len(sts.Spec.Template.Spec.Containers) == 0 {
				return ""
			}
			return sts.Spec.Template.Spec.Containers[0].Image
		}, timeout, interval).Should(Equal("registry.test/pocketfleet/instance:v1.2.3"))

		By("restarting the operator")
		stopManager()
		startManager()
		pbi := updateInstance(ctx, ns, "keep", func(pbi *pbv1alpha1.PocketBaseInstance) {
			pbi.Spec.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}
		})
		Eventually(func() int64 { return getInstance(ctx, ns, "keep").Status.ObservedGeneration }, timeout, interval).
			Should(Equal(pbi.Generation))

		Expect(k8sClient.Get(ctx, key(ns, "keep-superuser"), secret)).To(Succeed())
		Expect(string(secret.Data["password"])).To(Equal(password))
		Expect(secret.ResourceVersion).To(Equal(rv))
	})

	It("makes a restarted operator change no child", func() {
		Expect(k8sClient.Create(ctx, newInstance(ns, "still"))).To(Succeed())
		simulatePodReady(ctx, ns, "still")
		eventuallyCondition(ctx, ns, "still", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
		versions := func() map[string]string {
			out := map[string]string{}
			for name, obj := range map[string]client.Object{
				"sts": &appsv1.StatefulSet{}, "svc": &corev1.Service{}, "pvc": &corev1.PersistentVolumeClaim{},
			} {
				Expect(k8sClient.Get(ctx, key(ns, map[string]string{"sts": "still", "svc": "still", "pvc": "still-data"}[name]), obj)).To(Succeed())
				out[name] = obj.GetResourceVersion()
			}
			s := &corev1.Secret{}
			Expect(k8sClient.Get(ctx, key(ns, "still-superuser"), s)).To(Succeed())
			out["secret"] = s.ResourceVersion
			out["pbi"] = getInstance(ctx, ns, "still").ResourceVersion
			return out
		}
		before := versions()
		stopManager()
		startManager()
		Consistently(versions, 3*time.Second, 250*time.Millisecond).Should(Equal(before))
	})

	It("restores a deleted or hand-edited child", func() {
		Expect(k8sClient.Create(ctx, newInstance(ns, "drift"))).To(Succeed())
		svc := &corev1.Service{}
		eventuallyGet(ctx, key(ns, "drift"), svc)
		oldUID := svc.UID

		By("deleting the Service")
		Expect(k8sClient.Delete(ctx, svc)).To(Succeed())
		Eventually(func() bool {
			s := &corev1.Service{}
			return k8sClient.Get(ctx, key(ns, "drift"), s) == nil && s.UID != oldUID
		}, timeout, interval).Should(BeTrue())

		By("hand-editing the StatefulSet's image")
		sts := &appsv1.StatefulSet{}
		eventuallyGet(ctx, key(ns, "drift"), sts)
		sts.Spec.Template.Spec.Containers[0].Image = "evil/image:latest"
		Expect(k8sClient.Update(ctx, sts)).To(Succeed())
		Eventually(func() string {
			s := &appsv1.StatefulSet{}
			Expect(k8sClient.Get(ctx, key(ns, "drift"), s)).To(Succeed())
			return s.Spec.Template.Spec.Containers[0].Image
		}, timeout, interval).Should(Equal(testImage))

		By("deleting the generated Secret")
		secret := &corev1.Secret{}
		eventuallyGet(ctx, key(ns, "drift-superuser"), secret)
		Expect(k8sClient.Delete(ctx, secret)).To(Succeed())
		Eventually(func() bool {
			s := &corev1.Secret{}
			return k8sClient.Get(ctx, key(ns, "drift-superuser"), s) == nil && s.UID != secret.UID
		}, timeout, interval).Should(BeTrue())
		Eventually(func() []string { return eventReasons(ctx, ns, "drift") }, timeout, interval).Should(ContainElement("Updated"))
	})

	It("updates the StatefulSet when the spec changes", func() {
		pbi := newInstance(ns, "change")
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		eventuallyGet(ctx, key(ns, "change"), &appsv1.StatefulSet{})

		updateInstance(ctx, ns, "change", func(pbi *pbv1alpha1.PocketBaseInstance) {
			pbi.Spec.Image = ptr.To("example.org/custom/instance:v2")
			pbi.Spec.Resources = &corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m")},
			}
			pbi.Spec.Env = []corev1.EnvVar{{Name: "TZ", Value: "Europe/Paris"}}
			pbi.Spec.NodeSelector = map[string]string{"disk": "ssd"}
			pbi.Spec.Tolerations = []corev1.Toleration{{Key: "tenant", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
			pbi.Spec.PodAnnotations = map[string]string{"prometheus.io/scrape": "true"}
		})

		Eventually(func(g Gomega) {
			sts := &appsv1.StatefulSet{}
			g.Expect(k8sClient.Get(ctx, key(ns, "change"), sts)).To(Succeed())
			ps := sts.Spec.Template.Spec
			c := ps.Containers[0]
			g.Expect(c.Image).To(Equal("example.org/custom/instance:v2"))
			g.Expect(c.Resources.Requests.Cpu().String()).To(Equal("200m"))
			g.Expect(c.Resources.Limits).To(BeEmpty())
			g.Expect(c.Env).To(ContainElement(corev1.EnvVar{Name: "TZ", Value: "Europe/Paris"}))
			g.Expect(ps.NodeSelector).To(Equal(map[string]string{"disk": "ssd"}))
			g.Expect(ps.Tolerations).To(HaveLen(1))
			g.Expect(sts.Spec.Template.Annotations).To(HaveKeyWithValue("prometheus.io/scrape", "true"))
		}, timeout, interval).Should(Succeed())

		By("reporting RollingOut until the new revision is ready")
		eventuallyCondition(ctx, ns, "change", pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, pbv1alpha1.ReasonRollingOut)
	})

	It("adds and removes the Ingress with the spec", func() {
		pbi := newInstance(ns, "web")
		pbi.Spec.Ingress = &pbv1alpha1.IngressSpec{
			Host: "web.example.com", ClassName: ptr.To("traefik"), TLSSecretName: ptr.To("web-tls"),
			Annotations: map[string]string{"nginx.ingress.kubernetes.io/proxy-body-size": "64m"},
		}
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		ing := &networkingv1.Ingress{}
		eventuallyGet(ctx, key(ns, "web"), ing)
		Expect(*ing.Spec.IngressClassName).To(Equal("traefik"))
		Expect(ing.Spec.Rules[0].Host).To(Equal("web.example.com"))
		Expect(ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name).To(Equal("web"))
		Expect(ing.Spec.TLS[0].SecretName).To(Equal("web-tls"))
		Expect(ing.Annotations).To(HaveKeyWithValue("nginx.ingress.kubernetes.io/proxy-buffering", "off"))
		Expect(ing.Annotations).To(HaveKeyWithValue("nginx.ingress.kubernetes.io/proxy-body-size", "64m"))
		Eventually(func() string { return getInstance(ctx, ns, "web").Status.URL }, timeout, interval).
			Should(Equal("https://web.example.com"))

		updateInstance(ctx, ns, "web", func(pbi *pbv1alpha1.PocketBaseInstance) { pbi.Spec.Ingress = nil })
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, "web"), &networkingv1.Ingress{}))
		}, timeout, interval).Should(BeTrue())
	})

	It("reads a superuser Secret named in the spec and says when it is missing", func() {
		pbi := newInstance(ns, "byo")
		pbi.Spec.Superuser.SecretName = ptr.To("my-admin")
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		eventuallyCondition(ctx, ns, "byo", pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, pbv1alpha1.ReasonSecretInvalid)
		Expect(condition(ctx, ns, "byo", pbv1alpha1.ConditionDegraded).Message).To(ContainSubstring("my-admin"))
		Eventually(func() []string { return eventReasons(ctx, ns, "byo") }, timeout, interval).
			Should(ContainElement(pbv1alpha1.ReasonSecretInvalid))
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, "byo"), &appsv1.StatefulSet{}))).To(BeTrue())

		Expect(k8sClient.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "my-admin"},
			Data:       map[string][]byte{"password": []byte("a-long-password"), "email": []byte("ops@example.com")},
		})).To(Succeed())
		// The user's Secret is not watched; the operator looks again after its recheck delay.
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, "byo"), &appsv1.StatefulSet{}) }, 45*time.Second, interval).Should(Succeed())
		eventuallyCondition(ctx, ns, "byo", pbv1alpha1.ConditionDegraded, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected)
		sts := &appsv1.StatefulSet{}
		Expect(k8sClient.Get(ctx, key(ns, "byo"), sts)).To(Succeed())
		Expect(sts.Spec.Template.Spec.Containers[0].Env).To(ContainElement(HaveField("ValueFrom.SecretKeyRef.Name", "my-admin")))
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, "byo-superuser"), &corev1.Secret{}))).To(BeTrue())
	})

	It("reports a missing StorageClass as Degraded", func() {
		pbi := newInstance(ns, "nosc")
		pbi.Spec.Storage.StorageClassName = ptr.To("does-not-exist")
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		eventuallyCondition(ctx, ns, "nosc", pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, pbv1alpha1.ReasonStorageClassNotFound)
		eventuallyCondition(ctx, ns, "nosc", pbv1alpha1.ConditionReady, metav1.ConditionFalse, pbv1alpha1.ReasonStorageClassNotFound)
	})

	It("reports a crash-looping pod as Degraded and recovers", func() {
		Expect(k8sClient.Create(ctx, newInstance(ns, "crash"))).To(Succeed())
		simulatePodReady(ctx, ns, "crash")
		eventuallyCondition(ctx, ns, "crash", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)

		setPodStatus(ctx, ns, "crash-0", corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}},
			ContainerStatuses: []corev1.ContainerStatus{{
				Name:                 "pocketbase",
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}},
			}},
		})
		eventuallyCondition(ctx, ns, "crash", pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, pbv1alpha1.ReasonCrashLoop)
		eventuallyCondition(ctx, ns, "crash", pbv1alpha1.ConditionReady, metav1.ConditionFalse, pbv1alpha1.ReasonCrashLoop)
		Expect(condition(ctx, ns, "crash", pbv1alpha1.ConditionDegraded).Message).To(ContainSubstring("last exit code 1"))
		Eventually(func() []string { return eventReasons(ctx, ns, "crash") }, timeout, interval).
			Should(ContainElements("InstanceNotReady", pbv1alpha1.ReasonCrashLoop))

		simulatePodReady(ctx, ns, "crash")
		eventuallyCondition(ctx, ns, "crash", pbv1alpha1.ConditionDegraded, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected)
		eventuallyCondition(ctx, ns, "crash", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
	})

	It("reports a ResourceQuota that refuses the data volume", func() {
		quota := &corev1.ResourceQuota{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-volumes"},
			Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePersistentVolumeClaims: resource.MustParse("0")}},
		}
		Expect(k8sClient.Create(ctx, quota)).To(Succeed())
		// envtest runs no quota controller: publish the quota's usage as it would.
		quota.Status = corev1.ResourceQuotaStatus{
			Hard: quota.Spec.Hard,
			Used: corev1.ResourceList{corev1.ResourcePersistentVolumeClaims: resource.MustParse("0")},
		}
		Expect(k8sClient.Status().Update(ctx, quota)).To(Succeed())

		Expect(k8sClient.Create(ctx, newInstance(ns, "quota"))).To(Succeed())
		eventuallyCondition(ctx, ns, "quota", pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, pbv1alpha1.ReasonQuotaExceeded)
		Expect(condition(ctx, ns, "quota", pbv1alpha1.ConditionDegraded).Message).To(ContainSubstring("exceeded quota"))
	})

	It("sets owner references so the garbage collector removes the children, and the volume per policy", func() {
		// note: envtest runs no garbage collector; the owner references below are what
		// kube-controller-manager follows. test/e2e checks the deletion on a real cluster.
		pbi := newInstance(ns, "gc")
		pbi.Spec.Storage.ReclaimPolicy = pbv1alpha1.PersistentVolumeClaimDelete
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		pbi = getInstance(ctx, ns, "gc")
		for name, obj := range map[string]client.Object{
			"gc": &appsv1.StatefulSet{}, "gc-superuser": &corev1.Secret{}, "gc-data": &corev1.PersistentVolumeClaim{},
		} {
			eventuallyGet(ctx, key(ns, name), obj)
			ref := metav1.GetControllerOf(obj)
			Expect(ref).NotTo(BeNil(), name)
			Expect(ref.UID).To(Equal(pbi.UID), name)
			Expect(*ref.BlockOwnerDeletion).To(BeTrue(), name)
		}
		svc := &corev1.Service{}
		eventuallyGet(ctx, key(ns, "gc"), svc)
		Expect(metav1.IsControlledBy(svc, pbi)).To(BeTrue())

		By("switching to Retain drops the volume's owner reference")
		pbi = updateInstance(ctx, ns, "gc", func(pbi *pbv1alpha1.PocketBaseInstance) {
			pbi.Spec.Storage.ReclaimPolicy = pbv1alpha1.PersistentVolumeClaimRetain
		})
		Eventually(func() []metav1.OwnerReference {
			pvc := &corev1.PersistentVolumeClaim{}
			Expect(k8sClient.Get(ctx, key(ns, "gc-data"), pvc)).To(Succeed())
			return pvc.OwnerReferences
		}, timeout, interval).Should(BeEmpty())

		By("deleting the instance leaves no finalizer behind")
		Expect(k8sClient.Delete(ctx, pbi)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, "gc"), &pbv1alpha1.PocketBaseInstance{}))
		}, timeout, interval).Should(BeTrue())
	})
})
