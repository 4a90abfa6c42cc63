package status

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

func rolledOut() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Generation: 2},
		Status: appsv1.StatefulSetStatus{
			ObservedGeneration: 2, ReadyReplicas: 1, UpdatedReplicas: 1,
			CurrentRevision: "r2", UpdateRevision: "r2",
		},
	}
}

func pod(ready bool, mods ...func(*corev1.Pod)) *corev1.Pod {
	s := corev1.ConditionFalse
	if ready {
		s = corev1.ConditionTrue
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "acme-0"},
		Status:     corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: s}}},
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

func waiting(reason string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{
			Name: "pocketbase", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}},
		}}
	}
}

func TestConditions(t *testing.T) {
	type want struct {
		ready, progressing, degraded metav1.ConditionStatus
		readyReason                  string
	}
	tests := []struct {
		name string
		obs  Observed
		want want
	}{
		{"no statefulset yet", Observed{}, want{"False", "True", "False", pbv1alpha1.ReasonReconciling}},
		{"generation not observed", Observed{StatefulSet: func() *appsv1.StatefulSet {
			s := rolledOut()
			s.Generation = 3
			return s
		}(), Pod: pod(true)}, want{"False", "True", "False", pbv1alpha1.ReasonRollingOut}},
		{"old revision still running", Observed{StatefulSet: func() *appsv1.StatefulSet {
			s := rolledOut()
			s.Status.UpdateRevision = "r3"
			return s
		}(), Pod: pod(true)}, want{"False", "True", "False", pbv1alpha1.ReasonRollingOut}},
		{"no pod", Observed{StatefulSet: rolledOut()}, want{"False", "True", "False", pbv1alpha1.ReasonRollingOut}},
		{"pod not ready", Observed{StatefulSet: rolledOut(), Pod: pod(false)}, want{"False", "True", "False", pbv1alpha1.ReasonPodNotReady}},
		{"terminating pod", Observed{StatefulSet: rolledOut(), Pod: pod(true, func(p *corev1.Pod) {
			p.DeletionTimestamp = &metav1.Time{Time: time.Now()}
		})}, want{"False", "True", "False", pbv1alpha1.ReasonPodNotReady}},
		{"ready", Observed{StatefulSet: rolledOut(), Pod: pod(true)}, want{"True", "False", "False", pbv1alpha1.ReasonAvailable}},
		{"problem", Observed{StatefulSet: rolledOut(), Pod: pod(false), Problem: &Problem{pbv1alpha1.ReasonCrashLoop, "boom"}},
			want{"False", "False", "True", pbv1alpha1.ReasonCrashLoop}},
		{"ready but degraded", Observed{StatefulSet: rolledOut(), Pod: pod(true), Problem: &Problem{pbv1alpha1.ReasonReconcileError, "x"}},
			want{"True", "False", "True", pbv1alpha1.ReasonAvailable}},
		{"held for a restore", Observed{StatefulSet: rolledOut(), Pod: pod(true), Held: &Problem{pbv1alpha1.ReasonRestoring, "r"}},
			want{"False", "True", "False", pbv1alpha1.ReasonRestoring}},
		{"held, bootstrap source invalid", Observed{Held: &Problem{pbv1alpha1.ReasonRestoring, "r"},
			Problem: &Problem{pbv1alpha1.ReasonBootstrapSourceInvalid, "gone"}},
			want{"False", "False", "True", pbv1alpha1.ReasonBootstrapSourceInvalid}},
		{"ready after a failed restore", Observed{StatefulSet: rolledOut(), Pod: pod(true), Notice: &Problem{pbv1alpha1.ReasonRestoreFailed, "f"}},
			want{"True", "False", "True", pbv1alpha1.ReasonAvailable}},
		{"starting after a failed restore", Observed{StatefulSet: rolledOut(), Notice: &Problem{pbv1alpha1.ReasonRestoreFailed, "f"}},
			want{"False", "True", "True", pbv1alpha1.ReasonRollingOut}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pbi := &pbv1alpha1.PocketBaseInstance{ObjectMeta: metav1.ObjectMeta{Generation: 7}}
			conds := Conditions(pbi, tc.obs)
			for typ, w := range map[pbv1alpha1.ConditionType]metav1.ConditionStatus{
				pbv1alpha1.ConditionReady: tc.want.ready, pbv1alpha1.ConditionProgressing: tc.want.progressing,
				pbv1alpha1.ConditionDegraded: tc.want.degraded,
			} {
				c := meta.FindStatusCondition(conds, string(typ))
				if c == nil || c.Status != w || c.ObservedGeneration != 7 {
					t.Errorf("%s = %+v, want status %s at generation 7", typ, c, w)
				}
			}
			if r := meta.FindStatusCondition(conds, "Ready").Reason; r != tc.want.readyReason {
				t.Errorf("Ready reason = %s, want %s", r, tc.want.readyReason)
			}
			if IsReady(conds) != (tc.want.ready == "True") {
				t.Errorf("IsReady disagrees")
			}
		})
	}
}

func TestConditionsKeepTransitionTime(t *testing.T) {
	old := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	pbi := &pbv1alpha1.PocketBaseInstance{Status: pbv1alpha1.PocketBaseInstanceStatus{Conditions: []metav1.Condition{
		{Type: "Ready", Status: "True", Reason: pbv1alpha1.ReasonAvailable, LastTransitionTime: old},
	}}}
	conds := Conditions(pbi, Observed{StatefulSet: rolledOut(), Pod: pod(true)})
	if got := meta.FindStatusCondition(conds, "Ready").LastTransitionTime; !got.Equal(&old) {
		t.Errorf("LastTransitionTime moved to %v without a transition", got)
	}
	if len(pbi.Status.Conditions) != 1 {
		t.Errorf("Conditions modified its input")
	}
}

func TestPodProblem(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"nil", nil, ""},
		{"healthy", pod(true), ""},
		{"crash loop", pod(false, waiting("CrashLoopBackOff")), pbv1alpha1.ReasonCrashLoop},
		{"image pull", pod(false, waiting("ImagePullBackOff")), pbv1alpha1.ReasonImagePullFailed},
		{"err image pull", pod(false, waiting("ErrImagePull")), pbv1alpha1.ReasonImagePullFailed},
		{"config error", pod(false, waiting("CreateContainerConfigError")), pbv1alpha1.ReasonPodFailed},
		{"starting", pod(false, waiting("ContainerCreating")), ""},
		{"unschedulable", pod(false, func(p *corev1.Pod) {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
				Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/3 nodes",
			})
		}), pbv1alpha1.ReasonUnschedulable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PodProblem(tc.pod)
			if (got == nil) != (tc.want == "") || (got != nil && got.Reason != tc.want) {
				t.Errorf("PodProblem() = %+v, want reason %q", got, tc.want)
			}
		})
	}
}

func TestQuotaProblem(t *testing.T) {
	if QuotaProblem("pod", `pods "a-0" is forbidden: exceeded quota: q, requested: pods=1`) == nil {
		t.Error("quota message not recognised")
	}
	if QuotaProblem("pod", "connection refused") != nil {
		t.Error("unrelated message taken for a quota")
	}
}

func TestComputeHibernated(t *testing.T) {
	pbi := &pbv1alpha1.PocketBaseInstance{ObjectMeta: metav1.ObjectMeta{Name: "acme", Generation: 3}}
	pbi.Spec.Hibernation = &pbv1alpha1.HibernationSpec{Hibernated: true}
	for _, tc := range []struct {
		name                              string
		obs                               Observed
		ready, progressing, degradedState string
	}{
		{"pod stopping", Observed{Pod: pod(true)}, pbv1alpha1.ReasonHibernating, "True", "False"},
		{"asleep", Observed{}, pbv1alpha1.ReasonHibernated, "False", "False"},
		{"asleep with a problem", Observed{Problem: &Problem{pbv1alpha1.ReasonStorageExpansionNotSupported, "x"}},
			pbv1alpha1.ReasonHibernated, "False", "True"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Compute(pbi, tc.obs)
			r := meta.FindStatusCondition(res.Conditions, "Ready")
			if r.Status != "False" || r.Reason != tc.ready {
				t.Errorf("Ready = %s/%s, want False/%s", r.Status, r.Reason, tc.ready)
			}
			if p := meta.FindStatusCondition(res.Conditions, "Progressing"); string(p.Status) != tc.progressing {
				t.Errorf("Progressing = %s, want %s", p.Status, tc.progressing)
			}
			if d := meta.FindStatusCondition(res.Conditions, "Degraded"); string(d.Status) != tc.degradedState {
				t.Errorf("Degraded = %s, want %s", d.Status, tc.degradedState)
			}
			if res.RolloutStartTime != nil || res.RecheckAfter != 0 {
				t.Errorf("a hibernated instance runs no rollout clock: %+v", res)
			}
		})
	}
}

func TestComputeRolloutDeadline(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	started := metav1.NewTime(now.Add(-5 * time.Minute))
	pbi := func(gen, observed int64, start *metav1.Time) *pbv1alpha1.PocketBaseInstance {
		p := &pbv1alpha1.PocketBaseInstance{ObjectMeta: metav1.ObjectMeta{Generation: gen}}
		p.Status.ObservedGeneration, p.Status.RolloutStartTime = observed, start
		return p
	}
	notReady := Observed{StatefulSet: rolledOut(), Pod: pod(false), Now: now}

	t.Run("clock starts at the first unready pass", func(t *testing.T) {
		res := Compute(pbi(2, 2, nil), notReady)
		if res.RolloutStartTime == nil || !res.RolloutStartTime.Time.Equal(now) || res.RecheckAfter != 10*time.Minute {
			t.Errorf("got start %v recheck %v", res.RolloutStartTime, res.RecheckAfter)
		}
	})
	t.Run("clock keeps running within a generation", func(t *testing.T) {
		res := Compute(pbi(2, 2, &started), notReady)
		if !res.RolloutStartTime.Equal(&started) || res.RecheckAfter != 5*time.Minute {
			t.Errorf("got start %v recheck %v", res.RolloutStartTime, res.RecheckAfter)
		}
	})
	t.Run("a spec change restarts the clock", func(t *testing.T) {
		res := Compute(pbi(3, 2, &started), notReady)
		if !res.RolloutStartTime.Time.Equal(now) {
			t.Errorf("got start %v", res.RolloutStartTime)
		}
	})
	t.Run("past the deadline the rollout is stuck", func(t *testing.T) {
		p := pbi(2, 2, &started)
		p.Spec.ProgressDeadlineSeconds = ptr(int32(60))
		for _, obs := range []Observed{notReady, {StatefulSet: rolledOut(), Pod: pod(false), Now: now,
			Problem: &Problem{pbv1alpha1.ReasonCrashLoop, "Container pocketbase: CrashLoopBackOff"}}} {
			res := Compute(p, obs)
			d := meta.FindStatusCondition(res.Conditions, "Degraded")
			if d.Status != "True" || d.Reason != pbv1alpha1.ReasonRolloutStuck {
				t.Errorf("Degraded = %s/%s, want True/RolloutStuck", d.Status, d.Reason)
			}
			if pr := meta.FindStatusCondition(res.Conditions, "Progressing"); pr.Status != "False" {
				t.Errorf("Progressing = %s, want False", pr.Status)
			}
		}
	})
	t.Run("a configuration problem keeps its own reason past the deadline", func(t *testing.T) {
		p := pbi(2, 2, &started)
		p.Spec.ProgressDeadlineSeconds = ptr(int32(60))
		res := Compute(p, Observed{StatefulSet: rolledOut(), Pod: pod(false), Now: now,
			Problem: &Problem{pbv1alpha1.ReasonSecretInvalid, "missing"}})
		if d := meta.FindStatusCondition(res.Conditions, "Degraded"); d.Reason != pbv1alpha1.ReasonSecretInvalid {
			t.Errorf("Degraded reason = %s", d.Reason)
		}
	})
	t.Run("ready clears the clock and reports a pending change", func(t *testing.T) {
		res := Compute(pbi(2, 2, &started), Observed{StatefulSet: rolledOut(), Pod: pod(true), Now: now,
			Pending: &Problem{pbv1alpha1.ReasonUpgradeQueued, "waits"}})
		if res.RolloutStartTime != nil {
			t.Errorf("start = %v, want nil", res.RolloutStartTime)
		}
		if pr := meta.FindStatusCondition(res.Conditions, "Progressing"); pr.Status != "True" || pr.Reason != pbv1alpha1.ReasonUpgradeQueued {
			t.Errorf("Progressing = %s/%s", pr.Status, pr.Reason)
		}
	})
}

func ptr[T any](v T) *T { return &v }
