package status

import (
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

// Problem is something that keeps the instance from its desired state.
type Problem struct {
	// Reason is a CamelCase condition reason from api/v1alpha1.
	Reason string
	// Message says what is wrong, for a person.
	Message string
}

// Observed is what one reconcile pass saw of the instance's children.
type Observed struct {
	// StatefulSet is the instance's StatefulSet as last read; nil when absent.
	StatefulSet *appsv1.StatefulSet
	// Pod is the instance pod; nil when absent.
	Pod *corev1.Pod
	// Problem is the first thing found wrong; nil when nothing is.
	Problem *Problem
	// Pending is a change that waits while the instance keeps serving (an upgrade in the
	// queue, a volume that grows); it is reported as Progressing. nil when none.
	Pending *Problem
	// Held is why the operator keeps the pod stopped although the spec asks it to run (a
	// restore writes to the data volume); nil when it does not.
	Held *Problem
	// Notice is a past failure the instance recovered from that stays Degraded for a
	// while (a failed restore: the instance runs on its previous data); Problem wins
	// over it. nil when none.
	Notice *Problem
	// Now is the time of the pass.
	Now time.Time
}

// Result is the status a pass computed.
type Result struct {
	// Conditions are the instance's conditions after the pass.
	Conditions []metav1.Condition
	// RolloutStartTime is when the rollout under way started; nil when none is.
	RolloutStartTime *metav1.Time
	// RecheckAfter is when the rollout deadline expires, so the pass can look again
	// then; 0 when no deadline runs.
	RecheckAfter time.Duration
}

// podReasons are the problem reasons found on the pod itself, which a missed rollout
// deadline turns into RolloutStuck. Problems of the configuration (a missing Secret, a
// quota) keep their own reason.
var podReasons = map[string]bool{
	pbv1alpha1.ReasonCrashLoop: true, pbv1alpha1.ReasonImagePullFailed: true,
	pbv1alpha1.ReasonPodFailed: true, pbv1alpha1.ReasonUnschedulable: true,
}

// Conditions returns the instance's conditions after this pass; see Compute.
func Conditions(pbi *pbv1alpha1.PocketBaseInstance, obs Observed) []metav1.Condition {
	return Compute(pbi, obs).Conditions
}

// Compute returns the instance's status after this pass. Transition times of conditions
// whose status did not change are kept.
func Compute(pbi *pbv1alpha1.PocketBaseInstance, obs Observed) Result {
	if obs.Now.IsZero() {
		obs.Now = time.Now()
	}
	conds := make([]metav1.Condition, len(pbi.Status.Conditions))
	copy(conds, pbi.Status.Conditions)
	set := func(t pbv1alpha1.ConditionType, s metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&conds, metav1.Condition{
			Type: string(t), Status: s, Reason: reason, Message: msg,
			ObservedGeneration: pbi.Generation,
		})
	}
	var res Result

	if obs.Held != nil {
		held(obs, set)
		res.Conditions = conds
		return res
	}
	if pbi.Hibernated() {
		hibernated(pbi, obs, set)
		res.Conditions = conds
		return res
	}

	ready, why := podReady(obs)
	problem := obs.Problem
	if !ready {
		res.RolloutStartTime, res.RecheckAfter = rolloutClock(pbi, obs.Now)
		if res.RecheckAfter <= 0 && (problem == nil || podReasons[problem.Reason]) {
			detail := why.Message
			if problem != nil {
				detail = problem.Message
			}
			problem = &Problem{pbv1alpha1.ReasonRolloutStuck, fmt.Sprintf(
				"The rollout has not finished within spec.progressDeadlineSeconds (%ds): %s Revert the spec to roll back.",
				pbi.ProgressDeadlineSeconds(), detail)}
		}
	}
	degraded(problem, obs.Notice, set)
	if ready {
		set(pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable, "The instance is serving requests.")
		if obs.Pending != nil {
			set(pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, obs.Pending.Reason, obs.Pending.Message)
		} else {
			set(pbv1alpha1.ConditionProgressing, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected, "The desired state is rolled out.")
		}
		res.Conditions = conds
		return res
	}
	notReadyReason, notReadyMsg := why.Reason, why.Message
	if problem != nil {
		notReadyReason, notReadyMsg = problem.Reason, problem.Message
	}
	set(pbv1alpha1.ConditionReady, metav1.ConditionFalse, notReadyReason, notReadyMsg)
	if problem != nil {
		set(pbv1alpha1.ConditionProgressing, metav1.ConditionFalse, problem.Reason, "Progress is blocked: "+problem.Message)
	} else {
		set(pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, why.Reason, why.Message)
	}
	res.Conditions = conds
	return res
}

// hibernated sets the conditions of an instance whose spec asks it to sleep: never
// Ready, Progressing while the pod stops, Degraded only for a problem of its own (a
// volume that cannot grow, say).
func hibernated(pbi *pbv1alpha1.PocketBaseInstance, obs Observed, set setFunc) {
	degraded(obs.Problem, obs.Notice, set)
	if obs.Pod != nil {
		msg := fmt.Sprintf("Hibernating: waiting for pod %s to stop.", obs.Pod.Name)
		set(pbv1alpha1.ConditionReady, metav1.ConditionFalse, pbv1alpha1.ReasonHibernating, msg)
		set(pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, pbv1alpha1.ReasonHibernating, msg)
		return
	}
	msg := fmt.Sprintf("Hibernated: no pod runs; data volume claim %s is kept. Clear spec.hibernation.hibernated to resume.",
		pbi.DataVolumeClaimName())
	set(pbv1alpha1.ConditionReady, metav1.ConditionFalse, pbv1alpha1.ReasonHibernated, msg)
	set(pbv1alpha1.ConditionProgressing, metav1.ConditionFalse, pbv1alpha1.ReasonHibernated, msg)
}

// held sets the conditions of an instance whose pod the operator keeps stopped while a
// restore writes to its data volume: never Ready, Progressing while the restore runs,
// blocked when the restore cannot start or failed.
func held(obs Observed, set setFunc) {
	degraded(obs.Problem, obs.Notice, set)
	if p := obs.Problem; p != nil {
		set(pbv1alpha1.ConditionReady, metav1.ConditionFalse, p.Reason, p.Message)
		set(pbv1alpha1.ConditionProgressing, metav1.ConditionFalse, p.Reason, "Progress is blocked: "+p.Message)
		return
	}
	set(pbv1alpha1.ConditionReady, metav1.ConditionFalse, obs.Held.Reason, obs.Held.Message)
	set(pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, obs.Held.Reason, obs.Held.Message)
}

// setFunc sets one condition of the instance.
type setFunc func(pbv1alpha1.ConditionType, metav1.ConditionStatus, string, string)

// degraded sets Degraded from the pass's problem, else from a notice, else False.
func degraded(problem, notice *Problem, set setFunc) {
	switch {
	case problem != nil:
		set(pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, problem.Reason, problem.Message)
	case notice != nil:
		set(pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, notice.Reason, notice.Message)
	default:
		set(pbv1alpha1.ConditionDegraded, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected, "No problems detected.")
	}
}

// rolloutClock returns when the rollout under way started and how long is left before
// its deadline. The clock starts at the first pass that sees the current generation not
// rolled out, and restarts with every spec change.
func rolloutClock(pbi *pbv1alpha1.PocketBaseInstance, now time.Time) (*metav1.Time, time.Duration) {
	start := metav1.NewTime(now.Truncate(time.Second))
	if prev := pbi.Status.RolloutStartTime; prev != nil && pbi.Status.ObservedGeneration == pbi.Generation {
		start = *prev
	}
	deadline := time.Duration(pbi.ProgressDeadlineSeconds()) * time.Second
	return &start, start.Add(deadline).Sub(now)
}

// IsReady reports whether the conditions say Ready.
func IsReady(conds []metav1.Condition) bool {
	return meta.IsStatusConditionTrue(conds, string(pbv1alpha1.ConditionReady))
}

// podReady reports whether the StatefulSet has rolled out its current revision and its
// pod is ready; otherwise it says what is still missing.
func podReady(obs Observed) (bool, Problem) {
	sts := obs.StatefulSet
	switch {
	case sts == nil:
		return false, Problem{pbv1alpha1.ReasonReconciling, "Waiting for the StatefulSet to be created."}
	case sts.Status.ObservedGeneration < sts.Generation:
		return false, Problem{pbv1alpha1.ReasonRollingOut, "Waiting for the StatefulSet controller to observe the latest spec."}
	case sts.Status.UpdateRevision != "" && sts.Status.CurrentRevision != sts.Status.UpdateRevision,
		sts.Status.UpdatedReplicas < 1:
		return false, Problem{pbv1alpha1.ReasonRollingOut, "Rolling out the new pod template."}
	case obs.Pod == nil:
		return false, Problem{pbv1alpha1.ReasonRollingOut, "Waiting for the instance pod to be created."}
	case !PodIsReady(obs.Pod):
		return false, Problem{pbv1alpha1.ReasonPodNotReady, fmt.Sprintf("Pod %s is not ready yet.", obs.Pod.Name)}
	case sts.Status.ReadyReplicas < 1:
		return false, Problem{pbv1alpha1.ReasonPodNotReady, "Waiting for the StatefulSet to count the pod as ready."}
	}
	return true, Problem{}
}

// PodIsReady reports whether the pod passes its readiness probe and is not terminating.
func PodIsReady(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PodProblem finds what keeps a pod from running: a crash loop, an image that cannot be
// pulled, a container that cannot be configured, or a pod that cannot be scheduled.
func PodProblem(pod *corev1.Pod) *Problem {
	if pod == nil {
		return nil
	}
	for _, cs := range pod.Status.ContainerStatuses {
		w := cs.State.Waiting
		if w == nil {
			continue
		}
		msg := fmt.Sprintf("Container %s: %s", cs.Name, w.Reason)
		if w.Message != "" {
			msg += ": " + w.Message
		}
		switch w.Reason {
		case "CrashLoopBackOff":
			if t := cs.LastTerminationState.Terminated; t != nil {
				msg += fmt.Sprintf(" (last exit code %d, %s)", t.ExitCode, t.Reason)
			}
			return &Problem{pbv1alpha1.ReasonCrashLoop, msg}
		case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
			return &Problem{pbv1alpha1.ReasonImagePullFailed, msg}
		case "CreateContainerConfigError", "CreateContainerError", "RunContainerError":
			return &Problem{pbv1alpha1.ReasonPodFailed, msg}
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return &Problem{pbv1alpha1.ReasonUnschedulable, "Pod cannot be scheduled: " + c.Message}
		}
	}
	return nil
}

// QuotaProblem recognises an API error or event message saying a ResourceQuota refused
// an object.
func QuotaProblem(what, message string) *Problem {
	if strings.Contains(message, "exceeded quota") || strings.Contains(message, "must specify limits") {
		return &Problem{pbv1alpha1.ReasonQuotaExceeded, fmt.Sprintf("A ResourceQuota refused the %s: %s", what, message)}
	}
	return nil
}
