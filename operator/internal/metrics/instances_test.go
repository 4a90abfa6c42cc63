package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

func TestInstanceCollector(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := pbv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	inst := func(name string, conds ...metav1.Condition) *pbv1alpha1.PocketBaseInstance {
		return &pbv1alpha1.PocketBaseInstance{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
			Status:     pbv1alpha1.PocketBaseInstanceStatus{Conditions: conds},
		}
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		inst("a", metav1.Condition{Type: "Ready", Status: "True", Reason: "Available"}, metav1.Condition{Type: "Degraded", Status: "False", Reason: "AsExpected"}),
		inst("b", metav1.Condition{Type: "Ready", Status: "False", Reason: "Hibernated"}, metav1.Condition{Type: "Degraded", Status: "True", Reason: "RolloutStuck"}),
		inst("d", metav1.Condition{Type: "Ready", Status: "False", Reason: "Hibernated"}),
		inst("c"),
	).Build()

	want := `
# HELP pocketfleet_instances Number of PocketBaseInstances by condition type (Ready, Progressing, Degraded) and status (True, False, Unknown).
# TYPE pocketfleet_instances gauge
pocketfleet_instances{condition="Degraded",status="False"} 1
pocketfleet_instances{condition="Degraded",status="True"} 1
pocketfleet_instances{condition="Degraded",status="Unknown"} 2
pocketfleet_instances{condition="Progressing",status="False"} 0
pocketfleet_instances{condition="Progressing",status="True"} 0
pocketfleet_instances{condition="Progressing",status="Unknown"} 4
pocketfleet_instances{condition="Ready",status="False"} 2
pocketfleet_instances{condition="Ready",status="True"} 1
pocketfleet_instances{condition="Ready",status="Unknown"} 1
# HELP pocketfleet_instance_reasons Number of PocketBaseInstances by condition type and the condition's reason (Ready: Available, Hibernated, CrashLoopBackOff...; Progressing: UpgradeQueued...).
# TYPE pocketfleet_instance_reasons gauge
pocketfleet_instance_reasons{condition="Degraded",reason="AsExpected"} 1
pocketfleet_instance_reasons{condition="Degraded",reason="RolloutStuck"} 1
pocketfleet_instance_reasons{condition="Ready",reason="Available"} 1
pocketfleet_instance_reasons{condition="Ready",reason="Hibernated"} 2
# HELP pocketfleet_upgrades_in_progress Number of instances rolling out a new image and holding an upgrade slot.
# TYPE pocketfleet_upgrades_in_progress gauge
pocketfleet_upgrades_in_progress 3
`
	collector := &InstanceCollector{Reader: c, UpgradesInProgress: func() int { return 3 }}
	if err := testutil.CollectAndCompare(collector, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
