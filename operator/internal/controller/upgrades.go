package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlevent "sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

// UpgradeGate decides when an instance may start rolling out a new image, so an
// operator upgrade (a new default image) or a fleet-wide version bump never restarts
// every tenant at once. Only image changes of running instances pass through it: new
// instances, hibernated ones and other pod template changes go straight through.
//
// note: the slots are held in memory and mirrored on the StatefulSets
// (specs.AnnotationUpgradeTarget); a restarted operator rebuilds them from its cache on
// first use, so the limit survives restarts.
type UpgradeGate struct {
	// MaxConcurrent is how many instances may roll out a new image at once; 0 is no limit.
	MaxConcurrent int
	// Window, when set, is the only time new upgrades may start; upgrades already under
	// way finish outside it.
	Window *MaintenanceWindow

	mu      sync.Mutex
	seeded  bool
	holders map[types.NamespacedName]bool
	waiting map[types.NamespacedName]bool
	wake    chan ctrlevent.GenericEvent
}

// wakeups is the source that re-queues waiting instances when a slot frees up.
func (g *UpgradeGate) wakeups() chan ctrlevent.GenericEvent {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.wake == nil {
		g.wake = make(chan ctrlevent.GenericEvent, 64)
	}
	return g.wake
}

// admit asks for an upgrade slot for the instance. It returns "" when granted, or why
// the upgrade must wait.
func (g *UpgradeGate) admit(ctx context.Context, c client.Reader, key types.NamespacedName, now time.Time) (string, error) {
	if g == nil {
		return "", nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.seed(ctx, c); err != nil {
		return "", err
	}
	if g.holders[key] {
		return "", nil
	}
	if g.Window != nil && !g.Window.Open(now) {
		return fmt.Sprintf("The new image waits for the maintenance window (%s UTC).", g.Window), nil
	}
	if g.MaxConcurrent > 0 && len(g.holders) >= g.MaxConcurrent {
		if g.waiting == nil {
			g.waiting = map[types.NamespacedName]bool{}
		}
		g.waiting[key] = true
		return fmt.Sprintf("The new image waits for an upgrade slot: %d of %d instances are upgrading.",
			len(g.holders), g.MaxConcurrent), nil
	}
	delete(g.waiting, key)
	g.holders[key] = true
	return "", nil
}

// hold records whether the instance holds a slot after this pass.
func (g *UpgradeGate) hold(ctx context.Context, c client.Reader, key types.NamespacedName, holding bool) error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.seed(ctx, c); err != nil {
		return err
	}
	if holding {
		g.holders[key] = true
		return nil
	}
	if !g.holders[key] {
		return nil
	}
	delete(g.holders, key)
	// A slot is free: wake the instances waiting for one rather than leave them to
	// their periodic recheck.
	if g.wake != nil && len(g.waiting) > 0 {
		keys := make([]types.NamespacedName, 0, len(g.waiting))
		for k := range g.waiting {
			keys = append(keys, k)
		}
		clear(g.waiting)
		go func(ch chan<- ctrlevent.GenericEvent) {
			for _, k := range keys {
				obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: k.Namespace, Name: k.Name}}
				ch <- ctrlevent.GenericEvent{Object: obj}
			}
		}(g.wake)
	}
	return nil
}

// InUse is the number of slots held.
func (g *UpgradeGate) InUse() int {
	if g == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.holders)
}

// seed rebuilds the slots from the StatefulSets that carry the upgrade annotation.
func (g *UpgradeGate) seed(ctx context.Context, c client.Reader) error {
	if g.seeded {
		return nil
	}
	list := &appsv1.StatefulSetList{}
	if err := c.List(ctx, list, client.MatchingLabels{specs.LabelManagedBy: specs.ManagedBy}); err != nil {
		return fmt.Errorf("listing statefulsets for upgrade slots: %w", err)
	}
	if g.holders == nil {
		g.holders = map[types.NamespacedName]bool{}
	}
	for i := range list.Items {
		if list.Items[i].Annotations[specs.AnnotationUpgradeTarget] != "" {
			g.holders[client.ObjectKeyFromObject(&list.Items[i])] = true
		}
	}
	g.seeded = true
	return nil
}
