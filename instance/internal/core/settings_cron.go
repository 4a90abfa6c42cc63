package core

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// cronSchedule is a parsed cron expression: one bit per allowed value of each field.
type cronSchedule struct {
	minutes, hours, days, months, daysOfWeek uint64
}

// cronMacros are the macros PocketBase's tools/cron accepts.
var cronMacros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// parseCronSchedule parses a cron expression as PocketBase's cron.NewSchedule does: a
// macro, or exactly 5 fields separated by single spaces (minute, hour, day of month,
// month, day of week), each a list of "*", "n", "a-b", "*/s" or "a-b/s". The errors
// carry PocketBase's messages, which the settings validation returns as they are.
func parseCronSchedule(expr string) (cronSchedule, error) {
	if v, ok := cronMacros[expr]; ok {
		expr = v
	}

	segments := strings.Split(expr, " ")
	if len(segments) != 5 {
		return cronSchedule{}, errors.New("invalid cron expression - must be a valid macro or to have exactly 5 space separated segments")
	}

	bounds := [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 6}}
	var slots [5]uint64
	for i, segment := range segments {
		var err error
		if slots[i], err = parseCronSegment(segment, bounds[i][0], bounds[i][1]); err != nil {
			return cronSchedule{}, err
		}
	}

	return cronSchedule{minutes: slots[0], hours: slots[1], days: slots[2], months: slots[3], daysOfWeek: slots[4]}, nil
}

// parseCronSegment parses one field of a cron expression into the bit set of its values
// (tools/cron parseCronSegment, with its messages).
func parseCronSegment(segment string, minValue, maxValue int) (uint64, error) {
	var slots uint64

	for _, part := range strings.Split(segment, ",") {
		stepParts := strings.Split(part, "/")

		step := 1
		switch len(stepParts) {
		case 1:
		case 2:
			n, err := strconv.Atoi(stepParts[1])
			if err != nil {
				return 0, err
			}
			if n < 1 || n > maxValue {
				return 0, fmt.Errorf("invalid segment step boundary - the step must be between 1 and the %d", maxValue)
			}
			step = n
		default:
			return 0, errors.New("invalid segment step format - must be in the format */n or 1-30/n")
		}

		var rangeMin, rangeMax int
		if stepParts[0] == "*" {
			rangeMin, rangeMax = minValue, maxValue
		} else {
			rangeParts := strings.Split(stepParts[0], "-")
			switch len(rangeParts) {
			case 1:
				if step != 1 {
					return 0, errors.New("invalid segment step - step > 1 could be used only with the wildcard or range format")
				}
				n, err := strconv.Atoi(rangeParts[0])
				if err != nil {
					return 0, err
				}
				if n < minValue || n > maxValue {
					return 0, errors.New("invalid segment value - must be between the min and max of the segment")
				}
				rangeMin, rangeMax = n, n
			case 2:
				lo, err := strconv.Atoi(rangeParts[0])
				if err != nil {
					return 0, err
				}
				if lo < minValue || lo > maxValue {
					return 0, fmt.Errorf("invalid segment range minimum - must be between %d and %d", minValue, maxValue)
				}
				hi, err := strconv.Atoi(rangeParts[1])
				if err != nil {
					return 0, err
				}
				if hi < lo || hi > maxValue {
					return 0, fmt.Errorf("invalid segment range maximum - must be between %d and %d", lo, maxValue)
				}
				rangeMin, rangeMax = lo, hi
			default:
				return 0, errors.New("invalid segment range format - the range must have 1 or 2 parts")
			}
		}

		for v := rangeMin; v <= rangeMax; v += step {
			slots |= 1 << uint(v)
		}
	}

	return slots, nil
}
