package status

import (
	"fmt"
	"strings"

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
}

// Conditions returns the instance's conditions after this pass. Transition times of
// conditions whose status did not change are kept.
func Conditions(pbi *pbv1alpha1.PocketBaseInstance, obs Observed) []metav1.Condition {
	conds := make([]metav1.Condition, len(pbi.Status.Conditions))
	copy(conds, pbi.Status.Conditions)
	set := func(t pbv1alpha1.ConditionType, s metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&conds, metav1.Condition{
			Type: string(t), Status: s, Reason: reason, Message: msg,
			ObservedGeneration: pbi.Generation,
		})
	}

	ready, why := podReady(obs)
	switch {
	case obs.Problem != nil:
		set(pbv1alpha1.ConditionDegraded, metav1.ConditionTrue, obs.Problem.Reason, obs.Problem.Message)
	default:
		set(pbv1alpha1.ConditionDegraded, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected, "No problems detected.")
	}
	if ready {
		set(pbv1alpha1.ConditionReady, metav1.ConditionTrue, pbv1alpha1.ReasonAvailable, "The instance is serving requests.")
		set(pbv1alpha1.ConditionProgressing, metav1.ConditionFalse, pbv1alpha1.ReasonAsExpected, "The desired state is rolled out.")
		return conds
	}
	notReadyReason, notReadyMsg := why.Reason, why.Message
	if obs.Problem != nil {
		notReadyReason, notReadyMsg = obs.Problem.Reason, obs.Problem.Message
	}
	set(pbv1alpha1.ConditionReady, metav1.ConditionFalse, notReadyReason, notReadyMsg)
	if obs.Problem != nil {
		set(pbv1alpha1.ConditionProgressing, metav1.ConditionFalse, obs.Problem.Reason, "Progress is blocked: "+obs.Problem.Message)
	} else {
		set(pbv1alpha1.ConditionProgressing, metav1.ConditionTrue, why.Reason, why.Message)
	}
	return conds
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
	case !isPodReady(obs.Pod):
		return false, Problem{pbv1alpha1.ReasonPodNotReady, fmt.Sprintf("Pod %s is not ready yet.", obs.Pod.Name)}
	case sts.Status.ReadyReplicas < 1:
		return false, Problem{pbv1alpha1.ReasonPodNotReady, "Waiting for the StatefulSet to count the pod as ready."}
	}
	return true, Problem{}
}

func isPodReady(pod *corev1.Pod) bool {
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
