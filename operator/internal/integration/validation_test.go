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
		Entry("a backup endpoint that is no URL", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Backup = validBackup()
			p.Spec.Backup.Destination.S3.Endpoint = "s3.example.com"
		}, "spec.backup.destination.s3.endpoint"),
		Entry("a bucket name with capitals", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Backup = validBackup()
			p.Spec.Backup.Destination.S3.Bucket = "Backups"
		}, "spec.backup.destination.s3.bucket"),
		Entry("an absolute prefix", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Backup = validBackup()
			p.Spec.Backup.Destination.S3.Prefix = ptr.To("/tenants/")
		}, "spec.backup.destination.s3.prefix"),
		Entry("a retention age under a minute", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Backup = validBackup()
			p.Spec.Backup.Retention.MaxAge = ptr.To("30s")
		}, "retention.maxAge must be a duration of at least 1m"),
		Entry("a retention age that is no duration", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Backup = validBackup()
			p.Spec.Backup.Retention.MaxAge = ptr.To("a month")
		}, "spec.backup.retention.maxAge"),
		Entry("a retention count of zero", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Backup = validBackup()
			p.Spec.Backup.Retention.KeepLast = ptr.To[int32](0)
		}, "spec.backup.retention.keepLast"),
		Entry("a bootstrap with two sources", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Bootstrap = &pbv1alpha1.BootstrapSpec{
				FromBackup: &pbv1alpha1.LocalBackupReference{Name: "b"},
				FromS3:     &pbv1alpha1.S3BackupSource{S3: validBackup().Destination.S3, Key: "a/b.zip"},
			}
		}, "bootstrap needs exactly one of fromBackup and fromS3"),
		Entry("a bootstrap object that is no zip", func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Bootstrap = &pbv1alpha1.BootstrapSpec{
				FromS3: &pbv1alpha1.S3BackupSource{S3: validBackup().Destination.S3, Key: "a/b.tar"},
			}
		}, "spec.bootstrap.fromS3.key"),
	)

	It("keeps bootstrap and the spec of backups and restores immutable", func() {
		pbi := newInstance(ns, "clone")
		pbi.Spec.Bootstrap = &pbv1alpha1.BootstrapSpec{FromBackup: &pbv1alpha1.LocalBackupReference{Name: "b1"}}
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		pbi = getInstance(ctx, ns, "clone")
		pbi.Spec.Bootstrap.FromBackup.Name = "b2"
		err := k8sClient.Update(ctx, pbi)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("bootstrap is immutable"))
		pbi = getInstance(ctx, ns, "clone")
		pbi.Spec.Bootstrap = nil
		Expect(apierrors.IsInvalid(k8sClient.Update(ctx, pbi))).To(BeTrue())

		backup := &pbv1alpha1.PocketBaseBackup{}
		backup.Namespace, backup.Name, backup.Spec.InstanceName = ns, "b1", "clone"
		Expect(k8sClient.Create(ctx, backup)).To(Succeed())
		// note: the backup reconciler writes the status meanwhile; retry on conflict.
		Eventually(func() error {
			if err := k8sClient.Get(ctx, key(ns, "b1"), backup); err != nil {
				return err
			}
			backup.Spec.InstanceName = "other"
			err = k8sClient.Update(ctx, backup)
			return err
		}, timeout, interval).Should(Satisfy(apierrors.IsInvalid))
		Expect(err.Error()).To(ContainSubstring("a PocketBaseBackup's spec is immutable"))

		restore := &pbv1alpha1.PocketBaseRestore{}
		restore.Namespace, restore.Name = ns, "r1"
		restore.Spec.InstanceName, restore.Spec.BackupName = "clone", "b1"
		Expect(k8sClient.Create(ctx, restore)).To(Succeed())
		// note: the restore reconciler writes the status meanwhile; retry on conflict.
		Eventually(func() error {
			if err := k8sClient.Get(ctx, key(ns, "r1"), restore); err != nil {
				return err
			}
			restore.Spec.BackupName = "b2"
			err = k8sClient.Update(ctx, restore)
			return err
		}, timeout, interval).Should(Satisfy(apierrors.IsInvalid))
		Expect(err.Error()).To(ContainSubstring("a PocketBaseRestore's spec is immutable"))
	})

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

// validBackup is a backup configuration the API server accepts.
func validBackup() *pbv1alpha1.BackupSpec {
	return &pbv1alpha1.BackupSpec{Destination: pbv1alpha1.BackupDestination{S3: pbv1alpha1.S3Destination{
		Endpoint: "http://127.0.0.1:9000", Bucket: "backups",
		CredentialsSecretRef: pbv1alpha1.SecretReference{Name: "s3"},
	}}}
}
