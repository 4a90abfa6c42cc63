package controller

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaintenanceWindow is a weekly time range, in UTC, during which instances may start an
// upgrade to a new image. It is written "02:00-04:00" (every day) or
// "Sat,Sun 02:00-04:00" (those days); a range may cross midnight, and then belongs to
// the day it starts on.
type MaintenanceWindow struct {
	// days the window opens on; all false means every day.
	days [7]bool
	// start and end in minutes after midnight.
	start, end int
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseMaintenanceWindow parses the --maintenance-window flag.
func ParseMaintenanceWindow(s string) (*MaintenanceWindow, error) {
	w := &MaintenanceWindow{}
	fields := strings.Fields(s)
	switch len(fields) {
	case 1:
		w.days = [7]bool{true, true, true, true, true, true, true}
	case 2:
		for d := range strings.SplitSeq(fields[0], ",") {
			day, ok := weekdays[strings.ToLower(d)]
			if !ok {
				return nil, fmt.Errorf("maintenance window %q: unknown day %q (use Mon, Tue, ... Sun)", s, d)
			}
			w.days[day] = true
		}
	default:
		return nil, fmt.Errorf(`maintenance window %q: want "HH:MM-HH:MM" or "Mon,Tue HH:MM-HH:MM" (UTC)`, s)
	}
	from, to, ok := strings.Cut(fields[len(fields)-1], "-")
	if !ok {
		return nil, fmt.Errorf("maintenance window %q: want a range HH:MM-HH:MM", s)
	}
	var err error
	if w.start, err = clockMinutes(from); err != nil {
		return nil, fmt.Errorf("maintenance window %q: %w", s, err)
	}
	if w.end, err = clockMinutes(to); err != nil {
		return nil, fmt.Errorf("maintenance window %q: %w", s, err)
	}
	if w.start == w.end {
		return nil, fmt.Errorf("maintenance window %q: start and end are the same time", s)
	}
	return w, nil
}

func clockMinutes(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) != 2 || len(mm) != 2 || strings.Trim(hh+mm, "0123456789") != "" {
		return 0, fmt.Errorf("time %q is not HH:MM", s)
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, fmt.Errorf("time %q is not HH:MM", s)
	}
	return h*60 + m, nil
}

// Open reports whether t falls inside the window.
func (w *MaintenanceWindow) Open(t time.Time) bool {
	t = t.UTC()
	minute := t.Hour()*60 + t.Minute()
	if w.start < w.end {
		return w.days[t.Weekday()] && minute >= w.start && minute < w.end
	}
	// The window crosses midnight: the evening part belongs to today, the morning part
	// to yesterday's window.
	yesterday := (t.Weekday() + 6) % 7
	return (w.days[t.Weekday()] && minute >= w.start) || (w.days[yesterday] && minute < w.end)
}

// String renders the window as it is parsed.
func (w *MaintenanceWindow) String() string {
	var days []string
	all := true
	for d := time.Sunday; d <= time.Saturday; d++ {
		if w.days[d] {
			days = append(days, d.String()[:3])
		} else {
			all = false
		}
	}
	r := fmt.Sprintf("%02d:%02d-%02d:%02d", w.start/60, w.start%60, w.end/60, w.end%60)
	if all {
		return r
	}
	return strings.Join(days, ",") + " " + r
}
