package integration

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

var _ = Describe("PocketBaseInstance validation by the API server", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	DescribeTable("rejects an invalid spec on create with a clear message",
		func(mutate func(*pbv1alpha1.PocketBaseInstance), message string) {
			pbi := newInstance(ns, "bad")
			mutate(pbi)
			err := k8sClient.Create(ctx, pbi)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("image and version together", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Image, p.Spec.Version = ptr.To("example.org/i:v1"), ptr.To("v2")
		}, "image and version are mutually exclusive"),
		Entry("a size that is no quantity", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Storage.Size = "lots"
		}, "storage.size must be a positive quantity"),
		Entry("a zero size", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Storage.Size = "0"
		}, "storage.size must be a positive quantity"),
		Entry("an unknown reclaim policy", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Storage.ReclaimPolicy = "Recycle"
		}, `supported values: "Retain", "Delete"`),
		Entry("a reserved env name", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Env = []corev1.EnvVar{{Name: "PB_SUPERUSER_PASSWORD", Value: "x"}}
		}, "reserved for the operator"),
		Entry("an ingress host that is no DNS name", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Ingress = &pbv1alpha1.IngressSpec{Host: "Not A Host"}
		}, "spec.ingress.host"),
		Entry("an ingress without host", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Ingress = &pbv1alpha1.IngressSpec{}
		}, "spec.ingress.host"),
		Entry("an email without @", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Superuser.Email = "admin"
		}, "spec.superuser.email"),
		Entry("a version that is no tag", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Version = ptr.To("v1 beta")
		}, "spec.version"),
	)

	It("refuses to shrink the volume or change its storage class, and allows growth", func() {
		pbi := newInstance(ns, "grow")
		pbi.Spec.Storage.Size = "2Gi"
		pbi.Spec.Storage.StorageClassName = ptr.To("fast")
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())

		pbi = getInstance(ctx, ns, "grow")
		pbi.Spec.Storage.Size = "1500Mi"
		err := k8sClient.Update(ctx, pbi)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("storage.size cannot be decreased"))

		pbi = getInstance(ctx, ns, "grow")
		pbi.Spec.Storage.StorageClassName = ptr.To("slow")
		err = k8sClient.Update(ctx, pbi)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("storage.storageClassName is immutable"))

		updateInstance(ctx, ns, "grow", func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Storage.Size = "5Gi" })
		Expect(getInstance(ctx, ns, "grow").Spec.Storage.Size).To(Equal("5Gi"))
	})
})
