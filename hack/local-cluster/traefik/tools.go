//go:build tools

// Package traefik pins Traefik v3, the Ingress controller that build.sh builds for the
// local cluster. It is a module of its own so that no other go.mod requires Traefik.
package traefik

import _ "github.com/traefik/traefik/v3/cmd/traefik"
