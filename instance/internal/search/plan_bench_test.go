package search_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// BenchmarkSortedPagePlans compares, on one modernc.org/sqlite database of 10,000 rows
// shaped like test/bench's, the SQL PocketBase runs for a sorted page (the whole rows
// through the sorter) with ours (ReverseScan: only the rowid and the sort keys are
// sorted, the page's rows are fetched by rowid), page 11 of 20 sorted by -created,id.
// Both are built by SelectQuery, so the comparison follows the builder.
func BenchmarkSortedPagePlans(b *testing.B) {
	db, err := sql.Open("sqlite", filepath.Join(b.TempDir(), "plans.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE `bench` (`id` TEXT PRIMARY KEY NOT NULL, `title` TEXT DEFAULT '' NOT NULL, " +
		"`n` NUMERIC DEFAULT 0 NOT NULL, `done` BOOLEAN DEFAULT FALSE NOT NULL, `created` TEXT DEFAULT '' NOT NULL, " +
		"`updated` TEXT DEFAULT '' NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10_000 {
		created := fmt.Sprintf("2026-11-27 %02d:%02d:%02d.%03dZ", i/3600, i/60%60, i%60, i%1000)
		if _, err := tx.Exec("INSERT INTO `bench` VALUES (?, ?, ?, ?, ?, ?)",
			fmt.Sprintf("r%014d", i), fmt.Sprintf("record %05d about pears", i), i, i%2 == 0, created, created); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}

	page := func(reverse bool) string {
		q := search.NewSelectQuery("bench")
		q.Selects = []string{"`bench`.*"}
		q.AndOrderBy("`bench`.`created` DESC", "`bench`.`id` ASC")
		q.Limit, q.Offset = 20, 200
		q.ReverseScan = reverse
		return q.Build().SQL
	}
	for _, plan := range []struct {
		name string
		sql  string
	}{
		{"pocketbase", page(false)},
		{"reverse-scan", page(true)},
	} {
		b.Run(plan.name, func(b *testing.B) {
			for b.Loop() {
				rows, err := db.Query(plan.sql)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					n++
				}
				if err := rows.Close(); err != nil {
					b.Fatal(err)
				}
				if n != 20 {
					b.Fatalf("%d rows, want 20", n)
				}
			}
		})
	}
}
