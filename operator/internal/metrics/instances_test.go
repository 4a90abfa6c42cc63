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
		inst("a", metav1.Condition{Type: "Ready", Status: "True"}, metav1.Condition{Type: "Degraded", Status: "False"}),
		inst("b", metav1.Condition{Type: "Ready", Status: "False"}, metav1.Condition{Type: "Degraded", Status: "True"}),
		inst("c"),
	).Build()

	want := `
# HELP pocketfleet_instances Number of PocketBaseInstances by condition type (Ready, Progressing, Degraded) and status (True, False, Unknown).
# TYPE pocketfleet_instances gauge
pocketfleet_instances{condition="Degraded",status="False"} 1
pocketfleet_instances{condition="Degraded",status="True"} 1
pocketfleet_instances{condition="Degraded",status="Unknown"} 1
pocketfleet_instances{condition="Progressing",status="False"} 0
pocketfleet_instances{condition="Progressing",status="True"} 0
pocketfleet_instances{condition="Progressing",status="Unknown"} 3
pocketfleet_instances{condition="Ready",status="False"} 1
pocketfleet_instances{condition="Ready",status="True"} 1
pocketfleet_instances{condition="Ready",status="Unknown"} 1
`
	if err := testutil.CollectAndCompare(&InstanceCollector{Reader: c}, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
