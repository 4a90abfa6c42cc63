package controller

import (
	"testing"
	"time"
)

func TestMaintenanceWindow(t *testing.T) {
	// 2026-11-28 is a Saturday.
	at := func(day int, hh, mm int) time.Time { return time.Date(2026, 11, day, hh, mm, 0, 0, time.UTC) }
	tests := []struct {
		window string
		t      time.Time
		open   bool
	}{
		{"02:00-04:00", at(28, 2, 0), true},
		{"02:00-04:00", at(28, 3, 59), true},
		{"02:00-04:00", at(28, 4, 0), false},
		{"02:00-04:00", at(28, 1, 59), false},
		{"Sat,Sun 02:00-04:00", at(28, 3, 0), true},
		{"Sat,Sun 02:00-04:00", at(27, 3, 0), false},
		{"sun 02:00-04:00", at(29, 3, 0), true},
		{"Fri 23:00-01:00", at(27, 23, 30), true},
		{"Fri 23:00-01:00", at(28, 0, 30), true},
		{"Fri 23:00-01:00", at(28, 23, 30), false},
		{"Fri 23:00-01:00", at(27, 0, 30), false},
		{"02:00-04:00", time.Date(2026, 11, 28, 4, 30, 0, 0, time.FixedZone("CET", 3600*2)), true},
	}
	for _, tc := range tests {
		w, err := ParseMaintenanceWindow(tc.window)
		if err != nil {
			t.Fatalf("%q: %v", tc.window, err)
		}
		if got := w.Open(tc.t); got != tc.open {
			t.Errorf("%q at %s: open = %v, want %v", tc.window, tc.t, got, tc.open)
		}
	}
}

func TestParseMaintenanceWindowErrors(t *testing.T) {
	for _, s := range []string{"", "02:00", "2:00-04:00", "24:00-01:00", "02:60-03:00", "Funday 02:00-03:00",
		"02:00-02:00", "Mon 02:00-03:00 extra", "Mon, 02:00-03:00", "+1:00-02:00"} {
		if _, err := ParseMaintenanceWindow(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
	for in, want := range map[string]string{"02:00-04:00": "02:00-04:00", "sat,Sun 23:30-01:00": "Sun,Sat 23:30-01:00"} {
		w, err := ParseMaintenanceWindow(in)
		if err != nil {
			t.Fatal(err)
		}
		if w.String() != want {
			t.Errorf("String(%q) = %q, want %q", in, w.String(), want)
		}
	}
}

// FuzzMaintenanceWindow checks that any input either fails to parse or parses to a
// window that renders back to itself and answers Open without panicking.
func FuzzMaintenanceWindow(f *testing.F) {
	for _, s := range []string{"02:00-04:00", "Sat,Sun 02:00-04:00", "Fri 23:00-01:00", "", "x 1:2-3:4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseMaintenanceWindow(s)
		if err != nil {
			return
		}
		again, err := ParseMaintenanceWindow(w.String())
		if err != nil || again.String() != w.String() {
			t.Fatalf("%q renders as %q which does not round-trip: %v", s, w.String(), err)
		}
		_ = w.Open(time.Now())
	})
}
