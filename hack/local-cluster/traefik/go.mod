// Traefik v3, the Ingress controller of the local e2e cluster, built from the Go module
// proxy. Its own go.mod replaces a nested module (dynamic/ext) by a local path and two
// packages by forks; a dependency's replace directives do not apply here, so they are
// repeated below.
module github.com/pocketfleet/pocketfleet/hack/local-cluster/traefik

go 1.26.0

replace github.com/traefik/traefik/dynamic/ext => ./ext

replace (
	github.com/abbot/go-http-auth => github.com/containous/go-http-auth v0.4.1-0.20260804094822-b975dcaa8c48
	github.com/gorilla/mux => github.com/containous/mux v0.0.0-20250523120546-41b6ec3aed59
)

exclude github.com/tencentcloud/tencentcloud-sdk-go v3.0.83+incompatible
