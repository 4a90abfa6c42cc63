package integration

import (
	"bufio"
	"context"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
)

// benchInstances is how many instances BenchmarkConverge creates at once.
const benchInstances = 200

// BenchmarkConverge creates 200 instances at once against a real API server and reports
// how long the operator takes to create every child and report status, how long until
// all are Ready once their pods are (simulated: envtest runs no kubelet), and the peak
// heap and resident memory of the test process, which runs the operator's manager.
func BenchmarkConverge(b *testing.B) {
	logf.SetLogger(logr.Discard())
	env, c := startEnv()
	defer func() { _ = env.Stop() }()
	cl, err := client.New(c, client.Options{Scheme: scheme})
	if err != nil {
		b.Fatal(err)
	}
	mgr, err := newManager(c, testImage)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = mgr.Start(ctx) }()

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
			return pbi.Status.ObservedGeneration == pbi.Generation &&
				meta.FindStatusCondition(pbi.Status.Conditions, string(pbv1alpha1.ConditionProgressing)) != nil
		})
		children := time.Since(start)

		b.StopTimer()
		parallel(b, benchInstances, func(j int) error { return markReady(ctx, cl, ns, fmt.Sprintf("t%03d", j)) })
		b.StartTimer()
		readyStart := time.Now()
		waitAll(b, ctx, cl, ns, func(pbi *pbv1alpha1.PocketBaseInstance) bool {
			return meta.IsStatusConditionTrue(pbi.Status.Conditions, string(pbv1alpha1.ConditionReady))
		})
		b.ReportMetric(children.Seconds(), "s-to-children")
		b.ReportMetric(time.Since(readyStart).Seconds(), "s-to-ready")
	}
	peakHeap := stopSampling()
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(vmHWM())/(1<<10), "peak-rss-MiB")
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
	b.Fatalf("instances did not converge within 5 minutes")
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
