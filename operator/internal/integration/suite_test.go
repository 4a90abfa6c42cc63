package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/controller"
)

// testImage is the default instance image the test operator is started with.
const testImage = "registry.test/pocketfleet/instance:v9.9.9"

var (
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    = newScheme()
	stopMgr   context.CancelFunc
	mgrDone   chan struct{}
)

func TestIntegration(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Operator integration suite (envtest)")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	testEnv, cfg = startEnv()
	var err error
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	startManager()
})

var _ = AfterSuite(func() {
	stopManager()
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(pbv1alpha1.AddToScheme(s))
	return s
}

// startEnv starts kube-apiserver and etcd with the project's CRDs installed. It fails
// loudly when KUBEBUILDER_ASSETS is unset: these tests never skip.
func startEnv() (*envtest.Environment, *rest.Config) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		panic("KUBEBUILDER_ASSETS is not set: run `make test-integration`, which builds kube-apiserver and etcd with hack/envtest-assets.sh")
	}
	_, file, _, _ := goruntime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		// note: a loaded 2-core machine can take longer than envtest's 20s default.
		ControlPlaneStartTimeout: 2 * time.Minute,
	}
	// note: envtest's default Service range is a /24, too small for the 1,000 tenants
	// of BenchmarkConverge.
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.0.0.0/16")
	c, err := env.Start()
	if err != nil {
		panic(fmt.Sprintf("starting envtest: %v", err))
	}
	return env, c
}

// clockOffset moves the reconciler's clock forward, so a test can pass a rollout
// deadline without waiting for it.
var clockOffset atomic.Int64

func testNow() time.Time { return time.Now().Add(time.Duration(clockOffset.Load())) }

// reconcilerOption configures the reconciler of a test manager beyond main.go's defaults.
type reconcilerOption func(*controller.PocketBaseInstanceReconciler)

// newManager builds a manager running the reconciler exactly as operator/main.go does.
func newManager(c *rest.Config, image string, opts ...reconcilerOption) (ctrl.Manager, error) {
	mgr, err := ctrl.NewManager(c, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  controller.CacheOptions(),
		// note: the suite starts several managers in one process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, err
	}
	if err := controller.SetupIndexes(context.Background(), mgr); err != nil {
		return nil, err
	}
	if err := (&controller.PocketBaseRestoreReconciler{
		Client:       mgr.GetClient(),
		APIReader:    mgr.GetAPIReader(),
		Scheme:       mgr.GetScheme(),
		Recorder:     mgr.GetEventRecorder("pocketfleet-operator"),
		DefaultImage: image,
		Now:          testNow,
	}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	r := &controller.PocketBaseInstanceReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Scheme:                  mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder("pocketfleet-operator"),
		DefaultImage:            image,
		MaxConcurrentReconciles: 4,
		Upgrades:                &controller.UpgradeGate{},
		Now:                     testNow,
	}
	for _, o := range opts {
		o(r)
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	return mgr, setupBackupControllers(mgr, image)
}

func startManager(opts ...reconcilerOption) {
	mgr, err := newManager(cfg, testImage, opts...)
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	stopMgr = cancel
	mgrDone = make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(mgrDone)
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
}

func stopManager() {
	if stopMgr == nil {
		return
	}
	stopMgr()
	Eventually(mgrDone, 30*time.Second).Should(BeClosed())
	stopMgr = nil
}
