// mkimage: build a single-layer container image tarball (docker-archive format,
// i.e. what `docker save` wrote before v25) from local files, with no Docker,
// no registry and no third-party Go modules. The result can be imported with
//
//	ctr -n k8s.io images import out.tar
//
// and then used by pods with imagePullPolicy: Never / IfNotPresent.
//
// Usage:
//
//	mkimage -o out.tar -t pocketfleet.local/app:dev -f ./app:/app -entrypoint /app \
//	        [-t REF]... [-f SRC:DST[:MODE]]... [-env K=V]... [-workdir /] [-user 65532:65532] [-arg A]...
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func main() {
	var files, envs, args, tags multi
	out := flag.String("o", "image.tar", "output tarball")
	flag.Var(&tags, "t", "image reference, e.g. pocketfleet.local/app:dev (required, repeatable)")
	entry := flag.String("entrypoint", "", "entrypoint path inside the image (space separated argv allowed)")
	workdir := flag.String("workdir", "/", "working directory")
	user := flag.String("user", "", "user[:group] (numeric), empty = root")
	flag.Var(&files, "f", "SRC:DST[:MODE] file to add (repeatable); MODE octal, default keeps source mode")
	flag.Var(&envs, "env", "K=V environment variable (repeatable)")
	flag.Var(&args, "arg", "default Cmd argument (repeatable)")
	flag.Parse()
	if len(tags) == 0 {
		log.Fatal("-t is required")
	}
	for i, t := range tags {
		if !strings.Contains(t, ":") || strings.LastIndex(t, ":") < strings.LastIndex(t, "/") {
			tags[i] = t + ":latest"
		}
	}

	// ---- layer: an uncompressed tar with fixed timestamps (reproducible digests)
	epoch := time.Unix(0, 0)
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	dirs := map[string]bool{}
	mkdirs := func(p string) {
		var parts []string
		for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
			parts = append(parts, d)
		}
		sort.Strings(parts) // parents first
		for _, d := range parts {
			if dirs[d] {
				continue
			}
			dirs[d] = true
			must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755, ModTime: epoch}))
		}
	}
	// /tmp (sticky, world writable) is handy for most programs
	dirs["/tmp"] = true
	must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: epoch}))
	for _, spec := range files {
		parts := strings.Split(spec, ":")
		if len(parts) < 2 {
			log.Fatalf("bad -f %q, want SRC:DST[:MODE]", spec)
		}
		src, dst := parts[0], path.Clean("/"+parts[1])
		data, err := os.ReadFile(src)
		must(err)
		st, err := os.Stat(src)
		must(err)
		mode := int64(st.Mode().Perm())
		if len(parts) > 2 {
			m, err := strconv.ParseInt(parts[2], 8, 64)
			must(err)
			mode = m
		}
		mkdirs(dst)
		must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(dst, "/"), Mode: mode, Size: int64(len(data)), ModTime: epoch}))
		_, err = tw.Write(data)
		must(err)
	}
	must(tw.Close())
	layerSum := sha256.Sum256(layer.Bytes())
	layerHex := hex.EncodeToString(layerSum[:])

	// ---- image config (OCI/Docker image config JSON)
	cfg := map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"created":      epoch.UTC().Format(time.RFC3339),
		"config": map[string]any{
			"Env":        append([]string{"PATH=/usr/local/bin:/usr/bin:/bin"}, envs...),
			"Entrypoint": nilIfEmpty(strings.Fields(*entry)),
			"Cmd":        nilIfEmpty(args),
			"WorkingDir": *workdir,
			"User":       *user,
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + layerHex}},
	}
	cfgJSON, err := json.Marshal(cfg)
	must(err)
	cfgSum := sha256.Sum256(cfgJSON)
	cfgName := hex.EncodeToString(cfgSum[:]) + ".json"

	manifest := []map[string]any{{
		"Config":   cfgName,
		"RepoTags": []string(tags),
		"Layers":   []string{layerHex + "/layer.tar"},
	}}
	mfJSON, err := json.Marshal(manifest)
	must(err)

	// ---- outer docker-archive tarball
	f, err := os.Create(*out)
	must(err)
	ow := tar.NewWriter(f)
	add := func(name string, b []byte) {
		must(ow.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: epoch}))
		_, err := ow.Write(b)
		must(err)
	}
	must(ow.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: layerHex + "/", Mode: 0o755, ModTime: epoch}))
	add(layerHex+"/layer.tar", layer.Bytes())
	add(cfgName, cfgJSON)
	add("manifest.json", mfJSON)
	must(ow.Close())
	must(f.Close())
	fmt.Printf("%s -> %s (layer sha256:%s, %d bytes)\n", tags.String(), *out, layerHex[:12], layer.Len())
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
