package picker_test

import (
	"encoding/json"
	"fmt"

	"github.com/pocketfleet/pocketfleet/instance/internal/picker"
)

func ExamplePick() {
	var record any
	_ = json.Unmarshal([]byte(`{
		"id": "r1",
		"title": "Hello",
		"description": "<p>A <b>long</b> text about PocketBase</p>",
		"expand": {"author": {"id": "u1", "name": "Ada", "email": "ada@example.com"}}
	}`), &record)

	picked, err := picker.Pick(record, "id,description:excerpt(10,true),expand.author.name")
	if err != nil {
		fmt.Println(err)
		return
	}

	out, _ := json.Marshal(picked)
	fmt.Println(string(out))

	// Output:
	// {"description":"A long tex...","expand":{"author":{"name":"Ada"}},"id":"r1"}
}

func ExampleFields_PickResult() {
	var list any
	_ = json.Unmarshal([]byte(`{"items":[{"id":"a","title":"x"},{"id":"b","title":"y"}],"page":1,"perPage":30,"totalItems":2,"totalPages":1}`), &list)

	fields, err := picker.ParseFields("id")
	if err != nil {
		fmt.Println(err)
		return
	}

	picked, _ := fields.PickResult(list)
	out, _ := json.Marshal(picked)
	fmt.Println(string(out))

	// Output:
	// {"items":[{"id":"a"},{"id":"b"}],"page":1,"perPage":30,"totalItems":2,"totalPages":1}
}
