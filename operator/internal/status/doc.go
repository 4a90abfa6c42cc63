// Package status computes the conditions of a PocketBaseInstance from what the
// controller observed in one pass. It is pure: the controller gathers the facts, this
// package decides what they mean.
package status
