//go:build e2e

// Command scraper fetches one URL from inside the cluster, as Prometheus would, and prints
// the body. The e2e suite runs it in a pod (image made by hack/local-cluster/image.sh) to
// scrape the operator's HTTPS metrics with a ServiceAccount token and a tenant's metrics
// listener by pod IP. It retries for a while: a fresh Service or pod may not answer yet.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	url := flag.String("url", "", "URL to fetch")
	tokenFile := flag.String("token-file", "", "file holding a bearer token (empty: none)")
	insecure := flag.Bool("insecure", false, "skip TLS verification (the operator serves a self-signed certificate)")
	flag.Parse()

	client := &http.Client{Timeout: 10 * time.Second}
	if *insecure {
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // test scraper of a self-signed endpoint
	}
	var lastErr error
	for range 30 {
		body, err := fetch(client, *url, *tokenFile)
		if err == nil {
			fmt.Print(body)
			return
		}
		lastErr = err
		time.Sleep(time.Second)
	}
	fmt.Fprintln(os.Stderr, "scraper:", lastErr)
	os.Exit(1)
}

func fetch(client *http.Client, url, tokenFile string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	if tokenFile != "" {
		token, err := os.ReadFile(tokenFile)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return string(body), nil
}
