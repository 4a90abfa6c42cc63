// Command chartcheck checks that an install manifest (the rendered Helm chart, or
// `kustomize build config/default`) binds the operator's ServiceAccount to a ClusterRole
// whose rules equal the generated config/rbac/role.yaml.
//
// Rules are compared as sets of (apiGroup, resource, resourceName, verb) and
// (nonResourceURL, verb) permissions, so the order and grouping of rules do not matter,
// only what they grant.
//
//	bin/helm template pf charts/pocketfleet | go run ./hack/chartcheck -role config/rbac/role.yaml
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

func main() {
	rolePath := flag.String("role", "config/rbac/role.yaml", "the generated manager ClusterRole")
	manifestPath := flag.String("manifest", "-", "the install manifest to check; - reads stdin")
	flag.Parse()

	if err := run(*rolePath, *manifestPath); err != nil {
		fmt.Fprintf(os.Stderr, "chartcheck: %v\n", err)
		os.Exit(1)
	}
}

func run(rolePath, manifestPath string) error {
	roleYAML, err := os.ReadFile(rolePath)
	if err != nil {
		return fmt.Errorf("reading the generated role: %w", err)
	}
	roleDocs, err := splitDocuments(roleYAML)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", rolePath, err)
	}
	if len(roleDocs) != 1 || kind(roleDocs[0]) != "ClusterRole" {
		return fmt.Errorf("%s must hold exactly one ClusterRole", rolePath)
	}
	want := permissions(roleDocs[0]["rules"])
	if len(want) == 0 {
		return fmt.Errorf("%s grants nothing", rolePath)
	}

	var manifest []byte
	if manifestPath == "-" {
		manifest, err = io.ReadAll(os.Stdin)
	} else {
		manifest, err = os.ReadFile(manifestPath)
	}
	if err != nil {
		return fmt.Errorf("reading the manifest: %w", err)
	}
	docs, err := splitDocuments(manifest)
	if err != nil {
		return fmt.Errorf("parsing the manifest: %w", err)
	}

	saName, saNamespace, err := managerServiceAccount(docs)
	if err != nil {
		return err
	}
	clusterRoles := map[string]map[string]any{}
	for _, d := range docs {
		if kind(d) == "ClusterRole" {
			clusterRoles[name(d)] = d
		}
	}

	// note: the ServiceAccount is also bound to other ClusterRoles (metrics auth); on a
	// mismatch, report only the bound ClusterRole closest to the generated one.
	var (
		bound  int
		best   string
		bestN  = -1
		broken []string
	)
	for _, d := range docs {
		if kind(d) != "ClusterRoleBinding" || !bindsServiceAccount(d, saName, saNamespace) {
			continue
		}
		ref, _ := d["roleRef"].(map[string]any)
		if ref["kind"] != "ClusterRole" {
			continue
		}
		roleName, _ := ref["name"].(string)
		role, ok := clusterRoles[roleName]
		if !ok {
			broken = append(broken, fmt.Sprintf("ClusterRoleBinding %s refers to ClusterRole %s, which the manifest does not define", name(d), roleName))
			continue
		}
		bound++
		got := permissions(role["rules"])
		missing, extra := difference(want, got), difference(got, want)
		if len(missing) == 0 && len(extra) == 0 {
			fmt.Printf("chartcheck: ServiceAccount %s/%s is bound to ClusterRole %s, whose %d permissions equal %s\n",
				saNamespace, saName, roleName, len(want), rolePath)
			return nil
		}
		if n := len(missing) + len(extra); bestN < 0 || n < bestN {
			bestN = n
			best = fmt.Sprintf("closest is ClusterRole %s (bound through %s):\n  missing:%s\n  extra:%s",
				roleName, name(d), list(missing), list(extra))
		}
	}
	if bound == 0 {
		broken = append(broken, "no ClusterRoleBinding binds it to a ClusterRole the manifest defines")
	} else {
		broken = append(broken, best)
	}
	return fmt.Errorf("no ClusterRole bound to ServiceAccount %s/%s has exactly the rules of %s "+
		"(run make chart-crds, and make manifests if the +kubebuilder:rbac markers changed); %s",
		saNamespace, saName, rolePath, strings.Join(broken, "\n"))
}

// managerServiceAccount finds the one Deployment of the manifest and returns the
// ServiceAccount its pods run as.
func managerServiceAccount(docs []map[string]any) (string, string, error) {
	var deployments []map[string]any
	for _, d := range docs {
		if kind(d) == "Deployment" {
			deployments = append(deployments, d)
		}
	}
	if len(deployments) != 1 {
		return "", "", fmt.Errorf("want exactly one Deployment in the manifest, found %d", len(deployments))
	}
	dep := deployments[0]
	meta, _ := dep["metadata"].(map[string]any)
	namespace, _ := meta["namespace"].(string)
	spec, _ := dig(dep, "spec", "template", "spec").(map[string]any)
	sa, _ := spec["serviceAccountName"].(string)
	if sa == "" || namespace == "" {
		return "", "", fmt.Errorf("deployment %s must set metadata.namespace and spec.template.spec.serviceAccountName", name(dep))
	}
	return sa, namespace, nil
}

func bindsServiceAccount(binding map[string]any, saName, saNamespace string) bool {
	subjects, _ := binding["subjects"].([]any)
	for _, s := range subjects {
		m, _ := s.(map[string]any)
		if m["kind"] == "ServiceAccount" && m["name"] == saName && m["namespace"] == saNamespace {
			return true
		}
	}
	return false
}

// permissions expands PolicyRules into the set of single permissions they grant.
func permissions(rules any) map[string]bool {
	set := map[string]bool{}
	list, _ := rules.([]any)
	for _, r := range list {
		rule, _ := r.(map[string]any)
		verbs := strs(rule["verbs"])
		for _, url := range strs(rule["nonResourceURLs"]) {
			for _, v := range verbs {
				set[fmt.Sprintf("nonResourceURL=%s verb=%s", url, v)] = true
			}
		}
		names := strs(rule["resourceNames"])
		if len(names) == 0 {
			names = []string{"*"}
		}
		for _, g := range strs(rule["apiGroups"]) {
			for _, res := range strs(rule["resources"]) {
				for _, n := range names {
					for _, v := range verbs {
						set[fmt.Sprintf("group=%q resource=%s name=%s verb=%s", g, res, n, v)] = true
					}
				}
			}
		}
	}
	return set
}

func difference(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func list(s []string) string {
	if len(s) == 0 {
		return " none"
	}
	return "\n    " + strings.Join(s, "\n    ")
}

// splitDocuments parses a multi-document YAML stream, skipping empty documents.
// note: k8s.io/apimachinery's decoder rather than sigs.k8s.io/yaml, which go.mod only
// holds as an indirect dependency.
func splitDocuments(data []byte) ([]map[string]any, error) {
	var docs []map[string]any
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for i := 0; ; i++ {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if m == nil {
			continue // empty, or only comments
		}
		if kind(m) == "" {
			return nil, fmt.Errorf("document %d has no kind", i)
		}
		docs = append(docs, m)
	}
}

func kind(m map[string]any) string {
	k, _ := m["kind"].(string)
	return k
}

func name(m map[string]any) string {
	n, _ := dig(m, "metadata", "name").(string)
	return n
}

func dig(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
