package specs

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
)

// Service is the ClusterIP Service in front of the instance pod.
func Service(pbi *pbv1alpha1.PocketBaseInstance) *corev1apply.ServiceApplyConfiguration {
	return corev1apply.Service(pbi.ChildName(), pbi.Namespace).
		WithLabels(Labels(pbi, ComponentInstance)).
		WithOwnerReferences(ownerReference(pbi)).
		WithSpec(corev1apply.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithSelector(ServingLabels(pbi)).
			WithPorts(corev1apply.ServicePort().
				WithName(contract.HTTPPortName).
				WithProtocol(corev1.ProtocolTCP).
				WithAppProtocol("http").
				WithPort(contract.HTTPPort).
				WithTargetPort(intstr.FromString(contract.HTTPPortName))))
}
