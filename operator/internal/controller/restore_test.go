package controller

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/pocketfleet/pocketfleet/instance/contract"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

func TestJobName(t *testing.T) {
	long := strings.Repeat("a", 60)
	tests := []struct {
		name, base, suffix string
		want               string
	}{
		{"fits", "undo", "-restore", "undo-restore"},
		{"exactly 63", strings.Repeat("b", 55), "-restore", strings.Repeat("b", 55) + "-restore"},
		{"shortened with the uid", long, "-restore", strings.Repeat("a", 46) + "-0f1e2d3c-restore"},
		{"trailing dash trimmed", strings.Repeat("c", 43) + "-xxxxxxxxxxxxxxxx", "-bootstrap", strings.Repeat("c", 43) + "-0f1e2d3c-bootstrap"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := jobName(tc.base, tc.suffix, types.UID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"))
			if got != tc.want {
				t.Errorf("jobName = %q, want %q", got, tc.want)
			}
			if len(got) > 63 {
				t.Errorf("jobName is %d characters long", len(got))
			}
		})
	}
}

func TestReadJobOutcome(t *testing.T) {
	finished := func(t batchv1.JobConditionType) []batchv1.JobCondition {
		return []batchv1.JobCondition{{Type: t, Status: corev1.ConditionTrue, Reason: "DeadlineExceeded", Message: "Job was active longer than specified deadline"}}
	}
	terminated := func(uid, msg string, exit int32) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "j-" + uid, Labels: map[string]string{
				batchv1.JobNameLabel: "j", batchv1.ControllerUidLabel: uid,
			}},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
				Name:  specs.JobContainerName,
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exit, Reason: "Error", Message: msg}},
			}}},
		}
	}
	tail := strings.Repeat("x", 2000) + "END"
	tests := []struct {
		name  string
		conds []batchv1.JobCondition
		pods  []client.Object
		want  jobOutcome
	}{
		{"running", nil, nil, jobOutcome{}},
		{"completed with a result", finished(batchv1.JobComplete),
			[]client.Object{terminated("uid-1", `{"key":"a/b.zip","sizeBytes":7,"sha256":"ff"}`, 0)},
			jobOutcome{finished: true, succeeded: true, result: contract.BackupResult{Key: "a/b.zip", SizeBytes: 7, SHA256: "ff"}}},
		{"skipped", finished(batchv1.JobComplete), []client.Object{terminated("uid-1", `{"skipped":true}`, 0)},
			jobOutcome{finished: true, succeeded: true, result: contract.BackupResult{Skipped: true}}},
		{"failed with an error result", finished(batchv1.JobFailed), []client.Object{terminated("uid-1", `{"error":"no such key"}`, 1)},
			jobOutcome{finished: true, result: contract.BackupResult{Error: "no such key"}, message: "no such key"}},
		{"failed with a log tail", finished(batchv1.JobFailed), []client.Object{terminated("uid-1", tail, 2)},
			jobOutcome{finished: true, message: "the container wrote no result; its log ends with: …" + tail[len(tail)-maxLogTail:]}},
		{"failed without a message", finished(batchv1.JobFailed), []client.Object{terminated("uid-1", "", 137)},
			jobOutcome{finished: true, message: "the container exited with code 137 (Error) without a result"}},
		{"failed before any pod", finished(batchv1.JobFailed), nil,
			jobOutcome{finished: true, message: "the Job failed (DeadlineExceeded): Job was active longer than specified deadline"}},
		{"a pod of an older Job of that name is ignored", finished(batchv1.JobFailed), []client.Object{terminated("uid-0", `{"skipped":true}`, 0)},
			jobOutcome{finished: true, message: "the Job failed (DeadlineExceeded): Job was active longer than specified deadline"}},
		{"completed without a result (its pod is gone)", finished(batchv1.JobComplete), nil,
			jobOutcome{finished: true, succeeded: true}},
		{"completed with an error result", finished(batchv1.JobComplete), []client.Object{terminated("uid-1", `{"error":"disk full"}`, 0)},
			jobOutcome{finished: true, result: contract.BackupResult{Error: "disk full"}, message: "disk full"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newReconciler(t, tc.pods...)
			job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "j", UID: "uid-1"}}
			job.Status.Conditions = tc.conds
			got, err := readJobOutcome(context.Background(), r.APIReader, job)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(jobOutcome{})); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "abc", 10, "abc"},
		{"cut", "abcdefghij", 7, "abcd…"},
		{"on a rune boundary", "ééééé", 6, "é…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := truncate(tc.in, tc.n)
			if got != tc.want || len(got) > tc.n {
				t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}
