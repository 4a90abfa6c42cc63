//go:build e2e

package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const operatorNS = "pocketfleet-system"

// splitImage splits "repo:tag".
func splitImage(ref string) (repo, tag string) {
	i := strings.LastIndex(ref, ":")
	return ref[:i], ref[i+1:]
}

// operatorPods lists the operator's pods that are not being deleted.
func operatorPods(selector string) []corev1.Pod {
	list, err := kube.CoreV1().Pods(operatorNS).List(ctx(), metav1.ListOptions{LabelSelector: selector})
	Expect(err).NotTo(HaveOccurred())
	var pods []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			pods = append(pods, p)
		}
	}
	return pods
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// reconcileTotal sums controller-runtime's reconcile counter of the instance controller.
var reconcileLine = regexp.MustCompile(`(?m)^controller_runtime_reconcile_total\{[^}]*controller="pocketbaseinstance"[^}]*\} (\d+)`)

func reconcileTotal(metrics string) int {
	total := 0
	for _, m := range reconcileLine.FindAllStringSubmatch(metrics, -1) {
		var n int
		_, _ = fmt.Sscan(m[1], &n)
		total += n
	}
	return total
}

var _ = Describe("pocketfleet on a real cluster", Ordered, func() {
	// JustAfterEach: it runs before the AfterEach and AfterAll nodes of the inner contexts,
	// whose cleanup (helm uninstall, namespaces deleted) would otherwise leave nothing to dump
	// when the last spec of a context fails.
	JustAfterEach(func() {
		if CurrentSpecReport().Failed() {
			dumpCluster(operatorNS, "e2e-a", "e2e-b", "e2e-c", "e2e-metrics")
		}
	})

	Context("installed with the Helm chart", Ordered, func() {
		const selector = "app.kubernetes.io/component=controller-manager"
		tenants := []*tenant{
			{ns: "e2e-a", name: "alpha", reclaimPolicy: "Delete"},
			{ns: "e2e-a", name: "bravo", reclaimPolicy: "Retain"},
			{ns: "e2e-b", name: "charlie", reclaimPolicy: "Retain"},
		}
		alpha, bravo, charlie := tenants[0], tenants[1], tenants[2]

		BeforeAll(func() {
			opRepo, opTag := splitImage(cfg.operatorImage)
			inRepo, inTag := splitImage(cfg.instanceImage)
			start := time.Now()
			run(cfg.helm, "upgrade", "--install", "pocketfleet", cfg.root+"/charts/pocketfleet",
				"--kubeconfig", cfg.kubeconfig, "--namespace", operatorNS, "--create-namespace",
				"--set", "image.repository="+opRepo, "--set", "image.tag="+opTag,
				"--set", "instance.image.repository="+inRepo, "--set", "instance.image.tag="+inTag,
				"--wait", "--timeout", "3m")
			AddReportEntry("helm install → operator Ready", time.Since(start).Round(time.Millisecond).String())
		})

		AfterAll(func() {
			deleteNamespaces("e2e-a", "e2e-b", "e2e-c", "e2e-metrics")
			_, _ = runErr(nil, cfg.helm, "uninstall", "pocketfleet", "--kubeconfig", cfg.kubeconfig,
				"--namespace", operatorNS, "--wait", "--timeout", "2m")
			deleteNamespaces(operatorNS)
		})

		It("serves three tenants in two namespaces to the SDK through their Ingress hosts", func() {
			createNamespace("e2e-a")
			createNamespace("e2e-b")
			for _, t := range tenants {
				t.appliedAt = time.Now()
				kubectlApply(t.manifest())
			}
			for _, t := range tenants {
				eventually(t.ready, 3*time.Minute).Should(BeTrue(), "%s/%s Ready", t.ns, t.name)
				AddReportEntry(fmt.Sprintf("%s/%s apply → Ready", t.ns, t.name), time.Since(t.appliedAt).Round(time.Millisecond).String())
				Expect(t.statusString("url")).To(Equal(t.url()))
			}
			for _, t := range tenants {
				// the Ingress controller may take a moment to see the new Ingress: the first
				// run may see a 404 and is retried
				var res sdkResult
				eventually(func() error {
					var err error
					res, err = t.sdk("write")
					return err
				}, time.Minute).WithPolling(2 * time.Second).Should(Succeed())
				Expect(res.RealtimeEvents).To(Equal(4))
				Expect(res.Records).To(Equal(3))
				AddReportEntry(fmt.Sprintf("%s/%s apply → first SDK request", t.ns, t.name),
					time.UnixMilli(res.FirstRequestAt).Sub(t.appliedAt).Round(time.Millisecond).String())
			}
		})

		It("keeps the data when the pod is deleted", func() {
			old := alpha.pod()
			Expect(kube.CoreV1().Pods(alpha.ns).Delete(ctx(), old.Name, metav1.DeleteOptions{})).To(Succeed())
			eventually(func() bool {
				p, err := kube.CoreV1().Pods(alpha.ns).Get(ctx(), old.Name, metav1.GetOptions{})
				return err == nil && p.UID != old.UID && podReady(p)
			}, 3*time.Minute).Should(BeTrue(), "a new pod is Ready")
			alpha.waitReady(time.Minute)
			eventually(func() error { _, err := alpha.sdk("check"); return err }, time.Minute).
				WithPolling(2 * time.Second).Should(Succeed())
		})

		It("rolls out a new image tag and resources without two pods on one volume", func() {
			watcher := watchPodsOnClaim(alpha.ns, alpha.name+"-data")
			kubectl("patch", "pocketbaseinstance", alpha.name, "-n", alpha.ns, "--type", "merge", "-p",
				fmt.Sprintf(`{"spec":{"image":%q,"resources":{"requests":{"cpu":"30m","memory":"80Mi"},"limits":{"memory":"300Mi"}}}}`, cfg.nextImage))
			start := time.Now()
			eventually(func() bool {
				p, err := kube.CoreV1().Pods(alpha.ns).Get(ctx(), alpha.name+"-0", metav1.GetOptions{})
				return err == nil && p.DeletionTimestamp == nil && p.Spec.Containers[0].Image == cfg.nextImage && podReady(p)
			}, 3*time.Minute).Should(BeTrue(), "the pod runs the new image")
			alpha.waitReady(time.Minute)
			AddReportEntry("rollout → Ready", time.Since(start).Round(time.Millisecond).String())
			Expect(alpha.statusString("image")).To(Equal(cfg.nextImage))
			c := alpha.pod().Spec.Containers[0]
			Expect(c.Resources.Requests.Memory().Equal(resource.MustParse("80Mi"))).To(BeTrue(), "%v", c.Resources)
			Expect(c.Resources.Limits.Memory().Equal(resource.MustParse("300Mi"))).To(BeTrue(), "%v", c.Resources)
			Expect(watcher.stop()).To(Equal(1), "at most one pod on the volume at any time")
			eventually(func() error { _, err := alpha.sdk("check"); return err }, time.Minute).
				WithPolling(2 * time.Second).Should(Succeed())
		})

		It("scrapes the operator's and a tenant's metrics inside the cluster", func() {
			createNamespace("e2e-metrics")
			kubectlApply(`apiVersion: v1
kind: ServiceAccount
metadata: {name: prometheus, namespace: e2e-metrics}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-metrics-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pocketfleet-metrics-reader}
subjects: [{kind: ServiceAccount, name: prometheus, namespace: e2e-metrics}]
`)
			op := scrape("e2e-metrics", "scrape-operator", "prometheus",
				"https://pocketfleet-metrics."+operatorNS+".svc:8443/metrics")
			Expect(op).To(ContainSubstring(`pocketfleet_instances{condition="Ready",status="True"} 3`))
			Expect(reconcileTotal(op)).To(BeNumerically(">=", 3))

			// the tenant's metrics listener is on its own port, by pod IP
			ip := alpha.pod().Status.PodIP
			Expect(ip).NotTo(BeEmpty())
			tm := scrape("e2e-metrics", "scrape-tenant", "", fmt.Sprintf("http://%s:9090/metrics", ip))
			Expect(tm).To(ContainSubstring("go_goroutines"))
			Expect(tm).To(ContainSubstring("process_start_time_seconds"))
		})

		It("leaves every child untouched when the operator restarts", func() {
			before := map[string]map[string]string{}
			for _, t := range tenants {
				before[t.ns+"/"+t.name] = t.childVersions()
			}
			old := operatorPods(selector)
			Expect(old).To(HaveLen(1))
			Expect(kube.CoreV1().Pods(operatorNS).Delete(ctx(), old[0].Name, metav1.DeleteOptions{})).To(Succeed())
			eventually(func() bool {
				pods := operatorPods(selector)
				return len(pods) == 1 && pods[0].UID != old[0].UID && podReady(&pods[0])
			}, 3*time.Minute).Should(BeTrue(), "a new operator pod is Ready")
			// the new operator has reconciled every instance once it counts three
			// reconciles; children must not have changed through them
			eventually(func() int {
				return reconcileTotal(scrape("e2e-metrics", "scrape-operator", "prometheus",
					"https://pocketfleet-metrics."+operatorNS+".svc:8443/metrics"))
			}, 3*time.Minute).WithPolling(3 * time.Second).Should(BeNumerically(">=", len(tenants)))
			for _, t := range tenants {
				Expect(t.childVersions()).To(Equal(before[t.ns+"/"+t.name]), "children of %s/%s", t.ns, t.name)
				ready, err := t.ready()
				Expect(err).NotTo(HaveOccurred())
				Expect(ready).To(BeTrue())
			}
		})

		// Day 2. bravo's rollout to a missing image starts first so that its deadline runs
		// while charlie hibernates, resumes and is refused a bigger volume.
		var missingImage string
		It("starts a rollout to an image tag that no node has", func() {
			repo, _ := splitImage(cfg.instanceImage)
			missingImage = repo + ":e2e-missing"
			bravo.patchSpec(fmt.Sprintf(`{"spec":{"image":%q,"imagePullPolicy":"IfNotPresent","progressDeadlineSeconds":30}}`, missingImage))
			eventually(func() string {
				p, err := kube.CoreV1().Pods(bravo.ns).Get(ctx(), bravo.name+"-0", metav1.GetOptions{})
				if err != nil {
					return ""
				}
				return p.Spec.Containers[0].Image
			}, 2*time.Minute).Should(Equal(missingImage), "the StatefulSet replaces the pod")
		})

		It("hibernates a tenant, keeps its volume, and resumes it with the same data", func() {
			charlie.patchSpec(`{"spec":{"hibernation":{"hibernated":true}}}`)
			start := time.Now()
			eventually(func() (string, error) { return charlie.condition("Ready") }, 2*time.Minute).
				Should(Equal("False/Hibernated"))
			AddReportEntry("hibernate → Hibernated", time.Since(start).Round(time.Millisecond).String())
			sts, err := kube.AppsV1().StatefulSets(charlie.ns).Get(ctx(), charlie.name, metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(sts.Spec.Replicas).To(HaveValue(BeEquivalentTo(0)))
			_, err = kube.CoreV1().Pods(charlie.ns).Get(ctx(), charlie.name+"-0", metav1.GetOptions{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the pod is gone: %v", err)
			pvc, err := kube.CoreV1().PersistentVolumeClaims(charlie.ns).Get(ctx(), charlie.name+"-data", metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(pvc.DeletionTimestamp).To(BeNil())
			Expect(pvc.Status.Phase).To(Equal(corev1.ClaimBound))
			Expect(charlie.condition("Degraded")).To(HavePrefix("False/"), "hibernation is not a problem")
			// the Ingress stays and answers an error while nothing serves the host
			_, err = kube.NetworkingV1().Ingresses(charlie.ns).Get(ctx(), charlie.name, metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			eventually(charlie.ingressStatus, 30*time.Second).Should(BeNumerically(">=", 500))

			charlie.patchSpec(`{"spec":{"hibernation":{"hibernated":false}}}`)
			start = time.Now()
			charlie.waitReady(3 * time.Minute)
			AddReportEntry("resume → Ready", time.Since(start).Round(time.Millisecond).String())
			after, err := kube.CoreV1().PersistentVolumeClaims(charlie.ns).Get(ctx(), charlie.name+"-data", metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(after.UID).To(Equal(pvc.UID), "the same claim")
			Expect(after.Spec.VolumeName).To(Equal(pvc.Spec.VolumeName), "the same volume")
			charlie.sdkCheck()
		})

		// The cluster's hostPath class does not allow expansion, and it could not honour it:
		// hostPath is not an expandable in-tree plugin and no external resizer runs here, so
		// a grown claim would wait forever. The refusal path is what this cluster can prove.
		It("refuses to grow a volume whose StorageClass does not allow expansion, and keeps serving", func() {
			pvc, err := kube.CoreV1().PersistentVolumeClaims(charlie.ns).Get(ctx(), charlie.name+"-data", metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(pvc.Spec.StorageClassName).NotTo(BeNil())
			sc, err := kube.StorageV1().StorageClasses().Get(ctx(), *pvc.Spec.StorageClassName, metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(sc.AllowVolumeExpansion == nil || !*sc.AllowVolumeExpansion).To(BeTrue(), "class %s does not allow expansion", sc.Name)
			size := pvc.Spec.Resources.Requests[corev1.ResourceStorage]

			charlie.patchSpec(`{"spec":{"storage":{"size":"2Gi"}}}`)
			eventually(func() (string, error) { return charlie.condition("Degraded") }, time.Minute).
				Should(Equal("True/StorageExpansionNotSupported"))
			Expect(charlie.condition("Ready")).To(HavePrefix("True/"), "still serving")
			after, err := kube.CoreV1().PersistentVolumeClaims(charlie.ns).Get(ctx(), charlie.name+"-data", metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			got := after.Spec.Resources.Requests[corev1.ResourceStorage]
			Expect(got.Equal(size)).To(BeTrue(), "the claim keeps %s, has %s", size.String(), got.String())
			Expect(after.UID).To(Equal(pvc.UID))
			charlie.sdkCheck()
		})

		It("reports a rollout that misses its deadline as RolloutStuck, and recovers when reverted", func() {
			eventually(func() (string, error) { return bravo.condition("Degraded") }, 2*time.Minute).
				Should(Equal("True/RolloutStuck"))
			Expect(bravo.condition("Ready")).To(HavePrefix("False/"))
			bravo.patchSpec(`{"spec":{"image":null,"imagePullPolicy":null,"progressDeadlineSeconds":null}}`)
			start := time.Now()
			bravo.waitReady(3 * time.Minute)
			AddReportEntry("revert stuck rollout → Ready", time.Since(start).Round(time.Millisecond).String())
			Expect(bravo.condition("Degraded")).To(HavePrefix("False/"))
			Expect(bravo.pod().Spec.Containers[0].Image).To(Equal(cfg.instanceImage))
			bravo.sdkCheck()
		})

		describeBackups()

		It("deletes a tenant's children and keeps or deletes its volume as spec.storage.reclaimPolicy says", func() {
			for _, t := range []*tenant{alpha, bravo} {
				u, err := t.get()
				Expect(err).NotTo(HaveOccurred())
				uid := u.GetUID()
				kubectl("delete", "pocketbaseinstance", t.name, "-n", t.ns, "--wait=true", "--timeout=2m")
				gone := func(get func() (metav1.Object, error)) func() bool {
					return func() bool { _, err := get(); return apierrors.IsNotFound(err) }
				}
				eventually(gone(func() (metav1.Object, error) {
					return kube.AppsV1().StatefulSets(t.ns).Get(ctx(), t.name, metav1.GetOptions{})
				}), 2*time.Minute).Should(BeTrue(), "statefulset of %s", t.name)
				eventually(gone(func() (metav1.Object, error) {
					return kube.CoreV1().Services(t.ns).Get(ctx(), t.name, metav1.GetOptions{})
				}), time.Minute).Should(BeTrue(), "service of %s", t.name)
				eventually(gone(func() (metav1.Object, error) {
					return kube.NetworkingV1().Ingresses(t.ns).Get(ctx(), t.name, metav1.GetOptions{})
				}), time.Minute).Should(BeTrue(), "ingress of %s", t.name)
				eventually(func() []string {
					var owned []string
					secrets, err := kube.CoreV1().Secrets(t.ns).List(ctx(), metav1.ListOptions{})
					Expect(err).NotTo(HaveOccurred())
					for _, s := range secrets.Items {
						for _, ref := range s.OwnerReferences {
							if ref.UID == uid {
								owned = append(owned, s.Name)
							}
						}
					}
					return owned
				}, time.Minute).Should(BeEmpty(), "secrets owned by %s", t.name)
				pvcGone := gone(func() (metav1.Object, error) {
					return kube.CoreV1().PersistentVolumeClaims(t.ns).Get(ctx(), t.name+"-data", metav1.GetOptions{})
				})
				if t.reclaimPolicy == "Delete" {
					eventually(pvcGone, 2*time.Minute).Should(BeTrue(), "the PVC of %s goes with it", t.name)
				} else {
					Consistently(pvcGone).WithTimeout(5*time.Second).WithPolling(time.Second).Should(BeFalse(), "the PVC of %s is kept", t.name)
					pvc, err := kube.CoreV1().PersistentVolumeClaims(t.ns).Get(ctx(), t.name+"-data", metav1.GetOptions{})
					Expect(err).NotTo(HaveOccurred())
					Expect(pvc.DeletionTimestamp).To(BeNil())
					for _, ref := range pvc.OwnerReferences {
						Expect(ref.UID).NotTo(Equal(uid))
					}
				}
			}
		})
	})

	Context("installed with config/default", Ordered, func() {
		const selector = "control-plane=controller-manager"
		delta := &tenant{ns: "e2e-c", name: "delta", reclaimPolicy: "Delete"}
		var manifests []byte

		BeforeAll(func() {
			out := run(cfg.kustomize, "build", cfg.root+"/config/default")
			// point the Deployment at the locally built image (the operator binary carries the
			// local instance image as its default)
			re := regexp.MustCompile(`image: ghcr\.io/pocketfleet/operator:\S+`)
			Expect(re.MatchString(out)).To(BeTrue(), "config/default names the operator image")
			manifests = []byte(re.ReplaceAllString(out, "image: "+cfg.operatorImage))
			_, err := runErr(manifests, cfg.kubectl, "apply", "--server-side", "--force-conflicts", "-f", "-")
			Expect(err).NotTo(HaveOccurred())
			eventually(func() bool {
				pods := operatorPods(selector)
				return len(pods) == 1 && podReady(&pods[0])
			}, 3*time.Minute).Should(BeTrue(), "the operator is Ready")
		})

		AfterAll(func() {
			deleteNamespaces("e2e-c")
			_, _ = runErr(manifests, cfg.kubectl, "delete", "--ignore-not-found", "--wait=true", "-f", "-")
		})

		It("serves a tenant to the SDK and removes it again", func() {
			createNamespace(delta.ns)
			delta.appliedAt = time.Now()
			kubectlApply(delta.manifest())
			delta.waitReady(3 * time.Minute)
			AddReportEntry("config/default: apply → Ready", time.Since(delta.appliedAt).Round(time.Millisecond).String())
			Expect(delta.statusString("image")).To(Equal(cfg.instanceImage))
			eventually(func() error { _, err := delta.sdk("write"); return err }, time.Minute).
				WithPolling(2 * time.Second).Should(Succeed())
			kubectl("delete", "pocketbaseinstance", delta.name, "-n", delta.ns, "--wait=true", "--timeout=2m")
			eventually(func() bool {
				_, err := kube.CoreV1().PersistentVolumeClaims(delta.ns).Get(ctx(), delta.name+"-data", metav1.GetOptions{})
				return apierrors.IsNotFound(err)
			}, 2*time.Minute).Should(BeTrue())
		})
	})
})
