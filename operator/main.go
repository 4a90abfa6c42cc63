// Command operator runs the pocketfleet controller manager: it reconciles
// PocketBaseInstance objects into running tenants.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/operator/internal/controller"
	operatormetrics "github.com/pocketfleet/pocketfleet/operator/internal/metrics"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

// defaultInstanceImage is the instance image used when a PocketBaseInstance names none.
// It is stamped at build time so that an operator release deploys its own instance.
var defaultInstanceImage = "ghcr.io/pocketfleet/instance:v0.1.0"

func main() {
	var (
		metricsAddr          string
		probeAddr            string
		secureMetrics        bool
		enableHTTP2          bool
		leaderElect          bool
		leaderElectNamespace string
		instanceImage        string
		maxConcurrent        int
		maxUpgrades          int
		maintenanceWindow    string
		netpol               networkPolicyFlags
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080",
		"Address the metrics endpoint binds to, for example :8443 with --metrics-secure. Use 0 to disable it.")
	flag.BoolVar(&secureMetrics, "metrics-secure", false,
		"Serve metrics over HTTPS, with authentication and authorization through the API server.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false,
		"Allow HTTP/2 on the metrics server (off by default: HTTP/2 Rapid Reset, CVE-2023-44487).")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.BoolVar(&leaderElect, "leader-elect", false,
		"Elect a leader so that only one of several operator replicas reconciles at a time.")
	flag.StringVar(&leaderElectNamespace, "leader-election-namespace", "",
		"Namespace of the leader election lease; defaults to the operator's own namespace.")
	flag.StringVar(&instanceImage, "instance-image", defaultInstanceImage,
		"Instance image used when a PocketBaseInstance sets neither spec.image nor spec.version.")
	flag.IntVar(&maxConcurrent, "max-concurrent-reconciles", 4, "How many instances are reconciled in parallel.")
	flag.IntVar(&maxUpgrades, "max-concurrent-upgrades", 0,
		"How many instances may roll out a new image at once; the others wait with Progressing reason UpgradeQueued. 0 is no limit.")
	flag.StringVar(&maintenanceWindow, "maintenance-window", "",
		`When set, instances start rolling out a new image only inside this weekly UTC window, for example "02:00-04:00" or "Sat,Sun 01:00-05:00".`)
	flag.BoolVar(&netpol.enabled, "network-policy", false,
		"Give every instance a NetworkPolicy that admits traffic on its HTTP port only from the ingress controller, the operator and monitoring.")
	flag.StringVar(&netpol.ingressNamespaces, "network-policy-ingress-namespaces", "kubernetes.io/metadata.name=ingress-nginx",
		"Label selector of the namespaces the ingress controller runs in.")
	flag.StringVar(&netpol.ingressPods, "network-policy-ingress-pods", "",
		"Label selector of the ingress controller pods in those namespaces; empty allows every pod there.")
	flag.StringVar(&netpol.operatorNamespace, "network-policy-operator-namespace", os.Getenv("POD_NAMESPACE"),
		"Namespace of the operator, whose pods may reach instances; empty leaves the operator out.")
	flag.StringVar(&netpol.operatorPods, "network-policy-operator-pods", "app.kubernetes.io/component=controller-manager",
		"Label selector of the operator pods in its namespace.")
	flag.StringVar(&netpol.monitoringNamespaces, "network-policy-monitoring-namespaces", "",
		"Label selector of the namespaces the metrics scraper runs in; empty leaves monitoring out.")
	flag.StringVar(&netpol.monitoringPods, "network-policy-monitoring-pods", "",
		"Label selector of the metrics scraper pods in those namespaces; empty allows every pod there.")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	setupLog := ctrl.Log.WithName("setup")

	upgrades := &controller.UpgradeGate{MaxConcurrent: maxUpgrades}
	if maintenanceWindow != "" {
		w, err := controller.ParseMaintenanceWindow(maintenanceWindow)
		if err != nil {
			setupLog.Error(err, "Invalid --maintenance-window")
			os.Exit(1)
		}
		upgrades.Window = w
	}
	peers, err := netpol.peers()
	if err != nil {
		setupLog.Error(err, "Invalid network policy flags")
		os.Exit(1)
	}

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(pbv1alpha1.AddToScheme(scheme))

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{BindAddress: metricsAddr, SecureServing: secureMetrics, TLSOpts: tlsOpts}
	if secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	var mgr ctrl.Manager
	mgr, err = ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        probeAddr,
		LeaderElection:                leaderElect,
		LeaderElectionID:              "pocketfleet-operator.pocketfleet.io",
		LeaderElectionNamespace:       leaderElectNamespace,
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controller.CacheOptions(),
	})
	if err != nil {
		setupLog.Error(err, "Failed to create manager")
		os.Exit(1)
	}

	if err := controller.SetupIndexes(context.Background(), mgr); err != nil {
		setupLog.Error(err, "Failed to set up cache indexes")
		os.Exit(1)
	}
	if err := (&controller.PocketBaseInstanceReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Scheme:                  mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder("pocketfleet-operator"),
		DefaultImage:            instanceImage,
		MaxConcurrentReconciles: maxConcurrent,
		Upgrades:                upgrades,
		NetworkPolicyPeers:      peers,
	}).SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "Failed to set up controller", "controller", controller.ControllerName)
		os.Exit(1)
	}
	if err := (&controller.PocketBaseRestoreReconciler{
		Client:       mgr.GetClient(),
		APIReader:    mgr.GetAPIReader(),
		Scheme:       mgr.GetScheme(),
		Recorder:     mgr.GetEventRecorder("pocketfleet-operator"),
		DefaultImage: instanceImage,
	}).SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "Failed to set up controller", "controller", controller.RestoreControllerName)
		os.Exit(1)
	}
	// note: controller-runtime registers its own controller_runtime_reconcile_* and
	// workqueue_* metrics in this registry; ours join them on the same endpoint.
	ctrlmetrics.Registry.MustRegister(&operatormetrics.InstanceCollector{
		Reader: mgr.GetClient(), UpgradesInProgress: upgrades.InUse,
	})
	backupMetrics, err := operatormetrics.NewBackups(ctrlmetrics.Registry)
	if err != nil {
		setupLog.Error(err, "Failed to register backup metrics")
		os.Exit(1)
	}
	ctrlmetrics.Registry.MustRegister(&operatormetrics.BackupHealthCollector{Reader: mgr.GetClient()})
	if err := controller.SetupBackupControllers(mgr, &controller.PocketBaseBackupReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Recorder:                mgr.GetEventRecorder("pocketfleet-operator"),
		DefaultImage:            instanceImage,
		Metrics:                 backupMetrics,
		MaxConcurrentReconciles: maxConcurrent,
	}, &controller.BackupScheduleReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Recorder:                mgr.GetEventRecorder("pocketfleet-operator"),
		MaxConcurrentReconciles: maxConcurrent,
	}); err != nil {
		setupLog.Error(err, "Failed to set up controller", "controller", controller.BackupControllerName)
		os.Exit(1)
	}
	utilruntime.Must(mgr.AddHealthzCheck("healthz", healthz.Ping))
	utilruntime.Must(mgr.AddReadyzCheck("readyz", healthz.Ping))

	setupLog.Info("Starting manager", "version", version, "instanceImage", instanceImage)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "Manager exited with an error")
		os.Exit(1)
	}
}
