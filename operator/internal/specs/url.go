package specs

import (
	"fmt"
	"strings"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
)

// URL is where clients reach the tenant: the Ingress host when one is configured,
// otherwise the in-cluster Service address.
func URL(pbi *pbv1alpha1.PocketBaseInstance) string {
	if ing := pbi.Spec.Ingress; ing != nil {
		scheme := "http"
		if ing.TLSSecretName != nil {
			scheme = "https"
		}
		path := strings.TrimSuffix(ing.Path, "/")
		return fmt.Sprintf("%s://%s%s", scheme, ing.Host, path)
	}
	return fmt.Sprintf("http://%s.%s.svc:%d", pbi.ChildName(), pbi.Namespace, contract.HTTPPort)
}

// Image resolves the instance image: spec.image, else the default repository with
// spec.version as tag, else the default image.
func Image(pbi *pbv1alpha1.PocketBaseInstance, defaultImage string) string {
	if pbi.Spec.Image != nil {
		return *pbi.Spec.Image
	}
	if pbi.Spec.Version != nil {
		return repository(defaultImage) + ":" + *pbi.Spec.Version
	}
	return defaultImage
}

// repository strips the tag or digest of an image reference, leaving a registry port
// alone ("host:5000/img:tag" gives "host:5000/img").
func repository(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		ref = ref[:colon]
	}
	return ref
}
