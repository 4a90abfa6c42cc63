package main

import (
	"fmt"

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
