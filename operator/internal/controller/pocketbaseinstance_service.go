package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/pocketfleet/pocketfleet/operator/internal/specs"
)

// reconcileService applies the instance's Service.
func (r *PocketBaseInstanceReconciler) reconcileService(ctx context.Context, p *pass) error {
	svc := &corev1.Service{}
	created, changed, err := r.applyChild(ctx, specs.Service(p.pbi), svc)
	if err != nil {
		return fmt.Errorf("applying service: %w", err)
	}
	p.recordApplied("Service", svc.Name, created, changed)
	return nil
}
