// Package specs builds the desired state of a PocketBaseInstance's children as client-go
// apply configurations. Builders are pure: no client, no context, no clock.
package specs
