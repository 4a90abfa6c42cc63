module github.com/pocketfleet/pocketfleet/hack/local-cluster/tools

go 1.26.0
