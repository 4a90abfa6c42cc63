//go:build e2e

// Package e2e runs pocketfleet end to end on the local single-node cluster of
// hack/local-cluster: the operator installed with Helm and with config/default, tenants
// served through an Ingress to the official PocketBase JS SDK, pod and operator restarts,
// a rollout, metrics scraped inside the cluster and tenant deletion. `make test-e2e` starts
// the cluster, loads the images and runs it; on failure each spec dumps events, pod logs
// and the instances' status.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

var pbiGVR = schema.GroupVersionResource{Group: "pocketfleet.io", Version: "v1alpha1", Resource: "pocketbaseinstances"}

// settings come from the environment that `make test-e2e` sets.
type settings struct {
	kubeconfig, kubectl, helm, kustomize    string
	operatorImage, instanceImage, nextImage string
	ingressIP                               string // where the Ingress controller serves tenant hosts
	root                                    string // the repository
	clusterDir                              string // hack/local-cluster
}

var (
	cfg  settings
	kube *kubernetes.Clientset
	dyn  *dynamic.DynamicClient
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "pocketfleet end to end (local cluster)")
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

var _ = BeforeSuite(func() {
	wd, err := os.Getwd()
	Expect(err).NotTo(HaveOccurred())
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		Expect(root).NotTo(Equal("/"), "repository root not found")
		root = filepath.Dir(root)
	}
	base := env("POCKETFLEET_CLUSTER_BASE", "/var/lib/pocketfleet-cluster")
	cfg = settings{
		kubeconfig:    env("KUBECONFIG", base+"/config/admin.kubeconfig"),
		kubectl:       env("E2E_KUBECTL", base+"/bin/kubectl"),
		helm:          env("E2E_HELM", filepath.Join(root, "bin/helm")),
		kustomize:     env("E2E_KUSTOMIZE", filepath.Join(root, "bin/kustomize")),
		operatorImage: env("E2E_OPERATOR_IMG", "pocketfleet.local/operator:dev"),
		instanceImage: env("E2E_INSTANCE_IMG", "pocketfleet.local/instance:dev"),
		ingressIP:     env("E2E_INGRESS_IP", "10.244.0.1"),
		root:          root,
		clusterDir:    filepath.Join(root, "hack/local-cluster"),
	}
	cfg.nextImage = env("E2E_INSTANCE_IMG_NEXT", cfg.instanceImage+"-next")

	rc, err := clientcmd.BuildConfigFromFlags("", cfg.kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	kube = kubernetes.NewForConfigOrDie(rc)
	dyn = dynamic.NewForConfigOrDie(rc)

	By("building the in-cluster scraper image")
	bin := filepath.Join(GinkgoT().TempDir(), "scraper")
	build := exec.Command("go", "build", "-tags", "e2e", "-trimpath", "-o", bin, "./test/e2e/scraper")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(out))
	run(filepath.Join(cfg.clusterDir, "image.sh"), scraperImage, bin, "-user", "65532:65532")
})

const scraperImage = "pocketfleet.local/e2e-scraper:dev"

// run runs a command and returns its standard output; it fails the spec on an error.
func run(name string, args ...string) string {
	out, err := runErr(nil, name, args...)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return out
}

func runErr(stdin []byte, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cfg.kubeconfig)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

func kubectl(args ...string) string { return run(cfg.kubectl, args...) }

func kubectlApply(yaml string) {
	_, err := runErr([]byte(yaml), cfg.kubectl, "apply", "--server-side", "--force-conflicts", "-f", "-")
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
}

// dumpCluster writes what explains a failure: instances' status, events, pods and the
// logs of every pod in the given namespaces.
func dumpCluster(namespaces ...string) {
	w := GinkgoWriter
	show := func(title string, args ...string) {
		out, err := runErr(nil, cfg.kubectl, args...)
		fmt.Fprintf(w, "\n===== %s =====\n%s", title, out)
		if err != nil {
			fmt.Fprintf(w, "(%v)\n", err)
		}
	}
	show("PocketBaseInstances", "get", "pocketbaseinstances", "-A", "-o", "yaml")
	show("events", "get", "events", "-A", "--sort-by=.lastTimestamp")
	show("pods", "get", "pods", "-A", "-o", "wide")
	show("statefulsets, services, ingresses, pvcs", "get", "sts,svc,ing,pvc", "-A")
	for _, ns := range namespaces {
		pods, err := runErr(nil, cfg.kubectl, "get", "pods", "-n", ns, "-o", "name")
		if err != nil {
			continue
		}
		for _, pod := range strings.Fields(pods) {
			show("logs "+ns+"/"+pod, "logs", "-n", ns, pod, "--all-containers", "--tail=200")
			show("logs (previous) "+ns+"/"+pod, "logs", "-n", ns, pod, "--all-containers", "--tail=50", "--previous")
		}
	}
}

func ctx() context.Context { return context.Background() }

// eventually is Eventually with the suite's default polling.
func eventually(f any, timeout time.Duration) AsyncAssertion {
	return Eventually(f).WithTimeout(timeout).WithPolling(500 * time.Millisecond)
}
