package specs

import (
	corev1 "k8s.io/api/core/v1"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
)

// SuperuserSecret is the generated superuser Secret holding the given password. The
// controller applies it only when the Secret does not exist yet, so a password is never
// replaced once it has been handed out.
func SuperuserSecret(pbi *pbv1alpha1.PocketBaseInstance, password string) *corev1apply.SecretApplyConfiguration {
	return corev1apply.Secret(pbi.SuperuserSecretName(), pbi.Namespace).
		WithLabels(Labels(pbi, ComponentSuperuser)).
		WithOwnerReferences(ownerReference(pbi)).
		WithType(corev1.SecretTypeOpaque).
		WithData(map[string][]byte{
			contract.SecretKeyEmail:    []byte(pbi.Spec.Superuser.Email),
			contract.SecretKeyPassword: []byte(password),
		})
}
