package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
	"github.com/pocketfleet/pocketfleet/operator/internal/status"
)

// FieldManager is the one server-side apply field manager the operator writes with.
const FieldManager = "pocketfleet-operator"

// ControllerName names the controller in logs, metrics and events.
const ControllerName = "pocketbaseinstance"

// recheckAfter is how soon a pass that found a problem outside the watched objects (a
// user's Secret, a StorageClass, a quota) looks again.
const recheckAfter = 30 * time.Second

// errBlocked stops a pass after a step recorded a problem in the status; the pass is
// retried after recheckAfter rather than with error backoff.
var errBlocked = errors.New("blocked")

// PocketBaseInstanceReconciler reconciles PocketBaseInstance objects.
type PocketBaseInstanceReconciler struct {
	client.Client
	// APIReader reads objects the cache does not hold: users' Secrets, StorageClasses
	// and events.
	APIReader client.Reader
	// Scheme is the manager's scheme.
	Scheme *runtime.Scheme
	// Recorder emits events on the instance.
	Recorder events.EventRecorder
	// DefaultImage is the instance image used when the spec names none.
	DefaultImage string
	// MaxConcurrentReconciles bounds parallel passes; 0 means controller-runtime's default.
	MaxConcurrentReconciles int
	// Upgrades limits how many instances roll out a new image at once and when; nil
	// lets every upgrade through at once.
	Upgrades *UpgradeGate
	// NetworkPolicyPeers, when not nil, makes the operator give every instance a
	// NetworkPolicy that admits traffic only from these peers. nil manages none (and
	// removes those the operator made before).
	NetworkPolicyPeers []specs.NetworkPolicyPeer
	// Now is the clock; nil is time.Now. Tests move it.
	Now func() time.Time
}

func (r *PocketBaseInstanceReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// pass carries what one reconcile pass learned, from step to step and into the status.
type pass struct {
	pbi            *pbv1alpha1.PocketBaseInstance
	image          string
	secretVersion  string
	superuserEmail specs.SuperuserEmail
	sts            *appsv1.StatefulSet
	pvc            *corev1.PersistentVolumeClaim
	pod            *corev1.Pod
	problem        *status.Problem
	pending        *status.Problem
	storage        *pbv1alpha1.StorageStatus
	held           *status.Problem
	notice         *status.Problem
	bootstrapped   bool
	recheck        time.Duration
	events         []event
}

// requeue asks for another pass within d.
func (p *pass) requeue(d time.Duration) {
	if d > 0 && (p.recheck == 0 || d < p.recheck) {
		p.recheck = d
	}
}

type event struct {
	eventType, reason, action, note string
}

// fail records the first problem of the pass.
func (p *pass) fail(reason, format string, args ...any) {
	if p.problem == nil {
		p.problem = &status.Problem{Reason: reason, Message: fmt.Sprintf(format, args...)}
	}
}

func (p *pass) record(eventType, reason, action, format string, args ...any) {
	p.events = append(p.events, event{eventType, reason, action, fmt.Sprintf(format, args...)})
}

type stepFunc func(ctx context.Context, p *pass) error

// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbaseinstances,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbaseinstances/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbaseinstances/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services;secrets;persistentvolumeclaims,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses;networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbaserestores,verbs=get;list;watch
// +kubebuilder:rbac:groups=pocketfleet.io,resources=pocketbasebackups,verbs=get;list;watch

// Reconcile brings one PocketBaseInstance's children to their desired state and writes
// what it saw into the status.
func (r *PocketBaseInstanceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	pbi := &pbv1alpha1.PocketBaseInstance{}
	if err := r.Get(ctx, req.NamespacedName, pbi); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	// note: every child carries an owner reference (the data volume only under the
	// Delete policy), so the garbage collector removes them; no finalizer is needed.
	if !pbi.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}

	p := &pass{pbi: pbi, image: specs.Image(pbi, r.DefaultImage)}
	defer func() {
		if err := r.writeStatus(ctx, p); err != nil {
			retErr = errors.Join(retErr, fmt.Errorf("writing status: %w", err))
			return
		}
		if retErr == nil && p.recheck > 0 && (res.RequeueAfter == 0 || p.recheck < res.RequeueAfter) {
			res.RequeueAfter = p.recheck
		}
		// Events only after the status write succeeded, so a retried pass does not
		// report the same change twice.
		for _, e := range p.events {
			r.Recorder.Eventf(pbi, nil, e.eventType, e.reason, e.action, "%s", e.note)
		}
	}()

	steps := []stepFunc{
		r.reconcileSuperuserSecret,
		r.reconcileDataVolumeClaim,
		r.observeRestores,
		r.reconcileBootstrap,
		r.reconcileService,
		r.reconcileStatefulSet,
		r.reconcileIngress,
		r.reconcileNetworkPolicy,
		r.observePod,
	}
	for _, step := range steps {
		if err := step(ctx, p); err != nil {
			if errors.Is(err, errBlocked) {
				return ctrl.Result{RequeueAfter: recheckAfter}, nil
			}
			p.fail(pbv1alpha1.ReasonReconcileError, "%v", err)
			return ctrl.Result{}, err
		}
	}
	if p.problem != nil {
		return ctrl.Result{RequeueAfter: recheckAfter}, nil
	}
	return ctrl.Result{}, nil
}

// SetupWithManager registers the controller and its watches.
func (r *PocketBaseInstanceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	// A restore's phase decides whether its instance's pod may run.
	byRestore := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		rs := o.(*pbv1alpha1.PocketBaseRestore)
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: rs.Namespace, Name: rs.Spec.InstanceName}}}
	})
	// The data volume claim has no owner under the Retain policy, so it is mapped back
	// to its instance by label rather than by owner reference.
	byInstanceLabel := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		name, ok := o.GetLabels()[specs.LabelInstance]
		if !ok || o.GetLabels()[specs.LabelManagedBy] != specs.ManagedBy {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: name}}}
	})
	b := ctrl.NewControllerManagedBy(mgr)
	if r.Upgrades != nil {
		b = b.WatchesRawSource(source.Channel(r.Upgrades.wakeups(), &handler.EnqueueRequestForObject{}))
	}
	return b.
		For(&pbv1alpha1.PocketBaseInstance{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.Secret{}).
		Owns(&networkingv1.Ingress{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&batchv1.Job{}).
		Watches(&pbv1alpha1.PocketBaseRestore{}, byRestore).
		Watches(&corev1.PersistentVolumeClaim{}, byInstanceLabel).
		Watches(&corev1.Pod{}, byInstanceLabel).
		Named(ControllerName).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}
