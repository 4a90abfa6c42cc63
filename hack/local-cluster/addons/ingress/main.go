// local-ingress: the Ingress controller of pocketfleet's local cluster. It watches
// networking.k8s.io/v1 Ingresses of its IngressClass and Services, and reverse-proxies
// each request by Host and path to the backend Service's ClusterIP (kube-proxy takes it
// from there). Responses are flushed as they come (FlushInterval -1), so Server-Sent Events
// stream through it.
//
// It stands in for Traefik v3, which does not build from this project's Go module proxy
// (see hack/local-cluster/README.md). It implements the part of the Ingress API that the
// operator writes: exact and wildcard hosts, Prefix, Exact and ImplementationSpecific paths
// (longest match wins), backends by Service port number or name, and the default class.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	netlisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/clientcmd"
)

const defaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class"

type router struct {
	class     string
	ingresses netlisters.IngressLister
	classes   netlisters.IngressClassLister
	services  corelisters.ServiceLister
	proxy     *httputil.ReverseProxy
}

type backendKey struct{}

// serves reports whether this controller owns the Ingress: its class is ours, or it names
// no class and ours is the cluster's default.
func (r *router) serves(ing *networkingv1.Ingress) bool {
	if ing.Spec.IngressClassName != nil {
		return *ing.Spec.IngressClassName == r.class
	}
	ic, err := r.classes.Get(r.class)
	return err == nil && ic.Annotations[defaultClassAnnotation] == "true"
}

func hostMatches(rule, host string) bool {
	if rule == "" || rule == host {
		return true
	}
	// "*.example.com" matches exactly one extra label
	if suffix, ok := strings.CutPrefix(rule, "*"); ok && strings.HasSuffix(host, suffix) {
		return !strings.Contains(strings.TrimSuffix(host, suffix), ".")
	}
	return false
}

// pathMatches returns the length of the match, or -1.
func pathMatches(p networkingv1.HTTPIngressPath, reqPath string) int {
	path := p.Path
	if path == "" {
		path = "/"
	}
	if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
		if reqPath == path {
			return len(path)
		}
		return -1
	}
	// Prefix: element-wise, "/foo" matches "/foo" and "/foo/bar" but not "/foobar"
	trimmed := strings.TrimSuffix(path, "/")
	if reqPath == trimmed || strings.HasPrefix(reqPath, trimmed+"/") || path == "/" {
		return len(trimmed)
	}
	return -1
}

// route finds the backend of a request: the longest matching path of the rules of our
// Ingresses whose host matches.
func (r *router) route(host, reqPath string) (*networkingv1.Ingress, *networkingv1.IngressServiceBackend) {
	all, err := r.ingresses.List(labels.Everything())
	if err != nil {
		return nil, nil
	}
	var (
		best    *networkingv1.IngressServiceBackend
		bestIng *networkingv1.Ingress
		bestLen = -1
	)
	for _, ing := range all {
		if !r.serves(ing) {
			continue
		}
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil || !hostMatches(rule.Host, host) {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				if n := pathMatches(p, reqPath); n > bestLen && p.Backend.Service != nil {
					best, bestIng, bestLen = p.Backend.Service, ing, n
				}
			}
		}
		if bestLen < 0 && ing.Spec.DefaultBackend != nil && ing.Spec.DefaultBackend.Service != nil {
			best, bestIng = ing.Spec.DefaultBackend.Service, ing
		}
	}
	return bestIng, best
}

// target resolves a backend to the Service's ClusterIP and port.
func (r *router) target(ns string, b *networkingv1.IngressServiceBackend) (string, error) {
	svc, err := r.services.Services(ns).Get(b.Name)
	if err != nil {
		return "", err
	}
	if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
		return "", errors.New("service " + ns + "/" + b.Name + " has no ClusterIP")
	}
	for _, sp := range svc.Spec.Ports {
		if (b.Port.Name != "" && sp.Name == b.Port.Name) || (b.Port.Number != 0 && sp.Port == b.Port.Number) {
			return net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(sp.Port))), nil
		}
	}
	return "", errors.New("service " + ns + "/" + b.Name + " has no such port")
}

func (r *router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	host := req.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ing, backend := r.route(strings.ToLower(host), req.URL.Path)
	if backend == nil {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	addr, err := r.target(ing.Namespace, backend)
	if err != nil {
		slog.Warn("no backend", "ingress", ing.Namespace+"/"+ing.Name, "err", err)
		http.Error(w, "503 service unavailable", http.StatusServiceUnavailable)
		return
	}
	r.proxy.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), backendKey{}, addr)))
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file")
	listen := flag.String("listen", "10.244.0.1:80", "address to serve HTTP on")
	class := flag.String("class", "local", "IngressClass name this controller serves")
	flag.Parse()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		slog.Error("kubeconfig", "err", err)
		os.Exit(1)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()

	factory := informers.NewSharedInformerFactory(client, 10*time.Minute)
	r := &router{
		class:     *class,
		ingresses: factory.Networking().V1().Ingresses().Lister(),
		classes:   factory.Networking().V1().IngressClasses().Lister(),
		services:  factory.Core().V1().Services().Lister(),
	}
	r.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			addr, _ := pr.In.Context().Value(backendKey{}).(string)
			pr.SetURL(&url.URL{Scheme: "http", Host: addr})
			pr.Out.Host = pr.In.Host // the backend sees the tenant's host name
			pr.SetXForwarded()
		},
		FlushInterval: -1, // stream: realtime (SSE) responses must not be buffered
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			slog.Warn("proxy", "host", req.Host, "path", req.URL.Path, "err", err)
			http.Error(w, "502 bad gateway", http.StatusBadGateway)
		},
	}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			slog.Error("cache did not sync", "type", typ.String())
			os.Exit(1)
		}
	}
	srv := &http.Server{Addr: *listen, Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = srv.Shutdown(shutdown)
	}()
	slog.Info("local ingress controller serving", "listen", *listen, "class", *class)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		slog.Error("serve", "err", err)
		os.Exit(1)
	}
}
