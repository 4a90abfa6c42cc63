package specs

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	metav1apply "k8s.io/client-go/applyconfigurations/meta/v1"
)

// toApply converts a typed API object into its apply configuration. Both share one JSON
// schema by construction (client-go generates the latter from the former), so a round
// trip through JSON is exact and keeps every field the user set, including ones added
// in later Kubernetes versions.
func toApply[A any](typed any) *A {
	raw, err := json.Marshal(typed)
	if err != nil {
		// note: unreachable for API types, which always marshal.
		panic("specs: marshalling " + err.Error())
	}
	out := new(A)
	if err := json.Unmarshal(raw, out); err != nil {
		panic("specs: unmarshalling " + err.Error())
	}
	return out
}

func envVars(env []corev1.EnvVar) []*corev1apply.EnvVarApplyConfiguration {
	out := make([]*corev1apply.EnvVarApplyConfiguration, 0, len(env))
	for i := range env {
		out = append(out, toApply[corev1apply.EnvVarApplyConfiguration](&env[i]))
	}
	return out
}

func toleration(t *corev1.Toleration) *corev1apply.TolerationApplyConfiguration {
	return toApply[corev1apply.TolerationApplyConfiguration](t)
}

func affinity(a *corev1.Affinity) *corev1apply.AffinityApplyConfiguration {
	return toApply[corev1apply.AffinityApplyConfiguration](a)
}

func metav1LabelSelector(match map[string]string) *metav1apply.LabelSelectorApplyConfiguration {
	return metav1apply.LabelSelector().WithMatchLabels(match)
}
