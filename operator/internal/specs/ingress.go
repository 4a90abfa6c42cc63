package specs

import (
	"maps"

	networkingv1 "k8s.io/api/networking/v1"
	networkingapplyv1 "k8s.io/client-go/applyconfigurations/networking/v1"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
)

// StreamingAnnotations keep realtime (Server-Sent Events) responses flowing through
// common Ingress controllers: no response buffering, long read timeouts, and no body
// limit at the proxy (the instance enforces PocketBase's own per-collection limits).
// Traefik and the Gateway-based controllers stream text/event-stream by default.
var StreamingAnnotations = map[string]string{
	"nginx.ingress.kubernetes.io/proxy-buffering":         "off",
	"nginx.ingress.kubernetes.io/proxy-request-buffering": "off",
	"nginx.ingress.kubernetes.io/proxy-read-timeout":      "3600",
	"nginx.ingress.kubernetes.io/proxy-send-timeout":      "3600",
	"nginx.ingress.kubernetes.io/proxy-body-size":         "0",
	"haproxy.org/timeout-server":                          "3600s",
}

// Ingress exposes the instance on spec.ingress.host; nil when no ingress is asked for.
func Ingress(pbi *pbv1alpha1.PocketBaseInstance) *networkingapplyv1.IngressApplyConfiguration {
	spec := pbi.Spec.Ingress
	if spec == nil {
		return nil
	}
	annotations := maps.Clone(StreamingAnnotations)
	maps.Copy(annotations, spec.Annotations)
	path := spec.Path
	if path == "" {
		path = "/"
	}

	ingSpec := networkingapplyv1.IngressSpec().
		WithRules(networkingapplyv1.IngressRule().
			WithHost(spec.Host).
			WithHTTP(networkingapplyv1.HTTPIngressRuleValue().
				WithPaths(networkingapplyv1.HTTPIngressPath().
					WithPath(path).
					WithPathType(networkingv1.PathTypePrefix).
					WithBackend(networkingapplyv1.IngressBackend().
						WithService(networkingapplyv1.IngressServiceBackend().
							WithName(pbi.ChildName()).
							WithPort(networkingapplyv1.ServiceBackendPort().
								WithName(contract.HTTPPortName)))))))
	if spec.ClassName != nil {
		ingSpec.WithIngressClassName(*spec.ClassName)
	}
	if spec.TLSSecretName != nil {
		ingSpec.WithTLS(networkingapplyv1.IngressTLS().
			WithHosts(spec.Host).
			WithSecretName(*spec.TLSSecretName))
	}
	return networkingapplyv1.Ingress(pbi.ChildName(), pbi.Namespace).
		WithLabels(Labels(pbi, ComponentInstance)).
		WithAnnotations(annotations).
		WithOwnerReferences(ownerReference(pbi)).
		WithSpec(ingSpec)
}
