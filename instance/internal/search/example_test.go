package search_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/pocketfleet/pocketfleet/instance/internal/search"
)

// placeholders matches the random parameter names, shown as ":p" in the examples.
var placeholders = regexp.MustCompile(`:p[a-z0-9]{12}`)

// A client filter becomes a WHERE fragment in which every value is a named parameter.
func Example_filter() {
	resolver := search.NewSimpleFieldResolver("title", "status", "views")

	filter := search.FilterData(`title ~ {:q} && (status = true || views >= 100) && title != ""`)

	expr, err := filter.BuildExpr(resolver, search.Params{"q": "go'; DROP TABLE posts; --"})
	if err != nil {
		fmt.Println(err)
		return
	}

	fmt.Println(placeholders.ReplaceAllString(expr.SQL, ":p"))

	values := []string{}
	for _, v := range expr.Params {
		values = append(values, fmt.Sprint(v))
	}
	slices.Sort(values)
	fmt.Println(values)

	// rows, err := db.QueryContext(ctx, "SELECT * FROM `posts` WHERE "+expr.SQL, expr.Args()...)

	// Output:
	// ((`title` IS NOT '' AND `title` IS NOT NULL) AND (`status` = 1 OR `views` >= :p) AND `title` LIKE :p ESCAPE '\')
	// [%go'; DROP TABLE posts; --% 100]
}

// The datetime macros are computed in UTC from an injectable clock.
func ExampleFilterData_BuildExprWithOptions() {
	resolver := search.NewSimpleFieldResolver("created")
	now := func() time.Time { return time.Date(2024, 2, 10, 15, 4, 5, 0, time.UTC) }

	expr, err := search.FilterData("created >= @monthStart && created <= @monthEnd").
		BuildExprWithOptions(resolver, search.BuildOptions{Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}

	values := []string{}
	for _, v := range expr.Params {
		values = append(values, fmt.Sprint(v))
	}
	slices.Sort(values)

	fmt.Println(placeholders.ReplaceAllString(expr.SQL, ":p"))
	fmt.Println(values)

	// Output:
	// (`created` >= :p AND `created` <= :p)
	// [2024-02-01 00:00:00.000Z 2024-02-29 23:59:59.999Z]
}

// A Provider turns the list query parameters into the page and count queries; the
// caller runs them and builds the response with Plan.Result.
func ExampleProvider() {
	resolver := search.NewSimpleFieldResolver("id", "title", "created", "status")

	provider := search.NewProvider(resolver).Query(search.NewSelectQuery("posts"))
	if err := provider.Parse("page=2&perPage=10&sort=-created,title&filter=status=true"); err != nil {
		fmt.Println(err)
		return
	}

	plan, err := provider.Build()
	if err != nil {
		fmt.Println(err)
		return
	}

	fmt.Println(plan.Items.SQL)
	fmt.Println(plan.Count.SQL)

	// items and total come from running plan.Items and plan.Count
	result, _ := json.Marshal(plan.Result([]map[string]any{{"id": "abc"}}, 11))
	fmt.Println(string(result))

	// Output:
	// SELECT * FROM `posts` WHERE `status` = 1 ORDER BY `created` DESC, `title` ASC LIMIT 10 OFFSET 10
	// SELECT COUNT(DISTINCT `posts`.`id`) FROM `posts` WHERE `status` = 1
	// {"items":[{"id":"abc"}],"page":2,"perPage":10,"totalItems":11,"totalPages":2}
}

func ExampleParseSortFromString() {
	for _, field := range search.ParseSortFromString("-created,+title,@random") {
		fmt.Println(field.Name, field.Direction)
	}

	// Output:
	// created DESC
	// title ASC
	// @random ASC
}
