package campaign

import "time"

// location returns the zone a contact's calling window is read in: the
// contact's zone, else the windows' default zone, else UTC. Unknown names
// (validated earlier, so only after a tzdata change) fall back to UTC.
func location(contactTZ string, w *CallingWindows) *time.Location {
	name := contactTZ
	if name == "" && w != nil {
		name = w.TimeZone
	}
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// NextOpen returns t when t is inside one of the windows (read in loc), or
// else the start of the next window within 8 days; ok is false when no
// window opens in that time (cannot happen for validated windows). No
// windows means always open.
func NextOpen(t time.Time, loc *time.Location, w *CallingWindows) (time.Time, bool) {
	if w == nil || len(w.Windows) == 0 {
		return t, true
	}
	local := t.In(loc)
	y, m, d := local.Date()
	best := time.Time{}
	for day := 0; day <= 8; day++ {
		date := time.Date(y, m, d+day, 0, 0, 0, 0, loc)
		wd := date.Weekday()
		for _, win := range w.Windows {
			if !hasDay(win.Days, wd) {
				continue
			}
			st, _ := parseClock(win.Start)
			en, _ := parseClock(win.End)
			start := time.Date(date.Year(), date.Month(), date.Day(), st/60, st%60, 0, 0, loc)
			end := time.Date(date.Year(), date.Month(), date.Day(), en/60, en%60, 0, 0, loc)
			if !t.Before(start) && t.Before(end) {
				return t, true
			}
			if start.After(t) && (best.IsZero() || start.Before(best)) {
				best = start
			}
		}
		if !best.IsZero() {
			return best, true
		}
	}
	return time.Time{}, false
}

func hasDay(days []string, wd time.Weekday) bool {
	for _, d := range days {
		if dayNames[d] == wd {
			return true
		}
	}
	return false
}

// nextLocalMidnight is the start of the day after t in loc.
func nextLocalMidnight(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
}
