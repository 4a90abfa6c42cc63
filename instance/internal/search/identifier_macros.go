package search

import "time"

// DateTimeLayout is PocketBase's datetime text format, used by the date macros.
const DateTimeLayout = "2006-01-02 15:04:05.000Z"

// identifierMacro returns the value of a datetime macro (@now, @todayStart, @year…)
// computed from now in UTC, and whether name is a macro.
//
// note: the values follow PocketBase's tools/search/identifier_macros.go; @monthEnd is the
// last day of the month at 23:59:59.999 and @weekday counts from Sunday = 0.
func identifierMacro(name string, now time.Time) (any, bool) {
	now = now.UTC()
	y, m, d := now.Date()

	switch name {
	case "@now":
		return now.Format(DateTimeLayout), true
	case "@yesterday":
		return now.AddDate(0, 0, -1).Format(DateTimeLayout), true
	case "@tomorrow":
		return now.AddDate(0, 0, 1).Format(DateTimeLayout), true
	case "@second":
		return now.Second(), true
	case "@minute":
		return now.Minute(), true
	case "@hour":
		return now.Hour(), true
	case "@day":
		return d, true
	case "@month":
		return int(m), true
	case "@weekday":
		return int(now.Weekday()), true
	case "@year":
		return y, true
	case "@todayStart":
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format(DateTimeLayout), true
	case "@todayEnd":
		return time.Date(y, m, d, 23, 59, 59, 999999999, time.UTC).Format(DateTimeLayout), true
	case "@monthStart":
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Format(DateTimeLayout), true
	case "@monthEnd":
		return time.Date(y, m+1, 0, 23, 59, 59, 999999999, time.UTC).Format(DateTimeLayout), true
	case "@yearStart":
		return time.Date(y, time.January, 1, 0, 0, 0, 0, time.UTC).Format(DateTimeLayout), true
	case "@yearEnd":
		return time.Date(y, time.December, 31, 23, 59, 59, 999999999, time.UTC).Format(DateTimeLayout), true
	}

	return nil, false
}
