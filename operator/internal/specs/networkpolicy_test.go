package specs

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1apply "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingapplyv1 "k8s.io/client-go/applyconfigurations/networking/v1"
)

// wantNetworkPolicy is the policy TestNetworkPolicy expects, written
// out in full.
func wantNetworkPolicy() *networkingapplyv1.NetworkPolicyApplyConfiguration {
	return networkingapplyv1.NetworkPolicy("acme", "team-a").
		WithLabels(map[string]string{
			LabelName: "pocketbase", LabelInstance: "acme", LabelComponent: "instance", LabelManagedBy: "pocketfleet",
		}).
		WithOwnerReferences(wantOwner).
		WithSpec(networkingapplyv1.NetworkPolicySpec().
			WithPodSelector(metav1apply.LabelSelector().WithMatchLabels(map[string]string{LabelName: "pocketbase", LabelInstance: "acme", LabelComponent: "instance"})).
			WithPolicyTypes(networkingv1.PolicyTypeIngress).
			WithIngress(networkingapplyv1.NetworkPolicyIngressRule().
				WithPorts(networkingapplyv1.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(8090)),
					networkingapplyv1.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(9090))).
				WithFrom(networkingapplyv1.NetworkPolicyPeer().
					WithNamespaceSelector(metav1apply.LabelSelector().
						WithMatchLabels(map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"})).
					WithPodSelector(metav1apply.LabelSelector().
						WithMatchExpressions(metav1apply.LabelSelectorRequirement().
							WithKey("app").WithOperator(metav1.LabelSelectorOpIn).WithValues("nginx")))),
				backupJobsRule()))
}

// backupJobsRule admits the instance's own backup Jobs to the HTTP port.
func backupJobsRule() *networkingapplyv1.NetworkPolicyIngressRuleApplyConfiguration {
	return networkingapplyv1.NetworkPolicyIngressRule().
		WithPorts(networkingapplyv1.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(8090))).
		WithFrom(networkingapplyv1.NetworkPolicyPeer().
			WithPodSelector(metav1apply.LabelSelector().WithMatchLabels(map[string]string{
				LabelName: "pocketbase", LabelInstance: "acme", LabelComponent: "backup", LabelManagedBy: "pocketfleet",
			})))
}
