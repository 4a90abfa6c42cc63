package contract

import (
	"slices"
	"testing"
)

func TestServeArgs(t *testing.T) {
	got := ServeArgs("0.0.0.0:8090", "/pb_data")
	want := []string{"serve", "--http", "0.0.0.0:8090", "--dir", "/pb_data"}
	if !slices.Equal(got, want) {
		t.Fatalf("ServeArgs() = %q, want %q", got, want)
	}
}
