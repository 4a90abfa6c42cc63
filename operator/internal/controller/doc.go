// Package controller holds the reconciler that turns a PocketBaseInstance into its
// superuser Secret, data volume claim, Service, StatefulSet and Ingress, and reports
// what it saw in the instance's status.
package controller
