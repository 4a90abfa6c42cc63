package core

import "time"

// DateTimeLayout is PocketBase's datetime format for created/updated and date fields
// (tools/types.DefaultDateLayout), always in UTC.
const DateTimeLayout = "2006-01-02 15:04:05.000Z"

// FormatDateTime formats t in UTC with DateTimeLayout.
func FormatDateTime(t time.Time) string {
	return t.UTC().Format(DateTimeLayout)
}
