// Package integration runs the operator's reconciler in a real manager against a real
// kube-apiserver and etcd (controller-runtime envtest). The binaries are built from the
// Go module proxy by hack/envtest-assets.sh; `make test` points KUBEBUILDER_ASSETS at
// them. The suite fails, never skips, when they are missing.
package integration
