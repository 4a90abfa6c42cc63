// Package chart checks the two ways of installing the operator, the Helm chart in
// charts/pocketfleet and the kustomize install in config/default, against a real
// kube-apiserver (envtest): every rendered object must be accepted, the operator pod must
// be locked down, and its ServiceAccount must hold exactly the permissions of the
// generated config/rbac/role.yaml.
//
// The tests need KUBEBUILDER_ASSETS and never skip:
//
//	KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh) go test ./test/chart/...
package chart
