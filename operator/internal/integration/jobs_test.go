package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

// finishJob plays the Job controller and the kubelet, which envtest does not run, for
// the backup, restore and bootstrap Jobs: it creates the Job's pod as the Job controller
// would (its template, the job-name and controller-uid labels, the Job as controller),
// terminates its container with message as its termination message (a BackupResult, or
// a log tail), and marks the Job finished as setJobFinished does; a failed Job has
// exhausted its backoff limit.
func finishJob(ctx context.Context, ns, name string, succeeded bool, message string) {
	GinkgoHelper()
	job := &batchv1.Job{}
	eventuallyGet(ctx, key(ns, name), job)
	labels := map[string]string{batchv1.JobNameLabel: job.Name, batchv1.ControllerUidLabel: string(job.UID)}
	maps.Copy(labels, job.Spec.Template.Labels)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name + "-x7k2p", Labels: labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(job, batchv1.SchemeGroupVersion.WithKind("Job"))},
		},
		Spec: *job.Spec.Template.Spec.DeepCopy(),
	}
	pod.Spec.NodeName = "node-1"
	Expect(k8sClient.Create(ctx, pod)).To(Succeed())
	start, end := jobTimes()
	phase, exit, reason := corev1.PodSucceeded, int32(0), "Completed"
	if !succeeded {
		phase, exit, reason = corev1.PodFailed, 1, "Error"
	}
	setPodStatus(ctx, ns, pod.Name, corev1.PodStatus{
		Phase: phase,
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: specs.JobContainerName, Image: job.Spec.Template.Spec.Containers[0].Image,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: exit, Reason: reason, Message: message, StartedAt: start, FinishedAt: end,
			}},
		}},
	})
	setJobFinished(ctx, ns, name, succeeded, batchv1.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit")
}

// jobTimes are the start and end of a Job that finishes now, a minute after it started,
// to the second as the API server stores them. The Job controller's clock is the backup
// controllers' clock (real time outside the backup specs).
func jobTimes() (start, end metav1.Time) {
	now := backupNow().Truncate(time.Second)
	return metav1.NewTime(now.Add(-time.Minute)), metav1.NewTime(now)
}

// setJobFinished sets a Job's final status as the Job controller does since Kubernetes
// 1.31: the API server refuses Complete without SuccessCriteriaMet and a completionTime,
// Failed without FailureTarget, and either without a startTime. reason and message are
// those of a failure.
func setJobFinished(ctx context.Context, ns, name string, succeeded bool, reason, message string) {
	GinkgoHelper()
	Eventually(func() error {
		job := &batchv1.Job{}
		if err := k8sClient.Get(ctx, key(ns, name), job); err != nil {
			return err
		}
		start, end := jobTimes()
		job.Status.StartTime = &start
		if succeeded {
			job.Status.Succeeded = 1
			job.Status.CompletionTime = &end
			job.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonCompletionsReached, LastTransitionTime: end},
				{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonCompletionsReached, LastTransitionTime: end},
			}
		} else {
			job.Status.Failed = 1
			job.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: reason, Message: message, LastTransitionTime: end},
				{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: reason, Message: message, LastTransitionTime: end},
			}
		}
		return k8sClient.Status().Update(ctx, job)
	}, timeout, interval).Should(Succeed())
}

// pushResult is the result a successful push of backup name of instance writes, finished
// at the backup controllers' clock.
func pushResult(ns, instance, name string, size int64) contract.BackupResult {
	zip := fmt.Sprintf("%s/%s/%s.zip", ns, instance, name)
	return contract.BackupResult{
		Location: "s3://tenant-backups/" + zip, Key: zip,
		SizeBytes: size, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		CompletedAt: backupNow().UTC().Format(time.RFC3339),
	}
}

// resultJSON is a BackupResult as the backup and restore commands write it in their
// termination message.
func resultJSON(r contract.BackupResult) string {
	GinkgoHelper()
	raw, err := json.Marshal(r)
	Expect(err).NotTo(HaveOccurred())
	return string(raw)
}
