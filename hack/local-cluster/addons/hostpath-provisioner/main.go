// hostpath-provisioner: a dynamic PersistentVolume provisioner for the
// single-node local cluster, built on sigs.k8s.io/sig-storage-lib-external-provisioner.
// It runs on the host (not in a pod, so no image is needed), creates one
// directory per claim under -root and returns a hostPath PV pinned to the node.
// With reclaimPolicy Delete the directory is removed when the PV is released.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v13/controller"
)

type hostPathProvisioner struct {
	root string // every volume directory lives below this
	node string // node name (kubernetes.io/hostname label value)
}

func (p *hostPathProvisioner) Provision(ctx context.Context, o controller.ProvisionOptions) (*corev1.PersistentVolume, controller.ProvisioningState, error) {
	if o.PVC.Spec.VolumeMode != nil && *o.PVC.Spec.VolumeMode == corev1.PersistentVolumeBlock {
		return nil, controller.ProvisioningFinished, errors.New("block volumes are not supported")
	}
	dir := filepath.Join(p.root, fmt.Sprintf("%s-%s-%s", o.PVC.Namespace, o.PVC.Name, o.PVName))
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, controller.ProvisioningFinished, err
	}
	_ = os.Chmod(dir, 0o777) // writable for non-root pods too (test cluster)
	reclaim := corev1.PersistentVolumeReclaimDelete
	if o.StorageClass.ReclaimPolicy != nil {
		reclaim = *o.StorageClass.ReclaimPolicy
	}
	hpType := corev1.HostPathDirectoryOrCreate
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: o.PVName},
		Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeReclaimPolicy: reclaim,
			AccessModes:                   o.PVC.Spec.AccessModes,
			MountOptions:                  o.StorageClass.MountOptions,
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: o.PVC.Spec.Resources.Requests[corev1.ResourceStorage]},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: dir, Type: &hpType},
			},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{p.node},
				}},
			}}}},
		},
	}
	klog.InfoS("provisioned", "pvc", o.PVC.Namespace+"/"+o.PVC.Name, "pv", o.PVName, "dir", dir)
	return pv, controller.ProvisioningFinished, nil
}

func (p *hostPathProvisioner) Delete(ctx context.Context, pv *corev1.PersistentVolume) error {
	if pv.Spec.HostPath == nil {
		return &controller.IgnoredError{Reason: "not a hostPath volume"}
	}
	dir := filepath.Clean(pv.Spec.HostPath.Path)
	if !strings.HasPrefix(dir, filepath.Clean(p.root)+"/") {
		return &controller.IgnoredError{Reason: "path " + dir + " is not under " + p.root}
	}
	klog.InfoS("deleting", "pv", pv.Name, "dir", dir)
	return os.RemoveAll(dir)
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file")
	root := flag.String("root", "/var/lib/pocketfleet-cluster/pv", "directory holding the volumes")
	name := flag.String("name", "pocketfleet.local/hostpath", "provisioner name (StorageClass.provisioner)")
	node := flag.String("node", "pocketfleet-node", "node name")
	klog.InitFlags(nil)
	flag.Parse()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	if err := os.MkdirAll(*root, 0o755); err != nil {
		klog.Fatal(err)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	pc := controller.NewProvisionController(ctx, client, *name, &hostPathProvisioner{root: *root, node: *node},
		controller.LeaderElection(false))
	klog.InfoS("hostpath provisioner running", "name", *name, "root", *root)
	pc.Run(ctx)
}
