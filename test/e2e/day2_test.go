//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// patchSpec merge-patches the tenant's PocketBaseInstance.
func (t tenant) patchSpec(patch string) {
	GinkgoHelper()
	_, err := dyn.Resource(pbiGVR).Namespace(t.ns).Patch(ctx(), t.name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	Expect(err).NotTo(HaveOccurred(), "patch %s/%s with %s", t.ns, t.name, patch)
}

// condition returns "Status/Reason" of the condition, or "" while the status has not
// caught up with the current generation.
func (t tenant) condition(typ string) (string, error) {
	u, err := t.get()
	if err != nil {
		return "", err
	}
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if observed < u.GetGeneration() {
		return "", nil
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, _ := c.(map[string]any); m["type"] == typ {
			return fmt.Sprintf("%v/%v", m["status"], m["reason"]), nil
		}
	}
	return "", nil
}

// ingressStatus returns the status code of GET /api/health on the tenant's host, asked of
// the Ingress controller.
func (t tenant) ingressStatus() (int, error) {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(c context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(c, network, net.JoinHostPort(cfg.ingressIP, "80"))
		},
	}}
	res, err := client.Get(t.url() + "/api/health")
	if err != nil {
		return 0, err
	}
	_ = res.Body.Close()
	return res.StatusCode, nil
}

// sdkCheck waits until the SDK reads back the record the tenant's "write" run kept.
func (t tenant) sdkCheck() {
	GinkgoHelper()
	eventually(func() error { _, err := t.sdk("check"); return err }, time.Minute).
		WithPolling(2*time.Second).Should(Succeed(), "%s/%s serves its data", t.ns, t.name)
}
