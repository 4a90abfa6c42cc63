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

func TestBackupArgs(t *testing.T) {
	push := BackupPushArgs("http://acme.team.svc:8090", "x.zip", 7, "720h")
	wantPush := []string{"backup", "push", "--url", "http://acme.team.svc:8090", "--name", "x.zip",
		"--result-file", "/dev/termination-log", "--keep-last", "7", "--max-age", "720h"}
	if !slices.Equal(push, wantPush) {
		t.Fatalf("BackupPushArgs() = %q, want %q", push, wantPush)
	}
	if got := BackupPushArgs("u", "x.zip", 0, ""); len(got) != 8 {
		t.Fatalf("BackupPushArgs() without retention = %q, want no retention flags", got)
	}
	restore := BackupRestoreArgs("/pb_data", "p/x.zip", true)
	wantRestore := []string{"backup", "restore", "--dir", "/pb_data", "--key", "p/x.zip",
		"--result-file", "/dev/termination-log", "--if-empty"}
	if !slices.Equal(restore, wantRestore) {
		t.Fatalf("BackupRestoreArgs() = %q, want %q", restore, wantRestore)
	}
}
