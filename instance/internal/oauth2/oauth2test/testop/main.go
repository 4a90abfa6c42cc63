// Command testop serves the loopback OpenID Provider of package oauth2test for the SDK
// conformance suite (test/sdk/oauth2.test.mjs). It prints "OP listening at <issuer>"
// once serving, knows the users below, and reads commands from stdin, one a line:
// "login <user id>" makes its login page approve as that user. It stops when stdin
// closes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/pocketfleet/pocketfleet/instance/internal/oauth2/oauth2test"
)

func main() {
	redirect := flag.String("redirect", "", "the redirect URI the OP's client accepts")
	flag.Parse()
	if *redirect == "" {
		log.Fatal("testop: -redirect is required")
	}

	op, err := oauth2test.Start(*redirect)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = op.Close() }()

	for _, u := range []oauth2test.User{
		{ID: "op-carol", Username: "carol", FirstName: "Carol", LastName: "Oidc", Email: "carol@example.com", EmailVerified: true},
		{ID: "op-dave", Username: "dave", FirstName: "Dave", LastName: "Oidc", Email: "dave@example.com", EmailVerified: true},
	} {
		op.AddUser(u)
	}

	fmt.Printf("OP listening at %s\n", op.URL)

	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "login "); ok {
			op.LoginAs(id)
			fmt.Printf("login as %s\n", id)
		}
	}
}
