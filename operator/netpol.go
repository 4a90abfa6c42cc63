package main

import (
	"flag"
	"fmt"
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

// networkPolicyFlags configure the per-instance NetworkPolicy: who may reach tenants.
// Selectors use the kubectl label-selector syntax ("a=b,c in (d,e)").
type networkPolicyFlags struct {
	enabled              bool
	ingressNamespaces    string
	ingressPods          string
	operatorNamespace    string
	operatorPods         string
	monitoringNamespaces string
	monitoringPods       string
}

func (f *networkPolicyFlags) bind(fs *flag.FlagSet) {
	fs.BoolVar(&f.enabled, "network-policy", false,
		"Give every instance a NetworkPolicy that admits traffic on its HTTP port only from the ingress controller, the operator and monitoring.")
	fs.StringVar(&f.ingressNamespaces, "network-policy-ingress-namespaces", "kubernetes.io/metadata.name=ingress-nginx",
		"Label selector of the namespaces the ingress controller runs in.")
	fs.StringVar(&f.ingressPods, "network-policy-ingress-pods", "",
		"Label selector of the ingress controller pods in those namespaces; empty allows every pod there.")
	fs.StringVar(&f.operatorNamespace, "network-policy-operator-namespace", os.Getenv("POD_NAMESPACE"),
		"Namespace of the operator, whose pods may reach instances; empty leaves the operator out.")
	fs.StringVar(&f.operatorPods, "network-policy-operator-pods", "app.kubernetes.io/component=controller-manager",
		"Label selector of the operator pods in its namespace.")
	fs.StringVar(&f.monitoringNamespaces, "network-policy-monitoring-namespaces", "",
		"Label selector of the namespaces the metrics scraper runs in; empty leaves monitoring out.")
	fs.StringVar(&f.monitoringPods, "network-policy-monitoring-pods", "",
		"Label selector of the metrics scraper pods in those namespaces; empty allows every pod there.")
}

// peers turns the flags into NetworkPolicy peers; nil when network policies are off.
func (f *networkPolicyFlags) peers() ([]specs.NetworkPolicyPeer, error) {
	if !f.enabled {
		return nil, nil
	}
	peers := []specs.NetworkPolicyPeer{}
	add := func(what, ns, pods string) error {
		if ns == "" {
			return nil
		}
		nsSel, err := metav1.ParseToLabelSelector(ns)
		if err != nil {
			return fmt.Errorf("%s namespace selector %q: %w", what, ns, err)
		}
		peer := specs.NetworkPolicyPeer{NamespaceSelector: nsSel}
		if pods != "" {
			if peer.PodSelector, err = metav1.ParseToLabelSelector(pods); err != nil {
				return fmt.Errorf("%s pod selector %q: %w", what, pods, err)
			}
		}
		peers = append(peers, peer)
		return nil
	}
	operatorNS := ""
	if f.operatorNamespace != "" {
		operatorNS = "kubernetes.io/metadata.name=" + f.operatorNamespace
	}
	for _, p := range []struct{ what, ns, pods string }{
		{"ingress", f.ingressNamespaces, f.ingressPods},
		{"operator", operatorNS, f.operatorPods},
		{"monitoring", f.monitoringNamespaces, f.monitoringPods},
	} {
		if err := add(p.what, p.ns, p.pods); err != nil {
			return nil, err
		}
	}
	return peers, nil
}
