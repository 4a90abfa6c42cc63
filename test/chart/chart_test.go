package chart

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

const (
	// namespace is where both installs put the operator.
	namespace = "pocketfleet-system"
	// release is the Helm release name the chart is rendered with.
	release = "pf"
	// fieldManager owns everything this test applies.
	fieldManager = "pocketfleet-chart-test"
	// samplesNamespace receives config/samples.
	samplesNamespace = "tenants"
	timeout          = 30 * time.Second
)

// install is one way of installing the operator.
type install struct {
	name string
	// render returns the install manifest.
	render func(t *testing.T, root string) []byte
	// applySamples also applies config/samples once the CRDs are in.
	applySamples bool
}

func TestInstall(t *testing.T) {
	root := repoRoot(t)
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh) go test ./test/chart/...` " +
			"or `make test-chart`; these tests need kube-apiserver and etcd and never skip")
	}
	logf.SetLogger(zap.New(zap.WriteTo(io.Discard)))

	want := generatedPermissions(t, root)
	flags := operatorFlags(t, root)

	installs := []install{
		{
			name:   "helm chart with default values",
			render: helmTemplate(),
		},
		{
			name: "helm chart with two replicas and a ServiceMonitor",
			render: helmTemplate("--set", "replicaCount=2", "--set", "leaderElection.enabled=false",
				"--set", "metrics.serviceMonitor.enabled=true", "--set", "logging.level=debug"),
		},
		{
			name: "helm chart with fleet upgrades, network policies and the Grafana dashboard",
			render: helmTemplate("--set", "upgrades.maxConcurrent=5", "--set", "upgrades.maintenanceWindow=Sat 02:00-04:00",
				"--set", "networkPolicy.enabled=true", "--set", "networkPolicy.monitoring.namespaceSelector=team in (monitoring)",
				"--set", "grafanaDashboard.enabled=true"),
		},
		{
			name:         "kustomize build config/default",
			render:       kustomizeBuild("config/default"),
			applySamples: true,
		},
	}
	for _, in := range installs {
		t.Run(in.name, func(t *testing.T) {
			objs := decode(t, in.render(t, root))
			dep := onlyDeployment(t, objs)
			checkArgs(t, dep, flags)
			checkSelectors(t, objs, dep)

			c := startAPIServer(t)
			ctx := t.Context()
			if !applyAll(ctx, t, c, objs) {
				t.FailNow()
			}
			checkDeployment(ctx, t, c, dep)
			checkRBAC(ctx, t, c, dep, want)
			if in.applySamples {
				applySamples(ctx, t, c, root)
			}
		})
	}
}

// helmTemplate renders charts/pocketfleet with the CRDs and the given extra arguments.
func helmTemplate(args ...string) func(t *testing.T, root string) []byte {
	return func(t *testing.T, root string) []byte {
		helm := tool(t, root, "HELM", "helm", "run make helm-lint first (it builds bin/helm)")
		return run(t, root, helm, append([]string{"template", release, "charts/pocketfleet",
			"--namespace", namespace, "--include-crds"}, args...)...)
	}
}

// kustomizeBuild builds a kustomization of config/.
func kustomizeBuild(dir string) func(t *testing.T, root string) []byte {
	return func(t *testing.T, root string) []byte {
		kustomize := tool(t, root, "KUSTOMIZE", "kustomize", "build it with make "+filepath.Join(root, "bin", "kustomize"))
		return run(t, root, kustomize, "build", dir)
	}
}

// startAPIServer starts kube-apiserver and etcd with no CRDs, and returns an admin client.
func startAPIServer(t *testing.T) client.Client {
	t.Helper()
	// note: a loaded 2-core machine can take longer than envtest's 20s default.
	env := &envtest.Environment{ControlPlaneStartTimeout: 2 * time.Minute}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting envtest (KUBEBUILDER_ASSETS=%s): %v", os.Getenv("KUBEBUILDER_ASSETS"), err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatalf("creating client: %v", err)
	}
	return c
}

// applyAll server-side applies the manifest: CRDs first (waiting until they are
// Established), then Namespaces, then everything else. A ServiceMonitor is skipped when
// the API server does not serve its kind (no Prometheus Operator CRDs); any other
// rejected object fails the test, and makes applyAll return false.
func applyAll(ctx context.Context, t *testing.T, c client.Client, objs []*unstructured.Unstructured) bool {
	t.Helper()
	var crds, namespaces, rest []*unstructured.Unstructured
	for _, o := range objs {
		switch o.GetKind() {
		case "CustomResourceDefinition":
			crds = append(crds, o)
		case "Namespace":
			namespaces = append(namespaces, o)
		default:
			rest = append(rest, o)
		}
	}
	ok := true
	if len(crds) == 0 {
		t.Error("the manifest holds no CustomResourceDefinition")
		ok = false
	}
	for _, o := range crds {
		apply(ctx, t, c, o)
	}
	for _, o := range crds {
		waitEstablished(ctx, t, c, o.GetName())
	}
	for _, o := range namespaces {
		apply(ctx, t, c, o)
	}
	ensureNamespace(ctx, t, c, namespace)
	for _, o := range rest {
		if o.GetNamespace() != "" {
			ensureNamespace(ctx, t, c, o.GetNamespace())
		}
		err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
			client.FieldOwner(fieldManager), client.ForceOwnership)
		switch {
		case err == nil:
			t.Logf("applied %s", describe(o))
		case meta.IsNoMatchError(err) && o.GetKind() == "ServiceMonitor":
			t.Logf("skipped %s: the API server has no ServiceMonitor CRD (Prometheus Operator)", describe(o))
		default:
			t.Errorf("applying %s: %v", describe(o), err)
			ok = false
		}
	}
	return ok
}

func apply(ctx context.Context, t *testing.T, c client.Client, o *unstructured.Unstructured) {
	t.Helper()
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
		client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		t.Fatalf("applying %s: %v", describe(o), err)
	}
	t.Logf("applied %s", describe(o))
}

func waitEstablished(ctx context.Context, t *testing.T, c client.Client, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		crd := &unstructured.Unstructured{}
		crd.SetAPIVersion("apiextensions.k8s.io/v1")
		crd.SetKind("CustomResourceDefinition")
		if err := c.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
			return false, err
		}
		conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, cond := range conditions {
			m, _ := cond.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("CustomResourceDefinition %s never became Established: %v", name, err)
	}
}

func ensureNamespace(ctx context.Context, t *testing.T, c client.Client, name string) {
	t.Helper()
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
}

// checkDeployment reads the operator Deployment back from the API server (defaults
// applied) and checks that its pod runs locked down.
func checkDeployment(ctx context.Context, t *testing.T, c client.Client, rendered *unstructured.Unstructured) {
	t.Helper()
	dep := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(rendered), dep); err != nil {
		t.Fatalf("getting the operator Deployment: %v", err)
	}
	pod := dep.Spec.Template.Spec
	if pod.ServiceAccountName == "" {
		t.Error("the operator pod names no serviceAccountName")
	} else if err := c.Get(ctx, client.ObjectKey{Namespace: dep.Namespace, Name: pod.ServiceAccountName}, &corev1.ServiceAccount{}); err != nil {
		t.Errorf("the operator's ServiceAccount %s: %v", pod.ServiceAccountName, err)
	}
	if pod.AutomountServiceAccountToken != nil && !*pod.AutomountServiceAccountToken {
		t.Error("the operator pod must mount its ServiceAccount token: it talks to the API server")
	}
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds != 10 {
		t.Errorf("terminationGracePeriodSeconds = %v, want 10", deref(pod.TerminationGracePeriodSeconds))
	}
	podSC := pod.SecurityContext
	if podSC == nil {
		podSC = &corev1.PodSecurityContext{}
	}
	if len(pod.Containers) == 0 {
		t.Fatal("the operator pod has no containers")
	}
	for _, ctr := range slices.Concat(pod.InitContainers, pod.Containers) {
		sc := ctr.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		if !isTrue(sc.RunAsNonRoot) && (sc.RunAsNonRoot != nil || !isTrue(podSC.RunAsNonRoot)) {
			t.Errorf("container %s: runAsNonRoot is not true (pod %v, container %v)", ctr.Name,
				deref(podSC.RunAsNonRoot), deref(sc.RunAsNonRoot))
		}
		if !isTrue(sc.ReadOnlyRootFilesystem) {
			t.Errorf("container %s: readOnlyRootFilesystem = %v, want true", ctr.Name, deref(sc.ReadOnlyRootFilesystem))
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("container %s: allowPrivilegeEscalation = %v, want false", ctr.Name, deref(sc.AllowPrivilegeEscalation))
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("container %s is privileged", ctr.Name)
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
			t.Errorf("container %s: capabilities = %+v, want drop [ALL] and no add", ctr.Name, sc.Capabilities)
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = podSC.SeccompProfile
		}
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("container %s: seccompProfile = %+v, want RuntimeDefault", ctr.Name, seccomp)
		}
		if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Requests.Memory().IsZero() || ctr.Resources.Limits.Memory().IsZero() {
			t.Errorf("container %s: resources = %+v, want CPU and memory requests and a memory limit", ctr.Name, ctr.Resources)
		}
	}
	manager := pod.Containers[0]
	for probe, path := range map[*corev1.Probe]string{manager.LivenessProbe: "/healthz", manager.ReadinessProbe: "/readyz"} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path {
			t.Errorf("container %s: want an HTTP probe on %s, got %+v", manager.Name, path, probe)
		}
	}
}

// checkRBAC checks, on the API server, that the operator's ServiceAccount is bound to a
// ClusterRole whose rules grant exactly the permissions of config/rbac/role.yaml, and
// asks the RBAC authorizer (SubjectAccessReview) whether the ServiceAccount may do what
// the operator does.
func checkRBAC(ctx context.Context, t *testing.T, c client.Client, dep *unstructured.Unstructured, want permissionSet) {
	t.Helper()
	sa, _, _ := unstructured.NestedString(dep.Object, "spec", "template", "spec", "serviceAccountName")
	saNamespace := dep.GetNamespace()

	bindings := &rbacv1.ClusterRoleBindingList{}
	if err := c.List(ctx, bindings); err != nil {
		t.Fatalf("listing ClusterRoleBindings: %v", err)
	}
	var matched []string
	var closest string
	closestN := -1
	for _, b := range bindings.Items {
		if b.RoleRef.Kind != "ClusterRole" || !slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool {
			return s.Kind == rbacv1.ServiceAccountKind && s.Name == sa && s.Namespace == saNamespace
		}) {
			continue
		}
		role := &rbacv1.ClusterRole{}
		if err := c.Get(ctx, client.ObjectKey{Name: b.RoleRef.Name}, role); err != nil {
			t.Errorf("ClusterRoleBinding %s refers to ClusterRole %s: %v", b.Name, b.RoleRef.Name, err)
			continue
		}
		got := permissions(role.Rules)
		missing, extra := want.minus(got), got.minus(want)
		if len(missing)+len(extra) == 0 {
			matched = append(matched, role.Name)
		} else if closestN < 0 || len(missing)+len(extra) < closestN {
			closestN = len(missing) + len(extra)
			closest = fmt.Sprintf("closest is ClusterRole %s: missing %q, extra %q", role.Name, missing, extra)
		}
	}
	if len(matched) != 1 {
		t.Errorf("ServiceAccount %s/%s is bound to %d ClusterRoles with exactly the rules of config/rbac/role.yaml (%v), want 1; %s",
			saNamespace, sa, len(matched), matched, closest)
	}

	user := "system:serviceaccount:" + saNamespace + ":" + sa
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + saNamespace, "system:authenticated"}
	can := func(attrs authorizationv1.ResourceAttributes) bool {
		t.Helper()
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: groups, ResourceAttributes: &attrs,
		}}
		if err := c.Create(ctx, sar); err != nil {
			t.Fatalf("SubjectAccessReview %+v: %v", attrs, err)
		}
		return sar.Status.Allowed
	}
	for _, p := range want.sorted() {
		if p.url != "" {
			continue
		}
		resource, subresource, _ := strings.Cut(p.resource, "/")
		attrs := authorizationv1.ResourceAttributes{Namespace: samplesNamespace, Group: p.group, Resource: resource,
			Subresource: subresource, Verb: p.verb}
		if p.name != "*" {
			attrs.Name = p.name
		}
		if !can(attrs) {
			t.Errorf("%s is denied %s, which config/rbac/role.yaml grants", user, p)
		}
	}
	// note: proves the authorizer really is RBAC, and that the operator gets nothing more.
	for _, denied := range []permission{
		{group: "pocketfleet.io", resource: "pocketbaseinstances", name: "*", verb: "create"},
		{group: "pocketfleet.io", resource: "pocketbaseinstances", name: "*", verb: "delete"},
		{group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "*", verb: "create"},
		{group: "rbac.authorization.k8s.io", resource: "clusterrolebindings", name: "*", verb: "create"},
	} {
		if want[denied] {
			continue
		}
		if can(authorizationv1.ResourceAttributes{Namespace: samplesNamespace, Group: denied.group,
			Resource: denied.resource, Verb: denied.verb}) {
			t.Errorf("%s may %s, which config/rbac/role.yaml does not grant", user, denied)
		}
	}

	args := containerArgs(dep)
	if hasFlag(args, "leader-elect") {
		leaseNamespace := flagValue(args, "leader-election-namespace", saNamespace)
		for _, verb := range []string{"get", "create", "update"} {
			if !can(authorizationv1.ResourceAttributes{Namespace: leaseNamespace, Group: "coordination.k8s.io", Resource: "leases", Verb: verb}) {
				t.Errorf("%s runs with --leader-elect but may not %s leases in %s", user, verb, leaseNamespace)
			}
		}
		if !can(authorizationv1.ResourceAttributes{Namespace: leaseNamespace, Resource: "events", Verb: "create"}) {
			t.Errorf("%s runs with --leader-elect but may not create core events in %s", user, leaseNamespace)
		}
	}
	if hasFlag(args, "metrics-secure") && flagValue(args, "metrics-secure", "true") == "true" {
		if !can(authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create"}) ||
			!can(authorizationv1.ResourceAttributes{Group: "authorization.k8s.io", Resource: "subjectaccessreviews", Verb: "create"}) {
			t.Errorf("%s runs with --metrics-secure but may not create tokenreviews and subjectaccessreviews", user)
		}
	}
}

// applySamples applies config/samples to the installed CRD: they must pass its schema
// and CEL validation.
func applySamples(ctx context.Context, t *testing.T, c client.Client, root string) {
	t.Helper()
	ensureNamespace(ctx, t, c, samplesNamespace)
	files, err := filepath.Glob(filepath.Join(root, "config", "samples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range decode(t, data) {
			o.SetNamespace(samplesNamespace)
			if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o),
				client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
				t.Errorf("applying sample %s: %v", filepath.Base(f), err)
				continue
			}
			n++
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(o.GroupVersionKind())
			if err := c.Get(ctx, client.ObjectKeyFromObject(o), got); err != nil {
				t.Errorf("getting sample %s: %v", o.GetName(), err)
				continue
			}
			if size, _, _ := unstructured.NestedString(got.Object, "spec", "storage", "size"); size == "" {
				t.Errorf("sample %s: spec.storage.size was not defaulted by the CRD", o.GetName())
			}
		}
	}
	if n < 2 {
		t.Errorf("applied %d samples from config/samples, want at least 2", n)
	}
}

// checkArgs checks that every flag the manifest passes to the operator is one
// operator/main.go defines, and that the logging flags parse.
func checkArgs(t *testing.T, dep *unstructured.Unstructured, flags map[string]bool) {
	t.Helper()
	args := containerArgs(dep)
	if len(args) == 0 {
		t.Fatal("the operator container has no args")
	}
	zapFlags := flag.NewFlagSet("zap", flag.ContinueOnError)
	zapFlags.SetOutput(io.Discard)
	(&zap.Options{}).BindFlags(zapFlags)
	for _, arg := range args {
		name, ok := strings.CutPrefix(arg, "--")
		if !ok {
			t.Errorf("operator argument %q is not a --flag", arg)
			continue
		}
		name, _, _ = strings.Cut(name, "=")
		if !flags[name] {
			t.Errorf("operator argument %q: operator/main.go defines no flag %q", arg, name)
			continue
		}
		if zapFlags.Lookup(name) != nil {
			if err := zapFlags.Parse([]string{arg}); err != nil {
				t.Errorf("operator argument %q: %v", arg, err)
			}
		}
	}
}

// checkSelectors checks what the API server does not: the Services select the operator
// pod on a port it exposes, and a ServiceMonitor selects a Service on a named port.
func checkSelectors(t *testing.T, objs []*unstructured.Unstructured, dep *unstructured.Unstructured) {
	t.Helper()
	podLabels, _, _ := unstructured.NestedStringMap(dep.Object, "spec", "template", "metadata", "labels")
	selector, _, _ := unstructured.NestedStringMap(dep.Object, "spec", "selector", "matchLabels")
	if !subset(selector, podLabels) {
		t.Errorf("Deployment selector %v does not match its pod labels %v", selector, podLabels)
	}
	ports := map[string]bool{}
	for _, ctr := range containers(dep) {
		cp, _, _ := unstructured.NestedSlice(ctr, "ports")
		for _, p := range cp {
			m, _ := p.(map[string]any)
			if name, _ := m["name"].(string); name != "" {
				ports[name] = true
			}
			ports[fmt.Sprint(m["containerPort"])] = true
		}
	}
	services := map[string]*unstructured.Unstructured{}
	for _, svc := range objs {
		if svc.GetKind() != "Service" {
			continue
		}
		services[svc.GetName()] = svc
		sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector")
		if len(sel) == 0 || !subset(sel, podLabels) {
			t.Errorf("Service %s selects %v, which does not match the operator pod labels %v", svc.GetName(), sel, podLabels)
		}
		sp, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
		for _, p := range sp {
			m, _ := p.(map[string]any)
			target := intstr.Parse(fmt.Sprint(m["targetPort"]))
			if m["targetPort"] == nil {
				target = intstr.Parse(fmt.Sprint(m["port"]))
			}
			if !ports[target.String()] {
				t.Errorf("Service %s targets port %s, which the operator container does not expose (%v)",
					svc.GetName(), target.String(), slices.Sorted(maps.Keys(ports)))
			}
		}
	}
	for _, sm := range objs {
		if sm.GetKind() != "ServiceMonitor" {
			continue
		}
		sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
		endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
		var found bool
		for _, svc := range services {
			if !subset(sel, svc.GetLabels()) || svc.GetNamespace() != sm.GetNamespace() {
				continue
			}
			found = true
			sp, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
			for _, e := range endpoints {
				port, _ := e.(map[string]any)["port"].(string)
				if !slices.ContainsFunc(sp, func(p any) bool { return p.(map[string]any)["name"] == port }) {
					t.Errorf("ServiceMonitor %s scrapes port %q, which Service %s does not name", sm.GetName(), port, svc.GetName())
				}
			}
		}
		if !found {
			t.Errorf("ServiceMonitor %s selects %v, which matches no Service of the manifest", sm.GetName(), sel)
		}
	}
}

// permission is one thing a PolicyRule grants.
type permission struct{ group, resource, name, url, verb string }

func (p permission) String() string {
	if p.url != "" {
		return fmt.Sprintf("%s %s", p.verb, p.url)
	}
	return fmt.Sprintf("%s %s.%s (name %s)", p.verb, p.resource, p.group, p.name)
}

type permissionSet map[permission]bool

// permissions expands rules into the set of single permissions they grant, so that rules
// compare by what they grant, not by how they are ordered or grouped.
func permissions(rules []rbacv1.PolicyRule) permissionSet {
	set := permissionSet{}
	for _, r := range rules {
		for _, v := range r.Verbs {
			for _, u := range r.NonResourceURLs {
				set[permission{url: u, verb: v}] = true
			}
			names := r.ResourceNames
			if len(names) == 0 {
				names = []string{"*"}
			}
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, n := range names {
						set[permission{group: g, resource: res, name: n, verb: v}] = true
					}
				}
			}
		}
	}
	return set
}

func (s permissionSet) minus(o permissionSet) []string {
	var out []string
	for p := range s {
		if !o[p] {
			out = append(out, p.String())
		}
	}
	slices.Sort(out)
	return out
}

func (s permissionSet) sorted() []permission {
	return slices.SortedFunc(maps.Keys(s), func(a, b permission) int { return strings.Compare(a.String(), b.String()) })
}

// generatedPermissions reads config/rbac/role.yaml, the source of truth.
func generatedPermissions(t *testing.T, root string) permissionSet {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs := decode(t, data)
	if len(objs) != 1 || objs[0].GetKind() != "ClusterRole" {
		t.Fatalf("config/rbac/role.yaml must hold one ClusterRole, found %d objects", len(objs))
	}
	role := &rbacv1.ClusterRole{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(objs[0].Object, role); err != nil {
		t.Fatalf("config/rbac/role.yaml: %v", err)
	}
	set := permissions(role.Rules)
	if len(set) == 0 {
		t.Fatal("config/rbac/role.yaml grants nothing")
	}
	return set
}

// operatorFlags returns the names of the flags operator/main.go defines, read from its
// syntax tree (the flag.XxxVar and flag.Xxx calls), plus controller-runtime's zap flags
// when main.go binds them to flag.CommandLine.
func operatorFlags(t *testing.T, root string) map[string]bool {
	t.Helper()
	path := filepath.Join(root, "operator", "main.go")
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	flags := map[string]bool{}
	var bindsZap bool
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if sel.Sel.Name == "BindFlags" && len(call.Args) == 1 && isCommandLine(call.Args[0]) {
			bindsZap = true
			return true
		}
		if x, ok := sel.X.(*ast.Ident); (!ok || x.Name != "flag") && !isCommandLine(sel.X) {
			return true
		}
		if !definesFlag[strings.TrimSuffix(sel.Sel.Name, "Var")] && sel.Sel.Name != "Var" {
			return true
		}
		idx := 0
		if strings.HasSuffix(sel.Sel.Name, "Var") {
			idx = 1
		}
		if len(call.Args) <= idx {
			return true
		}
		if lit, ok := call.Args[idx].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if name, err := strconv.Unquote(lit.Value); err == nil {
				flags[name] = true
			}
		}
		return true
	})
	if len(flags) == 0 {
		t.Fatalf("found no flag definitions in %s: update operatorFlags", path)
	}
	if bindsZap {
		fs := flag.NewFlagSet("zap", flag.ContinueOnError)
		(&zap.Options{}).BindFlags(fs)
		fs.VisitAll(func(f *flag.Flag) { flags[f.Name] = true })
	}
	return flags
}

// definesFlag are the flag package functions that define a flag, without their "Var"
// suffix: flag.String("name", …) and flag.StringVar(&v, "name", …).
var definesFlag = map[string]bool{
	"String": true, "Bool": true, "Int": true, "Int64": true, "Uint": true, "Uint64": true,
	"Float64": true, "Duration": true, "Func": true, "BoolFunc": true, "Text": true,
}

func isCommandLine(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "flag" && sel.Sel.Name == "CommandLine"
}

// onlyDeployment returns the one Deployment of the manifest: the operator.
func onlyDeployment(t *testing.T, objs []*unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	var deps []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			deps = append(deps, o)
		}
	}
	if len(deps) != 1 {
		t.Fatalf("want exactly one Deployment in the manifest, found %d", len(deps))
	}
	if deps[0].GetNamespace() != namespace {
		t.Errorf("the operator Deployment is in namespace %q, want %q", deps[0].GetNamespace(), namespace)
	}
	return deps[0]
}

func containers(dep *unstructured.Unstructured) []map[string]any {
	list, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	out := make([]map[string]any, 0, len(list))
	for _, c := range list {
		if m, ok := c.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// containerArgs are the args of the manager container (the first one).
func containerArgs(dep *unstructured.Unstructured) []string {
	cs := containers(dep)
	if len(cs) == 0 {
		return nil
	}
	args, _, _ := unstructured.NestedStringSlice(cs[0], "args")
	return args
}

func hasFlag(args []string, name string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return a == "--"+name || strings.HasPrefix(a, "--"+name+"=") })
}

func flagValue(args []string, name, def string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return def
}

// decode parses a multi-document YAML stream into objects, skipping empty documents.
func decode(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("decoding the manifest: %v", err)
		}
		if m == nil {
			continue
		}
		o := &unstructured.Unstructured{Object: m}
		if o.GetKind() == "" || o.GetAPIVersion() == "" || o.GetName() == "" {
			t.Fatalf("manifest object without apiVersion, kind or name: %v", m)
		}
		objs = append(objs, o)
	}
	if len(objs) == 0 {
		t.Fatal("the manifest is empty")
	}
	return objs
}

func describe(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + " " + o.GetName()
	}
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

func subset(small, big map[string]string) bool {
	for k, v := range small {
		if got, ok := big[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func isTrue(b *bool) bool { return b != nil && *b }

func deref[T any](p *T) any {
	if p == nil {
		return "unset"
	}
	return *p
}

// repoRoot is the module root: two folders up from this file.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := goruntime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root %s has no go.mod: %v", root, err)
	}
	return root
}

// tool returns the path of a binary from $env or bin/, failing with a hint when missing.
func tool(t *testing.T, root, env, name, hint string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		path = filepath.Join(root, "bin", name)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s not found at %s: %s", name, path, hint)
	}
	return path
}

func run(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return out
}
