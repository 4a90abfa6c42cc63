//go:build tools

// Package k8s pins the Kubernetes and etcd commands that the project builds from the Go
// module proxy: kube-apiserver and etcd for envtest, the rest for the local e2e cluster.
// It is a module of its own so that the main go.mod never requires k8s.io/kubernetes.
package k8s

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
