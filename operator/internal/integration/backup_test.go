package integration

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/operator/internal/controller"
	"github.com/pocketfleet/pocketfleet/operator/internal/metrics"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

// backupClock is the backup controllers' clock: real time moved by an offset, so a spec
// can stand just before a schedule time and let the scheduler's own requeue reach it.
var backupClockOffset atomic.Int64

func backupNow() time.Time { return time.Now().Add(time.Duration(backupClockOffset.Load())) }

// passMinute moves the backup controllers' clock a minute forward, as the time between
// two backups of a real instance: finish times are recorded to the second.
func passMinute() { backupClockOffset.Add(int64(time.Minute)) }

// backupRegistry holds the backup metrics of every test manager (one registration for
// the process, as the operator's registry has).
var (
	backupRegistry = prometheus.NewRegistry()
	backupMetrics  = func() *metrics.Backups {
		b, err := metrics.NewBackups(backupRegistry)
		if err != nil {
			panic(err)
		}
		return b
	}()
)

// setupBackupControllers registers the backup controllers as operator/main.go does.
func setupBackupControllers(mgr ctrl.Manager, image string) error {
	return controller.SetupBackupControllers(mgr, &controller.PocketBaseBackupReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Recorder:                mgr.GetEventRecorder("pocketfleet-operator"),
		DefaultImage:            image,
		Metrics:                 backupMetrics,
		MaxConcurrentReconciles: 4,
		Now:                     backupNow,
	}, &controller.BackupScheduleReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Recorder:                mgr.GetEventRecorder("pocketfleet-operator"),
		MaxConcurrentReconciles: 4,
		Now:                     backupNow,
	})
}

// backupsTotal reads pocketfleet_backups_total{result} from the registry.
func backupsTotal(result string) float64 {
	mfs, err := backupRegistry.Gather()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	for _, mf := range mfs {
		if mf.GetName() != metrics.BackupsTotalMetric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// s3Creds names the S3 credentials Secret of the backup specs.
const s3Creds = "s3-creds"

// backupSpec backs an instance up to s3Dest with the s3Creds Secret.
func backupSpec() *pbv1alpha1.BackupSpec {
	return &pbv1alpha1.BackupSpec{Destination: pbv1alpha1.BackupDestination{S3: s3Dest(s3Creds)}}
}

// readyInstanceWithBackups creates an instance backed up as backupSpec, with its
// credentials Secret, and brings it to Ready.
func readyInstanceWithBackups(ctx context.Context, ns, name string, change func(*pbv1alpha1.BackupSpec)) {
	GinkgoHelper()
	newCredentials(ctx, ns, s3Creds, contract.SecretKeyS3AccessKeyID, contract.SecretKeyS3SecretAccessKey)
	pbi := newInstance(ns, name)
	pbi.Spec.Backup = backupSpec()
	if change != nil {
		change(pbi.Spec.Backup)
	}
	startReady(ctx, pbi)
}

// createBackup creates a PocketBaseBackup of instance.
func createBackup(ctx context.Context, ns, name, instance string) {
	GinkgoHelper()
	Expect(k8sClient.Create(ctx, &pbv1alpha1.PocketBaseBackup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       pbv1alpha1.PocketBaseBackupSpec{InstanceName: instance},
	})).To(Succeed())
}

// runBackup creates a backup and completes it through its Job.
func runBackup(ctx context.Context, ns, name, instance string) {
	GinkgoHelper()
	passMinute()
	createBackup(ctx, ns, name, instance)
	b := eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, name, pbv1alpha1.BackupRunning)
	finishJob(ctx, ns, b.Status.JobName, true, resultJSON(pushResult(ns, instance, name, 1234)))
	eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, name, pbv1alpha1.BackupCompleted)
}

// backupStatus reads the instance's status.backup and BackupHealthy condition.
func backupHealth(ctx context.Context, ns, name string) (*pbv1alpha1.BackupStatus, *metav1.Condition) {
	pbi := getInstance(ctx, ns, name)
	return pbi.Status.Backup, meta.FindStatusCondition(pbi.Status.Conditions, string(pbv1alpha1.ConditionBackupHealthy))
}

func eventuallyBackupHealth(ctx context.Context, ns, name string, s metav1.ConditionStatus, reason string) {
	EventuallyWithOffset(1, func(g Gomega) {
		_, c := backupHealth(ctx, ns, name)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(s), "BackupHealthy: %s", c.Message)
		g.Expect(c.Reason).To(Equal(reason), "BackupHealthy: %s", c.Message)
	}, timeout, interval).Should(Succeed())
}

var _ = Describe("PocketBaseBackup", func() {
	BeforeEach(func() {
		backupClockOffset.Store(0)
		DeferCleanup(func() { backupClockOffset.Store(0) })
	})

	It("runs a push Job, records its result, prunes by retention and then stays idle", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		readyInstanceWithBackups(ctx, ns, "acme", func(b *pbv1alpha1.BackupSpec) {
			b.Retention = pbv1alpha1.BackupRetention{KeepLast: ptr.To[int32](2), MaxAge: ptr.To("720h")}
		})
		eventuallyBackupHealth(ctx, ns, "acme", metav1.ConditionFalse, pbv1alpha1.ReasonNoBackupYet)
		completedBefore := backupsTotal("completed")

		By("creating the push Job as the backup's controller")
		createBackup(ctx, ns, "first", "acme")
		b := eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, "first", pbv1alpha1.BackupRunning)
		Expect(b.Status.JobName).To(Equal("first-backup"))
		Expect(b.Status.Key).To(Equal(ns + "/acme/first.zip"))
		Expect(b.Status.Destination).NotTo(BeNil())
		Expect(*b.Status.Destination.Prefix).To(Equal(ns + "/acme/"))
		Expect(b.Status.Destination.Bucket).To(Equal("tenant-backups"))
		Expect(b.Status.StartedAt).NotTo(BeNil())

		job := &batchv1.Job{}
		eventuallyGet(ctx, key(ns, "first-backup"), job)
		Expect(metav1.GetControllerOf(job)).To(HaveField("Kind", "PocketBaseBackup"))
		Expect(metav1.GetControllerOf(job).UID).To(Equal(b.UID))
		c := job.Spec.Template.Spec.Containers[0]
		Expect(c.Image).To(Equal(testImage))
		Expect(c.Args).To(Equal(contract.BackupPushArgs(fmt.Sprintf("http://acme.%s.svc:8090", ns), "first.zip", 2, "720h")))
		env := map[string]string{}
		for _, e := range c.Env {
			switch {
			case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
				env[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
			default:
				env[e.Name] = e.Value
			}
		}
		Expect(env).To(HaveKeyWithValue(contract.EnvS3Endpoint, "http://s3.storage.svc:9000"))
		Expect(env).To(HaveKeyWithValue(contract.EnvS3Prefix, ns+"/acme/"))
		Expect(env).To(HaveKeyWithValue(contract.EnvS3ForcePathStyle, "true"))
		Expect(env).To(HaveKeyWithValue(contract.EnvS3AccessKeyID, "secret:s3-creds/accessKeyId"))
		Expect(env).To(HaveKeyWithValue(contract.EnvS3SecretAccessKey, "secret:s3-creds/secretAccessKey"))
		Expect(env).To(HaveKeyWithValue(contract.EnvSuperuserPassword, "secret:acme-superuser/password"))
		svc := &corev1.Service{}
		Expect(k8sClient.Get(ctx, key(ns, "acme"), svc)).To(Succeed())
		Expect(labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(job.Spec.Template.Labels))).
			To(BeFalse(), "the instance Service must not select a backup pod")

		By("reading the outcome from the pod's termination message")
		finishJob(ctx, ns, "first-backup", true, resultJSON(pushResult(ns, "acme", "first", 48213344)))
		b = eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, "first", pbv1alpha1.BackupCompleted)
		Expect(b.Status.Location).To(Equal(fmt.Sprintf("s3://tenant-backups/%s/acme/first.zip", ns)))
		Expect(b.Status.SizeBytes).To(Equal(int64(48213344)))
		Expect(b.Status.SHA256).To(HaveLen(64))
		Expect(b.Status.CompletedAt).NotTo(BeNil())
		Expect(b.Status.Message).To(BeEmpty())
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseBackup", "first") }, timeout, interval).
			Should(ContainElement(HavePrefix("Normal/BackupCompleted: Backup first completed: s3://")))
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseInstance", "acme") }, timeout, interval).
			Should(ContainElement(HavePrefix("Normal/BackupCompleted")))
		Expect(backupsTotal("completed")).To(Equal(completedBefore + 1))

		By("reporting it in the instance status, next to the instance reconciler's conditions")
		eventuallyBackupHealth(ctx, ns, "acme", metav1.ConditionTrue, pbv1alpha1.ReasonBackupSucceeded)
		st, _ := backupHealth(ctx, ns, "acme")
		Expect(st.LastSuccessfulBackup).To(Equal("first"))
		Expect(st.LastSuccessfulTime.Equal(b.Status.CompletedAt)).To(BeTrue())
		Expect(condition(ctx, ns, "acme", pbv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		Expect(condition(ctx, ns, "acme", pbv1alpha1.ConditionDegraded)).NotTo(BeNil())
		managers := map[string]bool{}
		for _, mf := range getInstance(ctx, ns, "acme").ManagedFields {
			if mf.Subresource == "status" {
				managers[mf.Manager] = true
			}
		}
		Expect(managers).To(HaveKey(controller.FieldManager))
		Expect(managers).To(HaveKey(controller.SchedulerFieldManager))

		By("a spec change makes the instance reconciler write its status without dropping the scheduler's")
		updateInstance(ctx, ns, "acme", func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.PodLabels = map[string]string{"team": "a"} })
		Eventually(func(g Gomega) {
			sts := &appsv1.StatefulSet{}
			g.Expect(k8sClient.Get(ctx, key(ns, "acme"), sts)).To(Succeed())
			g.Expect(sts.Spec.Template.Labels).To(HaveKeyWithValue("team", "a"))
		}, timeout, interval).Should(Succeed())
		simulateRevision(ctx, ns, "acme", "acme-2", true)
		eventuallyCondition(ctx, ns, "acme", pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable)
		Consistently(func(g Gomega) {
			st, c := backupHealth(ctx, ns, "acme")
			g.Expect(st).NotTo(BeNil())
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(pbv1alpha1.ReasonBackupSucceeded))
		}, 2*time.Second, interval).Should(Succeed())

		By("pruning the backups retention drops once another completes")
		runBackup(ctx, ns, "second", "acme")
		runBackup(ctx, ns, "third", "acme")
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key(ns, "first"), &pbv1alpha1.PocketBaseBackup{}))
		}, timeout, interval).Should(BeTrue(), "keepLast 2 drops the oldest of three")
		Expect(get[pbv1alpha1.PocketBaseBackup](ctx, ns, "second").Status.Phase).To(Equal(pbv1alpha1.BackupCompleted))
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseInstance", "acme") }, timeout, interval).
			Should(ContainElement(ContainSubstring("BackupsPruned: Retention deleted 1 PocketBaseBackups: [first]")))
		Eventually(func() string {
			st, _ := backupHealth(ctx, ns, "acme")
			return st.LastSuccessfulBackup
		}, timeout, interval).Should(Equal("third"))

		By("writing nothing on idle passes")
		versions := func() []string {
			return []string{
				get[pbv1alpha1.PocketBaseBackup](ctx, ns, "second").ResourceVersion, get[pbv1alpha1.PocketBaseBackup](ctx, ns, "third").ResourceVersion,
				getInstance(ctx, ns, "acme").ResourceVersion,
			}
		}
		idle := versions()
		Consistently(versions, 3*time.Second, 250*time.Millisecond).Should(Equal(idle))
	})

	It("runs one backup of an instance at a time", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		readyInstanceWithBackups(ctx, ns, "acme", nil)
		createBackup(ctx, ns, "a", "acme")
		createBackup(ctx, ns, "b", "acme")
		var running, waiting string
		Eventually(func(g Gomega) {
			a, b := get[pbv1alpha1.PocketBaseBackup](ctx, ns, "a"), get[pbv1alpha1.PocketBaseBackup](ctx, ns, "b")
			phases := []pbv1alpha1.BackupPhase{a.Status.Phase, b.Status.Phase}
			g.Expect(phases).To(ConsistOf(pbv1alpha1.BackupRunning, pbv1alpha1.BackupPending))
			running, waiting = a.Name, b.Name
			if b.Status.Phase == pbv1alpha1.BackupRunning {
				running, waiting = b.Name, a.Name
			}
			g.Expect(get[pbv1alpha1.PocketBaseBackup](ctx, ns, waiting).Status.Message).To(ContainSubstring("Waiting for backup " + running))
		}, timeout, interval).Should(Succeed())
		Consistently(func() pbv1alpha1.BackupPhase { return get[pbv1alpha1.PocketBaseBackup](ctx, ns, waiting).Status.Phase }, time.Second, interval).
			Should(Equal(pbv1alpha1.BackupPending))

		By("listing an instance's backups by field selector, as the check does")
		createBackup(ctx, ns, "other-1", "other")
		list := &pbv1alpha1.PocketBaseBackupList{}
		Expect(k8sClient.List(ctx, list, client.InNamespace(ns), client.MatchingFields{"spec.instanceName": "acme"})).To(Succeed())
		Expect(list.Items).To(HaveLen(2))

		finishJob(ctx, ns, running+"-backup", true, resultJSON(pushResult(ns, "acme", running, 10)))
		eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, running, pbv1alpha1.BackupCompleted)
		eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, waiting, pbv1alpha1.BackupRunning)
	})

	It("fails with the Job's error, its log tail, its deadline or its disappearance", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		readyInstanceWithBackups(ctx, ns, "acme", nil)
		runBackup(ctx, ns, "good", "acme")
		failedBefore := backupsTotal("failed")

		By("an error result")
		passMinute()
		createBackup(ctx, ns, "denied", "acme")
		eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, "denied", pbv1alpha1.BackupRunning)
		finishJob(ctx, ns, "denied-backup", false, resultJSON(contract.BackupResult{Error: "uploading: AccessDenied: the key may not write to tenant-backups"}))
		b := eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, "denied", pbv1alpha1.BackupFailed)
		Expect(b.Status.Message).To(Equal("uploading: AccessDenied: the key may not write to tenant-backups"))
		Expect(b.Status.CompletedAt).NotTo(BeNil())
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseBackup", "denied") }, timeout, interval).
			Should(ContainElement(HavePrefix("Warning/BackupFailed: Backup denied failed: uploading: AccessDenied")))
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseInstance", "acme") }, timeout, interval).
			Should(ContainElement(HavePrefix("Warning/BackupFailed")))
		eventuallyBackupHealth(ctx, ns, "acme", metav1.ConditionFalse, pbv1alpha1.ReasonBackupFailed)
		st, c := backupHealth(ctx, ns, "acme")
		Expect(c.Message).To(ContainSubstring("denied"))
		Expect(st.LastFailureTime).NotTo(BeNil())
		Expect(st.LastSuccessfulBackup).To(Equal("good"))
		Expect(backupsTotal("failed")).To(Equal(failedBefore + 1))

		By("a stored backup whose retention then failed is Completed, with a warning")
		passMinute()
		createBackup(ctx, ns, "stored", "acme")
		eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, "stored", pbv1alpha1.BackupRunning)
		partial := pushResult(ns, "acme", "stored", 777)
		partial.Error = "the backup is stored, but the retention failed: deleting old.zip: AccessDenied"
		finishJob(ctx, ns, "stored-backup", false, resultJSON(partial))
		b = eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, "stored", pbv1alpha1.BackupCompleted)
		Expect(b.Status.SizeBytes).To(Equal(int64(777)))
		Expect(b.Status.Message).To(Equal("The backup is stored, but the Job then failed: " + partial.Error))
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseInstance", "acme") }, timeout, interval).
			Should(ContainElement(HavePrefix("Warning/BackupCleanupFailed: The backup is stored")))
		eventuallyBackupHealth(ctx, ns, "acme", metav1.ConditionTrue, pbv1alpha1.ReasonBackupSucceeded)

		By("a log tail in place of a result")
		passMinute()
		createBackup(ctx, ns, "crashed", "acme")
		eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, "crashed", pbv1alpha1.BackupRunning)
		finishJob(ctx, ns, "crashed-backup", false, "panic: runtime error: invalid memory address\ngoroutine 1 [running]:")
		b = eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, "crashed", pbv1alpha1.BackupFailed)
		Expect(b.Status.Message).To(Equal("Backup Job crashed-backup failed: panic: runtime error: invalid memory address\ngoroutine 1 [running]:"))

		By("a deadline that ran out before any pod wrote a result")
		passMinute()
		createBackup(ctx, ns, "slow", "acme")
		eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, "slow", pbv1alpha1.BackupRunning)
		setJobFinished(ctx, ns, "slow-backup", false, "DeadlineExceeded", "Job was active longer than specified deadline")
		b = eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, "slow", pbv1alpha1.BackupFailed)
		Expect(b.Status.Message).To(Equal("Backup Job slow-backup failed: DeadlineExceeded: Job was active longer than specified deadline"))

		By("a Job deleted before its outcome was read")
		passMinute()
		createBackup(ctx, ns, "lost", "acme")
		eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, "lost", pbv1alpha1.BackupRunning)
		job := &batchv1.Job{}
		eventuallyGet(ctx, key(ns, "lost-backup"), job)
		// note: background propagation, as kubectl does; the default for Jobs orphans the
		// pods through a finalizer that only the garbage collector (not in envtest) removes.
		Expect(k8sClient.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
		b = eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, "lost", pbv1alpha1.BackupFailed)
		Expect(b.Status.Message).To(Equal("Backup Job lost-backup disappeared before its outcome was read."))

		By("never changing a final phase again, even when its Job changes")
		final := get[pbv1alpha1.PocketBaseBackup](ctx, ns, "denied").ResourceVersion
		Eventually(func() error {
			job := &batchv1.Job{}
			if err := k8sClient.Get(ctx, key(ns, "denied-backup"), job); err != nil {
				return err
			}
			job.Annotations = map[string]string{"touched": "yes"}
			return k8sClient.Update(ctx, job)
		}, timeout, interval).Should(Succeed())
		Consistently(func() string { return get[pbv1alpha1.PocketBaseBackup](ctx, ns, "denied").ResourceVersion }, 2*time.Second, interval).Should(Equal(final))
	})

	It("refuses backups it cannot take, with a message and events", func(ctx SpecContext) {
		ns := newNamespace(ctx)
		failedWith := func(name, msg string) {
			GinkgoHelper()
			b := eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, name, pbv1alpha1.BackupFailed)
			Expect(b.Status.Message).To(Equal(msg))
			Expect(b.Status.JobName).To(BeEmpty())
			Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseBackup", name) }, timeout, interval).
				Should(ContainElement("Warning/BackupFailed: Backup " + name + " failed: " + msg))
		}

		By("an instance that does not exist")
		createBackup(ctx, ns, "ghost", "nobody")
		failedWith("ghost", "PocketBaseInstance nobody does not exist.")

		By("an instance without spec.backup")
		Expect(k8sClient.Create(ctx, newInstance(ns, "plain"))).To(Succeed())
		createBackup(ctx, ns, "plain-1", "plain")
		failedWith("plain-1", "PocketBaseInstance plain has no spec.backup: set its destination to take backups.")

		By("a missing credentials Secret, also reported on the instance")
		pbi := newInstance(ns, "nocreds")
		pbi.Spec.Backup = backupSpec()
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		createBackup(ctx, ns, "nocreds-1", "nocreds")
		failedWith("nocreds-1", "S3 credentials Secret s3-creds named in spec.backup.destination.s3.credentialsSecretRef does not exist.")
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseInstance", "nocreds") }, timeout, interval).
			Should(ContainElement(HavePrefix("Warning/BackupFailed")))
		eventuallyBackupHealth(ctx, ns, "nocreds", metav1.ConditionFalse, pbv1alpha1.ReasonBackupConfigInvalid)

		By("a Secret without the secret key; its value is never copied")
		newCredentials(ctx, ns, s3Creds, contract.SecretKeyS3AccessKeyID)
		createBackup(ctx, ns, "nocreds-2", "nocreds")
		failedWith("nocreds-2", `S3 credentials Secret s3-creds has no "secretAccessKey" key (it needs "accessKeyId" and "secretAccessKey").`)
		Expect(fmt.Sprint(get[pbv1alpha1.PocketBaseBackup](ctx, ns, "nocreds-2").Status)).NotTo(ContainSubstring("value-of-accessKeyId"))

		By("a hibernated instance")
		hib := newInstance(ns, "sleepy")
		hib.Spec.Backup = backupSpec()
		hib.Spec.Hibernation = &pbv1alpha1.HibernationSpec{Hibernated: true}
		Expect(k8sClient.Create(ctx, hib)).To(Succeed())
		secret := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, key(ns, s3Creds), secret)).To(Succeed())
		secret.Data = credentialsData(contract.SecretKeyS3AccessKeyID, contract.SecretKeyS3SecretAccessKey)
		Expect(k8sClient.Update(ctx, secret)).To(Succeed())
		createBackup(ctx, ns, "sleepy-1", "sleepy")
		failedWith("sleepy-1", "PocketBaseInstance sleepy is hibernated; its newest backup is current.")

		By("an instance that is not Ready yet waits")
		waiting := newInstance(ns, "booting")
		waiting.Spec.Backup = backupSpec()
		Expect(k8sClient.Create(ctx, waiting)).To(Succeed())
		createBackup(ctx, ns, "booting-1", "booting")
		Eventually(func() string { return get[pbv1alpha1.PocketBaseBackup](ctx, ns, "booting-1").Status.Message }, timeout, interval).
			Should(Equal("Waiting for PocketBaseInstance booting to be Ready."))
		Expect(get[pbv1alpha1.PocketBaseBackup](ctx, ns, "booting-1").Status.Phase).To(Equal(pbv1alpha1.BackupPending))
		simulatePodReady(ctx, ns, "booting")
		eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, "booting-1", pbv1alpha1.BackupRunning)
	})

	It("starts scheduled backups at due times and reports BackupHealthy", func(ctx SpecContext) {
		ns := newNamespace(ctx)

		By("an invalid schedule: BackupConfigInvalid, an event, no backups")
		readyInstanceWithBackups(ctx, ns, "bad", func(b *pbv1alpha1.BackupSpec) { b.Schedule = "0 3 * *" })
		eventuallyBackupHealth(ctx, ns, "bad", metav1.ConditionFalse, pbv1alpha1.ReasonBackupConfigInvalid)
		_, c := backupHealth(ctx, ns, "bad")
		Expect(c.Message).To(ContainSubstring(`spec.backup.schedule "0 3 * *" is not a five-field cron expression`))
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseInstance", "bad") }, timeout, interval).
			Should(ContainElement(HavePrefix("Warning/BackupConfigInvalid")))
		list := &pbv1alpha1.PocketBaseBackupList{}
		Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		Expect(list.Items).To(BeEmpty())

		By("missed runs: only the latest runs, once, when the schedule is first seen")
		// The clock stands 12s before a 03:00 UTC at least three days ahead, so three
		// daily runs since the instance's creation were missed.
		realNow := time.Now().UTC()
		due := time.Date(realNow.Year(), realNow.Month(), realNow.Day(), 3, 0, 0, 0, time.UTC).AddDate(0, 0, 4)
		backupClockOffset.Store(int64(due.Add(-12 * time.Second).Sub(realNow)))
		pbi := newInstance(ns, "cron")
		pbi.Spec.Backup = backupSpec()
		pbi.Spec.Backup.Schedule = "0 3 * * *"
		Expect(k8sClient.Create(ctx, pbi)).To(Succeed())
		simulatePodReady(ctx, ns, "cron")
		missed := "cron-" + due.AddDate(0, 0, -1).Format("20060102150405")
		b := eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, missed, pbv1alpha1.BackupRunning)
		Expect(b.Labels).To(HaveKeyWithValue(specs.LabelBackupTrigger, specs.TriggerScheduled))
		Expect(b.Labels).To(HaveKeyWithValue(specs.LabelInstance, "cron"))
		Expect(b.OwnerReferences).To(BeEmpty(), "backups outlive their instance")
		Expect(k8sClient.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{specs.LabelInstance: "cron"})).To(Succeed())
		Expect(list.Items).To(HaveLen(1))
		Eventually(func(g Gomega) {
			st, _ := backupHealth(ctx, ns, "cron")
			g.Expect(st).NotTo(BeNil())
			g.Expect(st.LastScheduleTime).NotTo(BeNil())
			g.Expect(st.LastScheduleTime.UTC()).To(Equal(due.AddDate(0, 0, -1)))
			g.Expect(st.NextScheduleTime).NotTo(BeNil())
			g.Expect(st.NextScheduleTime.UTC()).To(Equal(due))
		}, timeout, interval).Should(Succeed())
		finishJob(ctx, ns, b.Status.JobName, true, resultJSON(pushResult(ns, "cron", missed, 99)))
		eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, missed, pbv1alpha1.BackupCompleted)
		eventuallyBackupHealth(ctx, ns, "cron", metav1.ConditionTrue, pbv1alpha1.ReasonBackupSucceeded)

		By("the next due time, reached by the scheduler's own requeue")
		next := "cron-" + due.Format("20060102150405")
		Eventually(func() error { return k8sClient.Get(ctx, key(ns, next), &pbv1alpha1.PocketBaseBackup{}) }, 2*timeout, interval).Should(Succeed())
		eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, next, pbv1alpha1.BackupRunning)
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseInstance", "cron") }, timeout, interval).
			Should(ContainElement("Normal/BackupScheduled: Created scheduled backup " + next + "."))
		st, _ := backupHealth(ctx, ns, "cron")
		Expect(st.LastScheduleTime.UTC()).To(Equal(due))
		Expect(st.NextScheduleTime.UTC()).To(Equal(due.AddDate(0, 0, 1)))
		finishJob(ctx, ns, next+"-backup", true, resultJSON(pushResult(ns, "cron", next, 99)))
		eventuallyPhase[pbv1alpha1.PocketBaseBackup](ctx, ns, next, pbv1alpha1.BackupCompleted)

		By("overdue once the newest success is older than two periods")
		backupClockOffset.Store(int64(time.Until(due.Add(72 * time.Hour))))
		updateInstance(ctx, ns, "cron", func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Backup.Suspend = true })
		// Suspended: no new backup, and a suspended schedule is never overdue.
		Consistently(func() int {
			Expect(k8sClient.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{specs.LabelInstance: "cron"})).To(Succeed())
			return len(list.Items)
		}, 2*time.Second, interval).Should(Equal(2))
		eventuallyBackupHealth(ctx, ns, "cron", metav1.ConditionTrue, pbv1alpha1.ReasonBackupSucceeded)
		Expect(getInstance(ctx, ns, "cron").Status.Backup.NextScheduleTime).To(BeNil())
		// Resumed: the missed run starts, and the newest success shows its age.
		updateInstance(ctx, ns, "cron", func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Backup.Suspend = false })
		eventuallyBackupHealth(ctx, ns, "cron", metav1.ConditionFalse, pbv1alpha1.ReasonBackupOverdue)
		_, c = backupHealth(ctx, ns, "cron")
		Expect(c.Message).To(ContainSubstring("more than two schedule periods (48h0m0s) ago"))
		Eventually(func() []string { return eventsAbout(ctx, ns, "PocketBaseInstance", "cron") }, timeout, interval).
			Should(ContainElement(HavePrefix("Warning/BackupOverdue")))

		By("removing spec.backup clears status.backup and BackupHealthy, and only those")
		updateInstance(ctx, ns, "cron", func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Backup = nil })
		Eventually(func(g Gomega) {
			st, c := backupHealth(ctx, ns, "cron")
			g.Expect(st).To(BeNil())
			g.Expect(c).To(BeNil())
		}, timeout, interval).Should(Succeed())
		Expect(condition(ctx, ns, "cron", pbv1alpha1.ConditionReady)).NotTo(BeNil())
		Expect(k8sClient.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{specs.LabelInstance: "cron"})).To(Succeed())
		names := []string{}
		for _, o := range list.Items {
			names = append(names, o.Name)
		}
		slices.Sort(names)
		Expect(names).To(HaveLen(3), "the resumed schedule started one more backup, still kept: %v", names)
	})
})
