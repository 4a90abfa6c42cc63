// Package ext stands in for Traefik's dynamic-configuration extension point, a nested
// module of the Traefik repository that the module proxy does not serve. Upstream it
// holds only empty types that Traefik's own builds fill in; an empty struct keeps the
// open-source behaviour.
package ext

// HTTP extends dynamic.HTTP; empty in open-source builds.
type HTTP struct{}

// Router extends dynamic.Router; empty in open-source builds.
type Router struct{}
