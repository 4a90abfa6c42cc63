//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
)

// tenant is one PocketBaseInstance of the suite.
type tenant struct {
	ns, name      string
	reclaimPolicy string // spec.storage.reclaimPolicy
	appliedAt     time.Time
}

func (t tenant) host() string { return fmt.Sprintf("%s.%s.e2e.pocketfleet.test", t.name, t.ns) }
func (t tenant) url() string  { return "http://" + t.host() }

func (t tenant) manifest() string {
	return fmt.Sprintf(`apiVersion: pocketfleet.io/v1alpha1
kind: PocketBaseInstance
metadata:
  name: %s
  namespace: %s
spec:
  storage:
    size: 1Gi
    reclaimPolicy: %s
  superuser:
    email: ops@%s.example.com
  ingress:
    host: %s
    className: local
  resources:
    requests: {cpu: 20m, memory: 64Mi}
    limits: {memory: 256Mi}
`, t.name, t.ns, t.reclaimPolicy, t.name, t.host())
}

func (t tenant) get() (*unstructured.Unstructured, error) {
	return dyn.Resource(pbiGVR).Namespace(t.ns).Get(ctx(), t.name, metav1.GetOptions{})
}

// ready reports whether the instance is Ready for its current generation.
func (t tenant) ready() (bool, error) {
	u, err := t.get()
	if err != nil {
		return false, err
	}
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if observed < u.GetGeneration() {
		return false, nil
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Ready" {
			return m["status"] == "True", nil
		}
	}
	return false, nil
}

func (t tenant) statusString(field string) string {
	u, err := t.get()
	Expect(err).NotTo(HaveOccurred())
	s, _, _ := unstructured.NestedString(u.Object, "status", field)
	return s
}

func (t tenant) waitReady(timeout time.Duration) {
	GinkgoHelper()
	eventually(t.ready, timeout).Should(BeTrue(), "%s/%s Ready", t.ns, t.name)
}

// credentials reads the generated superuser Secret.
func (t tenant) credentials() (email, password string) {
	name := t.statusString("superuserSecretName")
	Expect(name).NotTo(BeEmpty())
	s, err := kube.CoreV1().Secrets(t.ns).Get(ctx(), name, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	password = string(s.Data["password"])
	Expect(password).NotTo(BeEmpty())
	email = string(s.Data["email"])
	if email == "" {
		email = "ops@" + t.name + ".example.com"
	}
	return email, password
}

type sdkResult struct {
	FirstRequestAt int64 `json:"firstRequestAt"`
	Records        int   `json:"records"`
	RealtimeEvents int   `json:"realtimeEvents"`
}

// sdk runs test/e2e/sdk.mjs against the tenant's Ingress host.
func (t tenant) sdk(mode string) (sdkResult, error) {
	email, password := t.credentials()
	cmd := exec.Command("node", filepath.Join(cfg.root, "test/e2e/sdk.mjs"), mode, t.url())
	cmd.Env = append(os.Environ(), "PB_EMAIL="+email, "PB_PASSWORD="+password,
		"E2E_RESOLVE="+t.host()+"="+cfg.ingressIP)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return sdkResult{}, fmt.Errorf("sdk.mjs %s %s: %w\n%s", mode, t.url(), err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res sdkResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		return sdkResult{}, fmt.Errorf("sdk.mjs output %q: %w", out, err)
	}
	return res, nil
}

func (t tenant) pod() *corev1.Pod {
	p, err := kube.CoreV1().Pods(t.ns).Get(ctx(), t.name+"-0", metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	return p
}

// childVersions maps every child object of the tenant to its resourceVersion.
func (t tenant) childVersions() map[string]string {
	v := map[string]string{}
	sts, err := kube.AppsV1().StatefulSets(t.ns).Get(ctx(), t.name, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	v["statefulset"] = sts.ResourceVersion
	svc, err := kube.CoreV1().Services(t.ns).Get(ctx(), t.name, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	v["service"] = svc.ResourceVersion
	ing, err := kube.NetworkingV1().Ingresses(t.ns).Get(ctx(), t.name, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	v["ingress"] = ing.ResourceVersion
	sec, err := kube.CoreV1().Secrets(t.ns).Get(ctx(), t.statusString("superuserSecretName"), metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	v["secret"] = sec.ResourceVersion
	pvc, err := kube.CoreV1().PersistentVolumeClaims(t.ns).Get(ctx(), t.name+"-data", metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	v["pvc"] = pvc.ResourceVersion
	return v
}

func createNamespace(ns string) {
	kubectlApply(fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", ns))
	// a new namespace refuses pods until its default ServiceAccount exists
	eventually(func() error {
		_, err := kube.CoreV1().ServiceAccounts(ns).Get(ctx(), "default", metav1.GetOptions{})
		return err
	}, time.Minute).Should(Succeed())
}

func deleteNamespaces(nss ...string) {
	for _, ns := range nss {
		_, _ = runErr(nil, cfg.kubectl, "delete", "namespace", ns, "--ignore-not-found", "--wait=false")
	}
	for _, ns := range nss {
		eventually(func() bool {
			_, err := kube.CoreV1().Namespaces().Get(ctx(), ns, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}, 3*time.Minute).Should(BeTrue(), "namespace %s deleted", ns)
	}
}

// scrape fetches url from a pod in the cluster (the scraper image) and returns the body.
// With serviceAccount set, the pod sends that account's token.
func scrape(ns, name, serviceAccount, url string) string {
	args := []string{"-url", url}
	automount := false
	if serviceAccount != "" {
		args = append(args, "-insecure", "-token-file", "/var/run/secrets/kubernetes.io/serviceaccount/token")
		automount = true
	} else {
		serviceAccount = "default"
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyNever,
			ServiceAccountName:           serviceAccount,
			AutomountServiceAccountToken: &automount,
			Containers: []corev1.Container{{
				Name: "scraper", Image: scraperImage, ImagePullPolicy: corev1.PullIfNotPresent,
				Command: []string{"/scraper"}, Args: args,
			}},
		},
	}
	_ = kube.CoreV1().Pods(ns).Delete(ctx(), name, metav1.DeleteOptions{})
	eventually(func() bool {
		_, err := kube.CoreV1().Pods(ns).Get(ctx(), name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, time.Minute).Should(BeTrue())
	_, err := kube.CoreV1().Pods(ns).Create(ctx(), pod, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	eventually(func() (corev1.PodPhase, error) {
		p, err := kube.CoreV1().Pods(ns).Get(ctx(), name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		return p.Status.Phase, nil
	}, 2*time.Minute).Should(Or(Equal(corev1.PodSucceeded), Equal(corev1.PodFailed)))
	logs := kubectl("logs", "-n", ns, name)
	p, err := kube.CoreV1().Pods(ns).Get(ctx(), name, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	Expect(p.Status.Phase).To(Equal(corev1.PodSucceeded), "scraping %s: %s", url, logs)
	return logs
}

// podsOnClaim watches the pods of a namespace and records, over the watch, the largest
// number of pods that existed at once with the given claim among their volumes (a pod
// counts from its creation until it is deleted from the API, terminating included).
type podsOnClaim struct {
	w    watch.Interface
	done chan int
}

func watchPodsOnClaim(ns, claim string) *podsOnClaim {
	usesClaim := func(pod *corev1.Pod) bool {
		for _, v := range pod.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
				return true
			}
		}
		return false
	}
	list, err := kube.CoreV1().Pods(ns).List(ctx(), metav1.ListOptions{})
	Expect(err).NotTo(HaveOccurred())
	live := map[string]bool{}
	for i := range list.Items {
		if p := &list.Items[i]; usesClaim(p) && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			live[string(list.Items[i].UID)] = true
		}
	}
	w, err := kube.CoreV1().Pods(ns).Watch(ctx(), metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	Expect(err).NotTo(HaveOccurred())
	p := &podsOnClaim{w: w, done: make(chan int, 1)}
	go func() {
		most := len(live)
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			if !usesClaim(pod) {
				continue
			}
			// a pod whose containers all ended (a finished restore Job's) runs nothing on
			// the volume any more, though it exists until the Job goes
			if ev.Type == watch.Deleted || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
				delete(live, string(pod.UID))
			} else {
				live[string(pod.UID)] = true
			}
			most = max(most, len(live))
		}
		p.done <- most
	}()
	return p
}

// stop ends the watch and returns the most pods seen at once on the claim.
func (p *podsOnClaim) stop() int {
	p.w.Stop()
	return <-p.done
}
