package specs

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1apply "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingapplyv1 "k8s.io/client-go/applyconfigurations/networking/v1"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
)

// NetworkPolicyPeer is one source allowed to reach instance pods: pods matching
// PodSelector in namespaces matching NamespaceSelector. A nil selector matches
// everything on its side; both nil is refused by the operator's flag parsing.
type NetworkPolicyPeer struct {
	NamespaceSelector *metav1.LabelSelector
	PodSelector       *metav1.LabelSelector
}

// NetworkPolicy admits traffic to the instance pod only from the given peers (the
// ingress controller, the operator, monitoring) and the instance's backup Jobs, and only
// on the HTTP and metrics ports
// (the instance's metrics listener is in-cluster only: no Service exposes it). Egress is
// left open: tenants send mail and call S3 and OAuth2 providers.
func NetworkPolicy(pbi *pbv1alpha1.PocketBaseInstance, peers []NetworkPolicyPeer) *networkingapplyv1.NetworkPolicyApplyConfiguration {
	rule := networkingapplyv1.NetworkPolicyIngressRule().
		WithPorts(networkingapplyv1.NetworkPolicyPort().
			WithProtocol(corev1.ProtocolTCP).
			WithPort(intstr.FromInt32(contract.HTTPPort)),
			networkingapplyv1.NetworkPolicyPort().
				WithProtocol(corev1.ProtocolTCP).
				WithPort(intstr.FromInt32(contract.MetricsPort)))
	for _, p := range peers {
		peer := networkingapplyv1.NetworkPolicyPeer()
		if p.NamespaceSelector != nil {
			peer.WithNamespaceSelector(labelSelector(p.NamespaceSelector))
		}
		if p.PodSelector != nil {
			peer.WithPodSelector(labelSelector(p.PodSelector))
		}
		rule.WithFrom(peer)
	}
	spec := networkingapplyv1.NetworkPolicySpec().
		WithPodSelector(metav1LabelSelector(ServingLabels(pbi))).
		WithPolicyTypes(networkingv1.PolicyTypeIngress)
	// note: with no peers the policy denies all ingress but the backups', which is what an
	// empty allow list means.
	if len(peers) > 0 {
		spec.WithIngress(rule)
	}
	// The instance's own backup Jobs, in its namespace, download the snapshot from the
	// HTTP port (contract.BackupPushArgs); restore Jobs never talk to the pod.
	spec.WithIngress(networkingapplyv1.NetworkPolicyIngressRule().
		WithPorts(networkingapplyv1.NetworkPolicyPort().
			WithProtocol(corev1.ProtocolTCP).
			WithPort(intstr.FromInt32(contract.HTTPPort))).
		WithFrom(networkingapplyv1.NetworkPolicyPeer().
			WithPodSelector(metav1LabelSelector(Labels(pbi, ComponentBackup)))))
	return networkingapplyv1.NetworkPolicy(pbi.ChildName(), pbi.Namespace).
		WithLabels(Labels(pbi, ComponentInstance)).
		WithOwnerReferences(ownerReference(pbi)).
		WithSpec(spec)
}

func labelSelector(s *metav1.LabelSelector) *metav1apply.LabelSelectorApplyConfiguration {
	out := metav1apply.LabelSelector()
	if len(s.MatchLabels) > 0 {
		out.WithMatchLabels(s.MatchLabels)
	}
	for _, e := range s.MatchExpressions {
		out.WithMatchExpressions(metav1apply.LabelSelectorRequirement().
			WithKey(e.Key).WithOperator(e.Operator).WithValues(e.Values...))
	}
	return out
}
