package integration

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

// newBackup creates a PocketBaseBackup of instance in the given phase; a completed one
// says where its zip is, as the backup reconciler records it.
func newBackup(ctx context.Context, ns, name, instance string, phase pbv1alpha1.BackupPhase, secret string) *pbv1alpha1.PocketBaseBackup {
	GinkgoHelper()
	createBackup(ctx, ns, name, instance)
	// note: the backup reconciler runs too and may record its own verdict first (the
	// instance may not exist yet); this status replaces it, retried on conflict.
	b := &pbv1alpha1.PocketBaseBackup{}
	Eventually(func() error {
		if err := k8sClient.Get(ctx, key(ns, name), b); err != nil {
			return err
		}
		b.Status = pbv1alpha1.PocketBaseBackupStatus{Phase: phase}
		if phase == pbv1alpha1.BackupCompleted {
			dest := s3Dest(secret)
			dest.Prefix = ptr.To(ns + "/" + instance + "/")
			b.Status.Destination = &dest
			b.Status.Key = ns + "/" + instance + "/" + name + ".zip"
			b.Status.Location = "s3://tenant-backups/" + b.Status.Key
			b.Status.SizeBytes = 4096
			b.Status.SHA256 = "ab12"
			b.Status.CompletedAt = ptr.To(metav1.Now())
		}
		return k8sClient.Status().Update(ctx, b)
	}, timeout, interval).Should(Succeed())
	return b
}

// newRestore creates a PocketBaseRestore of instance from backup.
func newRestore(ctx context.Context, ns, name, instance, backup string) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, &pbv1alpha1.PocketBaseRestore{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       pbv1alpha1.PocketBaseRestoreSpec{InstanceName: instance, BackupName: backup},
	})).To(Succeed())
}

func replicas(ctx context.Context, ns, name string) func() int32 {
	return func() int32 {
		sts := &appsv1.StatefulSet{}
		if err := k8sClient.Get(ctx, key(ns, name), sts); err != nil || sts.Spec.Replicas == nil {
			return -1
		}
		return *sts.Spec.Replicas
	}
}

// observeScaleDown stands in for the StatefulSet controller seeing the current spec.
func observeScaleDown(ctx context.Context, ns, name string) {
	EventuallyWithOffset(1, func() error {
		sts := &appsv1.StatefulSet{}
		if err := k8sClient.Get(ctx, key(ns, name), sts); err != nil {
			return err
		}
		sts.Status.ObservedGeneration = sts.Generation
		sts.Status.Replicas, sts.Status.ReadyReplicas, sts.Status.AvailableReplicas = 0, 0, 0
		sts.Status.CurrentReplicas, sts.Status.UpdatedReplicas = 0, 0
		return k8sClient.Status().Update(ctx, sts)
	}, timeout, interval).Should(Succeed())
}

func jobExists(ctx context.Context, ns, name string) func() bool {
	return func() bool { return k8sClient.Get(ctx, key(ns, name), &batchv1.Job{}) == nil }
}

// expectRestoreJob checks the Job restores key into the instance's volume, controlled
// by the given owner, with the instance image and the bucket's settings.
func expectRestoreJob(job *batchv1.Job, instance, key string, ifEmpty bool, ownerKind, ownerName string) {
	GinkgoHelper()
	Expect(job.OwnerReferences).To(ConsistOf(And(
		HaveField("Kind", ownerKind), HaveField("Name", ownerName), HaveField("Controller", ptr.To(true)))))
	Expect(*job.Spec.BackoffLimit).To(BeZero())
	pod := job.Spec.Template.Spec
	Expect(pod.Containers).To(HaveLen(1))
	c := pod.Containers[0]
	Expect(c.Image).To(Equal(testImage))
	Expect(c.Command).To(Equal([]string{contract.BinaryPath}))
	Expect(c.Args).To(Equal(contract.BackupRestoreArgs(contract.DataDir, key, ifEmpty)))
	Expect(c.TerminationMessagePolicy).To(Equal(corev1.TerminationMessageFallbackToLogsOnError))
	Expect(c.Env).To(ContainElements(
		corev1.EnvVar{Name: contract.EnvS3Endpoint, Value: "http://s3.storage.svc:9000"},
		corev1.EnvVar{Name: contract.EnvS3Bucket, Value: "tenant-backups"},
		corev1.EnvVar{Name: contract.EnvS3Region, Value: "eu-west-1"},
		corev1.EnvVar{Name: contract.EnvS3ForcePathStyle, Value: "true"},
		HaveField("ValueFrom.SecretKeyRef.Key", contract.SecretKeyS3AccessKeyID),
		HaveField("ValueFrom.SecretKeyRef.Key", contract.SecretKeyS3SecretAccessKey),
	))
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			Expect(e.ValueFrom.SecretKeyRef.Name).To(Equal("s3-creds"))
		}
	}
	Expect(c.VolumeMounts).To(ContainElement(And(HaveField("MountPath", contract.DataDir), HaveField("Name", "data"))))
	Expect(pod.Volumes).To(ContainElement(And(HaveField("Name", "data"),
		HaveField("VolumeSource.PersistentVolumeClaim.ClaimName", instance+"-data"))))
	Expect(pod.RestartPolicy).To(Equal(corev1.RestartPolicyNever))
	Expect(job.Spec.Template.Labels).To(HaveKeyWithValue(specs.LabelComponent, specs.ComponentRestore))
}

var _ = Describe("PocketBaseRestore", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
	})

	// runningInstance creates an instance whose pod is up and ready.
	runningInstance := func(name string) {
		GinkgoHelper()
		startReady(ctx, newInstance(ns, name))
	}

	It("stops the instance, runs the Job only once its pod is gone, and starts it again on the restored data", func() {
		newCredentials(ctx, ns, "s3-creds", contract.SecretKeyS3AccessKeyID, contract.SecretKeyS3SecretAccessKey)
		b := newBackup(ctx, ns, "acme-20261127", "acme", pbv1alpha1.BackupCompleted, "s3-creds")
		runningInstance("acme")

		By("marking the restore Running and scaling the StatefulSet to zero")
		newRestore(ctx, ns, "undo", "acme", b.Name)
		rs := eventuallyPhase[pbv1alpha1.PocketBaseRestore](ctx, ns, "undo", pbv1alpha1.BackupRunning)
		Expect(rs.Status.StartedAt).NotTo(BeNil())
		Eventually(replicas(ctx, ns, "acme"), timeout, interval).Should(BeZero())
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionReady, metav1.ConditionFalse, pbv1alpha1.ReasonRestoring)
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, pbv1alpha1.ReasonRestoring)

		By("creating no Job while a pod of the instance exists")
		observeScaleDown(ctx, ns, "acme")
		Eventually(func() string { return get[pbv1alpha1.PocketBaseRestore](ctx, ns, "undo").Status.Message }, timeout, interval).
			Should(Equal("Waiting for pod acme-0 to stop."))
		Consistently(jobExists(ctx, ns, "undo-restore"), 2*time.Second, interval).Should(BeFalse())

		By("creating the Job once the pod is gone")
		deletePodNow(ctx, ns, "acme-0")
		Eventually(jobExists(ctx, ns, "undo-restore"), timeout, interval).Should(BeTrue())
		job := &batchv1.Job{}
		Expect(k8sClient.Get(ctx, key(ns, "undo-restore"), job)).To(Succeed())
		expectRestoreJob(job, "acme", b.Status.Key, false, "PocketBaseRestore", "undo")
		Eventually(func() string { return get[pbv1alpha1.PocketBaseRestore](ctx, ns, "undo").Status.JobName }, timeout, interval).Should(Equal("undo-restore"))

		By("holding the instance while the Job runs")
		Consistently(replicas(ctx, ns, "acme"), time.Second, interval).Should(BeZero())

		By("recording the Job's result and starting the instance again")
		finishJob(ctx, ns, "undo-restore", true, resultJSON(contract.BackupResult{
			Key: b.Status.Key, SizeBytes: 4096, SHA256: "ab12", CompletedAt: "2026-11-27T10:00:00Z",
		}))
		rs = eventuallyPhase[pbv1alpha1.PocketBaseRestore](ctx, ns, "undo", pbv1alpha1.BackupCompleted)
		Expect(rs.Status.CompletedAt).NotTo(BeNil())
		Expect(rs.Status.Message).To(ContainSubstring("sha256 ab12"))
		Eventually(replicas(ctx, ns, "acme"), timeout, interval).Should(BeEquivalentTo(1))
		simulatePodReady(ctx, ns, "acme")
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionDegraded, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected)
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseRestore", "undo") }, timeout, interval).
			Should(ContainElements(HavePrefix("Normal/RestoreStarted: "), HavePrefix("Normal/RestoreCompleted: ")))
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseInstance", "acme") }, timeout, interval).
			Should(ContainElements(HavePrefix("Normal/RestoreStarted: "), HavePrefix("Normal/RestoreCompleted: ")))

		By("writing nothing on idle passes, and never changing a final phase")
		before := get[pbv1alpha1.PocketBaseRestore](ctx, ns, "undo")
		pbiBefore := getInstance(ctx, ns, "acme")
		touchPod(ctx, ns, "acme-0")
		Expect(k8sClient.Patch(ctx, before.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"poke":"1"}}}`)))).To(Succeed())
		poked := get[pbv1alpha1.PocketBaseRestore](ctx, ns, "undo")
		Consistently(func(g Gomega) {
			g.Expect(get[pbv1alpha1.PocketBaseRestore](ctx, ns, "undo").ResourceVersion).To(Equal(poked.ResourceVersion))
			g.Expect(getInstance(ctx, ns, "acme").ResourceVersion).To(Equal(pbiBefore.ResourceVersion))
		}, 2*time.Second, interval).Should(Succeed())
		Expect(poked.Status).To(Equal(before.Status))
	})

	It("fails when the Job fails, starts the instance again on its old data and reports Degraded RestoreFailed", func() {
		newCredentials(ctx, ns, "s3-creds", contract.SecretKeyS3AccessKeyID, contract.SecretKeyS3SecretAccessKey)
		b := newBackup(ctx, ns, "acme-20261127", "acme", pbv1alpha1.BackupCompleted, "s3-creds")
		runningInstance("acme")
		newRestore(ctx, ns, "undo", "acme", b.Name)
		Eventually(replicas(ctx, ns, "acme"), timeout, interval).Should(BeZero())
		observeScaleDown(ctx, ns, "acme")
		deletePodNow(ctx, ns, "acme-0")
		Eventually(jobExists(ctx, ns, "undo-restore"), timeout, interval).Should(BeTrue())

		finishJob(ctx, ns, "undo-restore", false, resultJSON(contract.BackupResult{
			Key: b.Status.Key, Error: "verifying backup: sha256 mismatch: manifest says ab12, got cd34",
		}))
		rs := eventuallyPhase[pbv1alpha1.PocketBaseRestore](ctx, ns, "undo", pbv1alpha1.BackupFailed)
		Expect(rs.Status.Message).To(ContainSubstring("sha256 mismatch"))
		Expect(rs.Status.Message).To(ContainSubstring("not changed"))
		Expect(rs.Status.CompletedAt).NotTo(BeNil())
		Eventually(replicas(ctx, ns, "acme"), timeout, interval).Should(BeEquivalentTo(1))
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, pbv1alpha1.ReasonRestoreFailed)
		Expect(condition(ctx, ns, "acme", pbv1alpha1.ConditionDegraded).Message).To(ContainSubstring("sha256 mismatch"))
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseRestore", "undo") }, timeout, interval).
			Should(ContainElement(HavePrefix("Warning/RestoreFailed: ")))
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseInstance", "acme") }, timeout, interval).
			Should(ContainElement(HavePrefix("Warning/RestoreFailed: ")))

		By("serving again while still Degraded")
		simulatePodReady(ctx, ns, "acme")
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, pbv1alpha1.ReasonRestoreFailed)

		By("clearing Degraded after the failure window")
		clockOffset.Store(int64(61 * time.Minute))
		DeferCleanup(func() { clockOffset.Store(0) })
		touchPod(ctx, ns, "acme-0")
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionDegraded, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected)
	})

	It("refuses a restore it cannot run, with a clear message, and leaves the instance untouched", func() {
		newCredentials(ctx, ns, "s3-creds", contract.SecretKeyS3AccessKeyID, contract.SecretKeyS3SecretAccessKey)
		newCredentials(ctx, ns, "half-creds", contract.SecretKeyS3AccessKeyID)
		// note: a Failed backup, which the backup reconciler leaves alone (a fake Running one
		// without a Job it would fail as vanished).
		newBackup(ctx, ns, "broken", "acme", pbv1alpha1.BackupFailed, "s3-creds")
		newBackup(ctx, ns, "no-creds", "acme", pbv1alpha1.BackupCompleted, "missing-creds")
		newBackup(ctx, ns, "half", "acme", pbv1alpha1.BackupCompleted, "half-creds")
		runningInstance("acme")
		sts := &appsv1.StatefulSet{}
		Expect(k8sClient.Get(ctx, key(ns, "acme"), sts)).To(Succeed())

		cases := []struct{ restore, instance, backup, message string }{
			{"missing-backup", "acme", "nope", `PocketBaseBackup "nope" does not exist`},
			{"not-completed", "acme", "broken", `PocketBaseBackup "broken" has not completed (phase Failed)`},
			{"missing-secret", "acme", "no-creds", `Secret "missing-creds" does not exist`},
			{"missing-key", "acme", "half", `lacks the key(s) secretAccessKey`},
			{"missing-instance", "ghost", "half", `PocketBaseInstance "ghost" does not exist`},
		}
		for _, tc := range cases {
			newRestore(ctx, ns, tc.restore, tc.instance, tc.backup)
		}
		for _, tc := range cases {
			rs := eventuallyPhase[pbv1alpha1.PocketBaseRestore](ctx, ns, tc.restore, pbv1alpha1.BackupFailed)
			Expect(rs.Status.Message).To(ContainSubstring(tc.message), tc.restore)
			Expect(rs.Status.StartedAt).To(BeNil(), tc.restore)
			Expect(rs.Status.JobName).To(BeEmpty(), tc.restore)
			Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseRestore", tc.restore) }, timeout, interval).
				Should(ContainElement(HavePrefix("Warning/RestoreRejected: ")), tc.restore)
		}
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseInstance", "acme") }, timeout, interval).
			Should(ContainElement(HavePrefix("Warning/RestoreRejected: ")))

		By("leaving the instance running and not Degraded")
		Consistently(func(g Gomega) {
			g.Expect(replicas(ctx, ns, "acme")()).To(BeEquivalentTo(1))
			g.Expect(condition(ctx, ns, "acme", pbv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(condition(ctx, ns, "acme", pbv1alpha1.ConditionDegraded).Status).To(Equal(metav1.ConditionFalse))
		}, 2*time.Second, interval).Should(Succeed())
		Expect(k8sClient.Get(ctx, key(ns, "acme"), &appsv1.StatefulSet{})).To(Succeed())
		list := &batchv1.JobList{}
		Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		Expect(list.Items).To(BeEmpty())

		By("refusing a second restore of an instance while one runs")
		newBackup(ctx, ns, "good", "acme", pbv1alpha1.BackupCompleted, "s3-creds")
		newRestore(ctx, ns, "first", "acme", "good")
		eventuallyPhase[pbv1alpha1.PocketBaseRestore](ctx, ns, "first", pbv1alpha1.BackupRunning)
		newRestore(ctx, ns, "second", "acme", "good")
		rs := eventuallyPhase[pbv1alpha1.PocketBaseRestore](ctx, ns, "second", pbv1alpha1.BackupFailed)
		Expect(rs.Status.Message).To(ContainSubstring("Restore first of instance acme is running"))
		Expect(get[pbv1alpha1.PocketBaseRestore](ctx, ns, "first").Status.Phase).To(Equal(pbv1alpha1.BackupRunning))
	})

	It("starts the instance again when a Running restore is deleted, once the restore pod has stopped, and never runs two restore pods", func() {
		newCredentials(ctx, ns, "s3-creds", contract.SecretKeyS3AccessKeyID, contract.SecretKeyS3SecretAccessKey)
		b := newBackup(ctx, ns, "acme-20261127", "acme", pbv1alpha1.BackupCompleted, "s3-creds")
		runningInstance("acme")
		newRestore(ctx, ns, "undo", "acme", b.Name)
		Eventually(replicas(ctx, ns, "acme"), timeout, interval).Should(BeZero())
		observeScaleDown(ctx, ns, "acme")
		deletePodNow(ctx, ns, "acme-0")
		Eventually(jobExists(ctx, ns, "undo-restore"), timeout, interval).Should(BeTrue())
		job := &batchv1.Job{}
		Expect(k8sClient.Get(ctx, key(ns, "undo-restore"), job)).To(Succeed())

		By("keeping the instance stopped while the restore pod still runs")
		labels := map[string]string{batchv1.JobNameLabel: job.Name}
		for k, v := range job.Spec.Template.Labels {
			labels[k] = v
		}
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "undo-restore-q9z", Labels: labels},
			Spec: *job.Spec.Template.Spec.DeepCopy()}
		Expect(k8sClient.Create(ctx, pod)).To(Succeed())
		setPodStatus(ctx, ns, pod.Name, corev1.PodStatus{Phase: corev1.PodRunning})
		Expect(k8sClient.Delete(ctx, get[pbv1alpha1.PocketBaseRestore](ctx, ns, "undo"))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, "undo"), &pbv1alpha1.PocketBaseRestore{}))
		}, timeout, interval).Should(BeTrue())
		Consistently(replicas(ctx, ns, "acme"), 2*time.Second, interval).Should(BeZero())
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionReady, metav1.ConditionFalse, pbv1alpha1.ReasonRestoring)

		By("running no second restore Job while that pod runs")
		newRestore(ctx, ns, "again", "acme", b.Name)
		eventuallyPhase[pbv1alpha1.PocketBaseRestore](ctx, ns, "again", pbv1alpha1.BackupRunning)
		Eventually(func() string { return get[pbv1alpha1.PocketBaseRestore](ctx, ns, "again").Status.Message }, timeout, interval).
			Should(Equal("Waiting for restore pod undo-restore-q9z to finish."))
		Consistently(jobExists(ctx, ns, "again-restore"), 2*time.Second, interval).Should(BeFalse())

		By("running it once the pod is gone, and starting the instance after it")
		deletePodNow(ctx, ns, pod.Name)
		Eventually(jobExists(ctx, ns, "again-restore"), timeout, interval).Should(BeTrue())
		Expect(replicas(ctx, ns, "acme")()).To(BeZero())
		finishJob(ctx, ns, "again-restore", true, resultJSON(contract.BackupResult{Key: b.Status.Key, SizeBytes: 4096, SHA256: "ab12"}))
		eventuallyPhase[pbv1alpha1.PocketBaseRestore](ctx, ns, "again", pbv1alpha1.BackupCompleted)
		Eventually(replicas(ctx, ns, "acme"), timeout, interval).Should(BeEquivalentTo(1))
	})
})

var _ = Describe("PocketBaseInstance bootstrap", func() {
	var (
		ctx context.Context
		ns  string
	)
	BeforeEach(func() {
		ctx = context.Background()
		ns = newNamespace(ctx)
		newCredentials(ctx, ns, "s3-creds", contract.SecretKeyS3AccessKeyID, contract.SecretKeyS3SecretAccessKey)
	})

	It("clones a backup into a new instance before its first start", func() {
		b := newBackup(ctx, ns, "other-20261126", "other", pbv1alpha1.BackupCompleted, "s3-creds")
		pbi := newInstance(ns, "clone")
		pbi.Spec.Bootstrap = &pbv1alpha1.BootstrapSpec{FromBackup: &pbv1alpha1.LocalBackupReference{Name: b.Name}}
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())

		By("creating the volume and holding the StatefulSet at zero while the Job runs")
		eventuallyGet(ctx, key(ns, "clone-data"), &corev1.PersistentVolumeClaim{})
		Eventually(replicas(ctx, ns, "clone"), timeout, interval).Should(BeZero())
		eventuallyCondition(ctx, ns, "clone", pbv1alpha1.ConditionReady, metav1.ConditionFalse, pbv1alpha1.ReasonRestoring)
		eventuallyCondition(ctx, ns, "clone", pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, pbv1alpha1.ReasonRestoring)
		Eventually(jobExists(ctx, ns, "clone-bootstrap"), timeout, interval).Should(BeTrue())
		job := &batchv1.Job{}
		Expect(k8sClient.Get(ctx, key(ns, "clone-bootstrap"), job)).To(Succeed())
		expectRestoreJob(job, "clone", b.Status.Key, true, "PocketBaseInstance", "clone")
		Consistently(replicas(ctx, ns, "clone"), time.Second, interval).Should(BeZero())
		Expect(getInstance(ctx, ns, "clone").Status.Bootstrapped).To(BeFalse())

		By("setting bootstrapped and starting the instance once the Job succeeded")
		finishJob(ctx, ns, "clone-bootstrap", true, resultJSON(contract.BackupResult{Key: b.Status.Key, SizeBytes: 4096, SHA256: "ab12"}))
		Eventually(func() bool { return getInstance(ctx, ns, "clone").Status.Bootstrapped }, timeout, interval).Should(BeTrue())
		Eventually(replicas(ctx, ns, "clone"), timeout, interval).Should(BeEquivalentTo(1))
		simulatePodReady(ctx, ns, "clone")
		eventuallyCondition(ctx, ns, "clone", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseInstance", "clone") }, timeout, interval).
			Should(ContainElements(HavePrefix("Normal/BootstrapStarted: "), HavePrefix("Normal/Bootstrapped: ")))

		By("never restoring again, even with the Job gone and bootstrap still in the spec")
		Expect(k8sClient.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
		Eventually(jobExists(ctx, ns, "clone-bootstrap"), timeout, interval).Should(BeFalse())
		touchPod(ctx, ns, "clone-0")
		Consistently(func(g Gomega) {
			g.Expect(jobExists(ctx, ns, "clone-bootstrap")()).To(BeFalse())
			g.Expect(replicas(ctx, ns, "clone")()).To(BeEquivalentTo(1))
		}, 2*time.Second, interval).Should(Succeed())
	})

	It("restores a backup named in S3 and starts the instance when the volume already held data", func() {
		pbi := newInstance(ns, "fromkey")
		pbi.Spec.Bootstrap = &pbv1alpha1.BootstrapSpec{FromS3: &pbv1alpha1.S3BackupSource{
			S3: s3Dest("s3-creds"), Key: "team-b/acme/acme-20261127t030000z.zip",
		}}
		// The key names the backup whole: a prefix in the source is not put before it.
		pbi.Spec.Bootstrap.FromS3.S3.Prefix = ptr.To("ignored/")
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		Eventually(jobExists(ctx, ns, "fromkey-bootstrap"), timeout, interval).Should(BeTrue())
		job := &batchv1.Job{}
		Expect(k8sClient.Get(ctx, key(ns, "fromkey-bootstrap"), job)).To(Succeed())
		expectRestoreJob(job, "fromkey", "team-b/acme/acme-20261127t030000z.zip", true, "PocketBaseInstance", "fromkey")
		Expect(replicas(ctx, ns, "fromkey")()).To(BeZero())

		finishJob(ctx, ns, "fromkey-bootstrap", true, resultJSON(contract.BackupResult{Skipped: true}))
		Eventually(func() bool { return getInstance(ctx, ns, "fromkey").Status.Bootstrapped }, timeout, interval).Should(BeTrue())
		Eventually(replicas(ctx, ns, "fromkey"), timeout, interval).Should(BeEquivalentTo(1))
	})

	It("keeps the instance stopped while the source is invalid", func() {
		pbi := newInstance(ns, "orphan")
		pbi.Spec.Bootstrap = &pbv1alpha1.BootstrapSpec{FromBackup: &pbv1alpha1.LocalBackupReference{Name: "gone"}}
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		eventuallyCondition(ctx, ns, "orphan", pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, pbv1alpha1.ReasonBootstrapSourceInvalid)
		Expect(condition(ctx, ns, "orphan", pbv1alpha1.ConditionDegraded).Message).To(ContainSubstring(`PocketBaseBackup "gone" does not exist`))
		eventuallyCondition(ctx, ns, "orphan", pbv1alpha1.ConditionReady, metav1.ConditionFalse, pbv1alpha1.ReasonBootstrapSourceInvalid)
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseInstance", "orphan") }, timeout, interval).
			Should(ContainElement(HavePrefix("Warning/" + pbv1alpha1.ReasonBootstrapSourceInvalid + ": ")))
		Consistently(func(g Gomega) {
			g.Expect(replicas(ctx, ns, "orphan")()).To(BeZero())
			g.Expect(jobExists(ctx, ns, "orphan-bootstrap")()).To(BeFalse())
		}, 2*time.Second, interval).Should(Succeed())

		By("refusing an in-place restore of an instance not bootstrapped yet")
		newBackup(ctx, ns, "some", "other", pbv1alpha1.BackupCompleted, "s3-creds")
		newRestore(ctx, ns, "early", "orphan", "some")
		rs := eventuallyPhase[pbv1alpha1.PocketBaseRestore](ctx, ns, "early", pbv1alpha1.BackupFailed)
		Expect(rs.Status.Message).To(ContainSubstring("still being bootstrapped"))

		By("refusing a source whose credentials Secret is missing")
		dest := s3Dest("nowhere")
		other := newInstance(ns, "nocreds")
		other.Spec.Bootstrap = &pbv1alpha1.BootstrapSpec{FromS3: &pbv1alpha1.S3BackupSource{S3: dest, Key: "a/b.zip"}}
		Expect(k8sClient.Create(ctx, other)).To(Succeed())
		eventuallyCondition(ctx, ns, "nocreds", pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, pbv1alpha1.ReasonBootstrapSourceInvalid)
		Expect(condition(ctx, ns, "nocreds", pbv1alpha1.ConditionDegraded).Message).To(ContainSubstring(`Secret "nowhere" does not exist`))
		Expect(replicas(ctx, ns, "nocreds")()).To(BeZero())
	})

	It("keeps the instance stopped with Degraded RestoreFailed when the Job fails, and retries when the Job is deleted", func() {
		b := newBackup(ctx, ns, "other-20261126", "other", pbv1alpha1.BackupCompleted, "s3-creds")
		pbi := newInstance(ns, "clone")
		pbi.Spec.Bootstrap = &pbv1alpha1.BootstrapSpec{FromBackup: &pbv1alpha1.LocalBackupReference{Name: b.Name}}
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		Eventually(jobExists(ctx, ns, "clone-bootstrap"), timeout, interval).Should(BeTrue())

		finishJob(ctx, ns, "clone-bootstrap", false, "panic: runtime error: invalid memory address\ngoroutine 1 [running]:")
		eventuallyCondition(ctx, ns, "clone", pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, pbv1alpha1.ReasonRestoreFailed)
		msg := condition(ctx, ns, "clone", pbv1alpha1.ConditionDegraded).Message
		Expect(msg).To(ContainSubstring("its log ends with: panic: runtime error"))
		Expect(msg).To(ContainSubstring("delete the Job to try again"))
		eventuallyCondition(ctx, ns, "clone", pbv1alpha1.ConditionReady, metav1.ConditionFalse, pbv1alpha1.ReasonRestoreFailed)
		Consistently(replicas(ctx, ns, "clone"), 2*time.Second, interval).Should(BeZero())
		Expect(getInstance(ctx, ns, "clone").Status.Bootstrapped).To(BeFalse())

		By("running a new Job once the failed one is deleted and the StatefulSet is seen at zero")
		observeScaleDown(ctx, ns, "clone")
		old := &batchv1.Job{}
		Expect(k8sClient.Get(ctx, key(ns, "clone-bootstrap"), old)).To(Succeed())
		Expect(k8sClient.Delete(ctx, old, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
		deletePodNow(ctx, ns, "clone-bootstrap-x7k2p")
		Eventually(func() bool {
			j := &batchv1.Job{}
			return k8sClient.Get(ctx, key(ns, "clone-bootstrap"), j) == nil && j.UID != old.UID
		}, timeout, interval).Should(BeTrue())
		finishJob(ctx, ns, "clone-bootstrap", true, resultJSON(contract.BackupResult{Key: b.Status.Key, SizeBytes: 4096, SHA256: "ab12"}))
		Eventually(func() bool { return getInstance(ctx, ns, "clone").Status.Bootstrapped }, timeout, interval).Should(BeTrue())
		Eventually(replicas(ctx, ns, "clone"), timeout, interval).Should(BeEquivalentTo(1))
	})
})
