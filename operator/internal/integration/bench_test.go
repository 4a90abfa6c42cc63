package integration

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/controller"
)

// benchInstances is how many instances BenchmarkConverge creates at once; the
// PF_BENCH_INSTANCES environment variable overrides it.
var benchInstances = 1000

// BenchmarkConverge creates 1,000 instances at once against a real API server and
// reports how long the operator takes to create every child and report status, how
// long until all are Ready once their pods are (simulated: envtest runs no kubelet), the
// p99 of one reconcile pass, and the peak heap and resident memory of the test process,
// which runs the operator's manager. It then restarts the operator, which reconciles
// every instance again, and fails if any of those idle passes wrote anything.
func BenchmarkConverge(b *testing.B) {
	if v := os.Getenv("PF_BENCH_INSTANCES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("PF_BENCH_INSTANCES=%q is not a positive number", v)
		}
		benchInstances = n
	}
	logf.SetLogger(logr.Discard())
	env, c := startEnv()
	defer func() { _ = env.Stop() }()
	cl, err := client.New(c, client.Options{Scheme: scheme})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopMgr := runManager(b, ctx, c)

	stopSampling := sampleHeap()
	for i := 0; i < b.N; i++ {
		ns := fmt.Sprintf("bench-%d", i)
		if err := cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		start := time.Now()
		parallel(b, benchInstances, func(j int) error {
			return cl.Create(ctx, &pbv1alpha1.PocketBaseInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("t%03d", j)}})
		})
		waitAll(b, ctx, cl, ns, func(pbi *pbv1alpha1.PocketBaseInstance) bool {
			// RollingOut: every child exists and the pass found nothing wrong; only
			// the pod, which no kubelet runs here, is missing.
			c := meta.FindStatusCondition(pbi.Status.Conditions, string(pbv1alpha1.ConditionProgressing))
			return pbi.Status.ObservedGeneration == pbi.Generation && c != nil && c.Reason == pbv1alpha1.ReasonRollingOut
		})
		children := time.Since(start)

		b.StopTimer()
		parallel(b, benchInstances, func(j int) error { return markReady(ctx, cl, ns, fmt.Sprintf("t%03d", j)) })
		b.StartTimer()
		readyStart := time.Now()
		waitAll(b, ctx, cl, ns, func(pbi *pbv1alpha1.PocketBaseInstance) bool {
			return meta.IsStatusConditionTrue(pbi.Status.Conditions, string(pbv1alpha1.ConditionReady))
		})
		toReady := time.Since(readyStart)
		b.ReportMetric(children.Seconds(), "s-to-children")
		b.ReportMetric(toReady.Seconds(), "s-to-ready")
		b.ReportMetric((children + toReady).Seconds(), "s-converge")
		b.ReportMetric(reconcileQuantile(b, 0.99)*1000, "reconcile-p99-ms")
		b.ReportMetric(reconcileCount(b), "reconciles")
		b.ReportMetric(reconcileErrors(b), "reconcile-errors")

		b.StopTimer()
		stopMgr()
		before := snapshot(b, ctx, cl, ns)
		passes := reconcileCount(b)
		stopMgr = runManager(b, ctx, c)
		// A fresh manager lists every instance and reconciles each once.
		deadline := time.Now().Add(5 * time.Minute)
		for reconcileCount(b)-passes < float64(benchInstances) {
			if time.Now().After(deadline) {
				b.Fatalf("the restarted operator did not reconcile all %d instances", benchInstances)
			}
			time.Sleep(200 * time.Millisecond)
		}
		time.Sleep(2 * time.Second)
		after := snapshot(b, ctx, cl, ns)
		writes := 0
		for k, v := range before {
			if after[k] != v {
				writes++
				b.Logf("idle pass changed %s: resourceVersion %s -> %s", k, v, after[k])
			}
		}
		for k := range after {
			if _, ok := before[k]; !ok {
				writes++
				b.Logf("idle pass created %s", k)
			}
		}
		b.ReportMetric(float64(writes), "idle-writes")
		if writes > 0 {
			b.Fatalf("%d objects were written by %d idle reconciles", writes, benchInstances)
		}
		b.StartTimer()
	}
	peakHeap := stopSampling()
	stopMgr()
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(vmHWM())/(1<<10), "peak-rss-MiB")
}

// runManager starts the operator's manager and returns a function that stops it and
// waits until it has.
func runManager(b *testing.B, ctx context.Context, c *rest.Config) func() {
	mgr, err := newManager(c, testImage)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = mgr.Start(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// snapshot maps every object of the namespace the operator writes (instances, their
// children, and events about them) to its resourceVersion.
func snapshot(b *testing.B, ctx context.Context, cl client.Client, ns string) map[string]string {
	out := map[string]string{}
	lists := map[string]client.ObjectList{
		"PocketBaseInstance": &pbv1alpha1.PocketBaseInstanceList{}, "StatefulSet": &appsv1.StatefulSetList{},
		"Service": &corev1.ServiceList{}, "Secret": &corev1.SecretList{},
		"PersistentVolumeClaim": &corev1.PersistentVolumeClaimList{}, "Event": &eventsv1.EventList{},
	}
	for kind, list := range lists {
		if err := cl.List(ctx, list, client.InNamespace(ns)); err != nil {
			b.Fatal(err)
		}
		if err := meta.EachListItem(list, func(o runtime.Object) error {
			obj := o.(client.Object)
			out[kind+"/"+obj.GetName()] = obj.GetResourceVersion()
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// reconcileHistogram is controller-runtime's reconcile latency histogram of our
// controller, from the registry the manager exports on /metrics.
func reconcileHistogram(b *testing.B) *dto.Histogram {
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_time_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == controller.ControllerName {
					return m.GetHistogram()
				}
			}
		}
	}
	b.Fatal("controller_runtime_reconcile_time_seconds has no series for the controller")
	return nil
}

// reconcileErrors is controller-runtime's count of passes of our controller that
// returned an error.
func reconcileErrors(b *testing.B) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_errors_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == controller.ControllerName {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

func reconcileCount(b *testing.B) float64 {
	return float64(reconcileHistogram(b).GetSampleCount())
}

// reconcileQuantile is the upper bound of the histogram bucket holding quantile q of
// all reconcile passes so far: a p99 no better than the truth.
func reconcileQuantile(b *testing.B, q float64) float64 {
	h := reconcileHistogram(b)
	rank := q * float64(h.GetSampleCount())
	for _, bk := range h.GetBucket() {
		if float64(bk.GetCumulativeCount()) >= rank {
			return bk.GetUpperBound()
		}
	}
	return math.Inf(1)
}

func parallel(b *testing.B, n int, f func(int) error) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for j := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := f(j); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

func waitAll(b *testing.B, ctx context.Context, cl client.Client, ns string, done func(*pbv1alpha1.PocketBaseInstance) bool) {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		list := &pbv1alpha1.PocketBaseInstanceList{}
		if err := cl.List(ctx, list, client.InNamespace(ns)); err != nil {
			b.Fatal(err)
		}
		n := 0
		for i := range list.Items {
			if done(&list.Items[i]) {
				n++
			}
		}
		if n == benchInstances {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	list := &pbv1alpha1.PocketBaseInstanceList{}
	if err := cl.List(ctx, list, client.InNamespace(ns)); err != nil {
		b.Fatal(err)
	}
	states := map[string]int{}
	samples := map[string]string{}
	for i := range list.Items {
		pbi := &list.Items[i]
		if done(pbi) {
			continue
		}
		st := "no status"
		if c := meta.FindStatusCondition(pbi.Status.Conditions, string(pbv1alpha1.ConditionProgressing)); c != nil {
			st = string(c.Status) + "/" + c.Reason
			samples[st] = c.Message
		}
		states[st]++
	}
	b.Fatalf("instances did not converge within 5 minutes; not done by Progressing state: %v; messages: %v", states, samples)
}

// markReady stands in for the StatefulSet controller and kubelet.
func markReady(ctx context.Context, cl client.Client, ns, name string) error {
	sts := &appsv1.StatefulSet{}
	if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, sts); err != nil {
		return err
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-0", Labels: sts.Spec.Template.Labels},
		Spec:       *sts.Spec.Template.Spec.DeepCopy(),
	}
	if err := cl.Create(ctx, pod); err != nil {
		return err
	}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	if err := cl.Status().Update(ctx, pod); err != nil {
		return err
	}
	rev := name + "-1"
	sts.Status = appsv1.StatefulSetStatus{
		ObservedGeneration: sts.Generation, Replicas: 1, ReadyReplicas: 1, UpdatedReplicas: 1, CurrentReplicas: 1,
		CurrentRevision: rev, UpdateRevision: rev,
	}
	return cl.Status().Update(ctx, sts)
}

// sampleHeap samples the heap in use every 50ms until the returned function is called,
// which returns the peak.
func sampleHeap() func() uint64 {
	var (
		mu   sync.Mutex
		peak uint64
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			var ms goruntime.MemStats
			goruntime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// vmHWM is the process's peak resident set size in KiB, from /proc/self/status.
func vmHWM() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			v, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v
		}
	}
	return 0
}
