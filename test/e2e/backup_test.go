//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	backupGVR  = schema.GroupVersionResource{Group: "pocketfleet.io", Version: "v1alpha1", Resource: "pocketbasebackups"}
	restoreGVR = schema.GroupVersionResource{Group: "pocketfleet.io", Version: "v1alpha1", Resource: "pocketbaserestores"}
)

// s3Server is versitygw (hack/s3-server.sh) serving a POSIX directory on the node IP,
// where the cluster's pods reach it: a test host of the suite's own. A bucket is a folder
// of root and an object a file, so the suite counts and checks objects on disk.
type s3Server struct {
	endpoint, bucket, root string
	cmd                    *exec.Cmd
}

const (
	s3Access = "e2e-access"
	s3Secret = "e2e-secret-key"
)

func startS3Server() *s3Server {
	GinkgoHelper()
	bin := strings.TrimSpace(run(filepath.Join(cfg.root, "hack/s3-server.sh")))
	l, err := net.Listen("tcp", net.JoinHostPort(cfg.ingressIP, "0"))
	Expect(err).NotTo(HaveOccurred())
	addr := l.Addr().String()
	Expect(l.Close()).To(Succeed())

	dir := GinkgoT().TempDir()
	s := &s3Server{endpoint: "http://" + addr, bucket: "e2e-backups", root: filepath.Join(dir, "root")}
	for _, d := range []string{filepath.Join(s.root, s.bucket), filepath.Join(dir, "meta")} {
		Expect(os.MkdirAll(d, 0o755)).To(Succeed())
	}
	s.cmd = exec.Command(bin, "--access", s3Access, "--secret", s3Secret, "--port", addr,
		"posix", "--sidecar", filepath.Join(dir, "meta"), s.root)
	s.cmd.Stdout, s.cmd.Stderr = GinkgoWriter, GinkgoWriter
	Expect(s.cmd.Start()).To(Succeed())
	eventually(func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err
	}, 30*time.Second).Should(Succeed(), "versitygw listens on %s", addr)
	return s
}

func (s *s3Server) stop() {
	if s != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// object is the file of an object key.
func (s *s3Server) object(key string) string { return filepath.Join(s.root, s.bucket, key) }

// zips lists the backup zips under prefix.
func (s *s3Server) zips(prefix string) []string {
	entries, err := os.ReadDir(s.object(prefix))
	if os.IsNotExist(err) {
		return nil
	}
	Expect(err).NotTo(HaveOccurred())
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".zip") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// backupStatus reads a PocketBaseBackup's status; nil when it does not exist.
func backupStatus(ns, name string) map[string]any {
	u, err := dyn.Resource(backupGVR).Namespace(ns).Get(ctx(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	Expect(err).NotTo(HaveOccurred())
	st, _, _ := unstructured.NestedMap(u.Object, "status")
	if st == nil {
		st = map[string]any{}
	}
	return st
}

func restoreStatus(ns, name string) map[string]any {
	u, err := dyn.Resource(restoreGVR).Namespace(ns).Get(ctx(), name, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	st, _, _ := unstructured.NestedMap(u.Object, "status")
	if st == nil {
		st = map[string]any{}
	}
	return st
}

// phaseOf returns a status's phase, with its message when it failed or waits.
func phaseOf(st map[string]any) string {
	if m, _ := st["message"].(string); m != "" && st["phase"] != "Completed" {
		return fmt.Sprintf("%v: %s", st["phase"], m)
	}
	return fmt.Sprint(st["phase"])
}

// takeBackup creates a PocketBaseBackup of t and waits for it to complete.
func takeBackup(t *tenant, name string) map[string]any {
	GinkgoHelper()
	kubectlApply(fmt.Sprintf("apiVersion: pocketfleet.io/v1alpha1\nkind: PocketBaseBackup\nmetadata: {name: %s, namespace: %s}\nspec: {instanceName: %s}\n", name, t.ns, t.name))
	start := time.Now()
	var st map[string]any
	eventually(func() string { st = backupStatus(t.ns, name); return phaseOf(st) }, 3*time.Minute).
		Should(Equal("Completed"), "backup %s/%s", t.ns, name)
	AddReportEntry("backup "+name+" → Completed", time.Since(start).Round(time.Millisecond).String())
	return st
}

func fileSHA256(path string) string {
	GinkgoHelper()
	raw, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// describeBackups registers the backup, retention, restore, clone and schedule specs;
// it runs inside an Ordered container whose operator is installed.
func describeBackups() {
	Context("backups to S3, restore and clone", Ordered, describeBackupSpecs)
}

func describeBackupSpecs() {
	const ns = "e2e-c"
	var (
		s3     *s3Server
		delta  = &tenant{ns: ns, name: "delta", reclaimPolicy: "Delete"}
		echo   = &tenant{ns: ns, name: "echo", reclaimPolicy: "Delete"}
		prefix = ns + "/delta/"
	)
	backupSpec := func() string {
		return fmt.Sprintf(`  backup:
    destination:
      s3:
        endpoint: %s
        bucket: %s
        forcePathStyle: true
        credentialsSecretRef: {name: s3}
    retention: {keepLast: 2}
`, s3.endpoint, s3.bucket)
	}

	BeforeAll(func() { s3 = startS3Server() })
	AfterAll(func() { s3.stop() })

	It("backs a tenant up to S3 while it serves, and prunes by retention", func() {
		createNamespace(ns)
		kubectlApply(fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: s3, namespace: %s}\nstringData: {accessKeyId: %s, secretAccessKey: %s}\n", ns, s3Access, s3Secret))
		kubectlApply(delta.manifest() + backupSpec())
		delta.waitReady(3 * time.Minute)
		eventually(func() error { _, err := delta.sdk("write"); return err }, time.Minute).
			WithPolling(2 * time.Second).Should(Succeed())

		st := takeBackup(delta, "b1")
		key := prefix + "b1.zip"
		Expect(st["key"]).To(Equal(key))
		Expect(st["location"]).To(Equal("s3://" + s3.bucket + "/" + key))
		Expect(st["sha256"]).To(Equal(fileSHA256(s3.object(key))), "the recorded SHA-256 is the object's")
		info, err := os.Stat(s3.object(key))
		Expect(err).NotTo(HaveOccurred())
		Expect(st["sizeBytes"]).To(BeEquivalentTo(info.Size()))

		takeBackup(delta, "b2")
		takeBackup(delta, "b3")
		// keepLast 2: the oldest object and its PocketBaseBackup go
		eventually(func() []string { return s3.zips(prefix) }, time.Minute).Should(Equal([]string{"b2.zip", "b3.zip"}))
		eventually(func() map[string]any { return backupStatus(ns, "b1") }, time.Minute).Should(BeNil())
		eventually(func() string { c, _ := delta.condition("BackupHealthy"); return c }, time.Minute).
			Should(Equal("True/BackupSucceeded"))
	})

	It("restores a backup in place, and keeps the data when a restore fails", func() {
		// lose the record the backups hold, then get it back from b3
		_, err := delta.sdk("drop")
		Expect(err).NotTo(HaveOccurred())
		_, err = delta.sdk("check")
		Expect(err).To(HaveOccurred(), "the record is gone before the restore")

		watcher := watchPodsOnClaim(ns, delta.name+"-data")
		kubectlApply(fmt.Sprintf("apiVersion: pocketfleet.io/v1alpha1\nkind: PocketBaseRestore\nmetadata: {name: r1, namespace: %s}\nspec: {instanceName: delta, backupName: b3}\n", ns))
		start := time.Now()
		eventually(func() string { return phaseOf(restoreStatus(ns, "r1")) }, 4*time.Minute).Should(Equal("Completed"))
		delta.waitReady(3 * time.Minute)
		AddReportEntry("in-place restore → Ready", time.Since(start).Round(time.Millisecond).String())
		delta.sdkCheck()
		Expect(watcher.stop()).To(Equal(1), "the restore Job never shares the volume with the tenant's pod")

		// a corrupted object: the Job refuses it, the tenant comes back on its data
		raw, err := os.ReadFile(s3.object(prefix + "b2.zip"))
		Expect(err).NotTo(HaveOccurred())
		raw[len(raw)/2] ^= 0xff // same size, other bytes: only the checksum can tell
		Expect(os.WriteFile(s3.object(prefix+"b2.zip"), raw, 0o644)).To(Succeed())
		kubectlApply(fmt.Sprintf("apiVersion: pocketfleet.io/v1alpha1\nkind: PocketBaseRestore\nmetadata: {name: r2, namespace: %s}\nspec: {instanceName: delta, backupName: b2}\n", ns))
		eventually(func() string { return phaseOf(restoreStatus(ns, "r2")) }, 4*time.Minute).Should(HavePrefix("Failed: "))
		Expect(phaseOf(restoreStatus(ns, "r2"))).To(ContainSubstring("does not match its manifest: sha256"))
		delta.waitReady(3 * time.Minute)
		delta.sdkCheck()
		c, err := delta.condition("Degraded")
		Expect(err).NotTo(HaveOccurred())
		Expect(c).To(Equal("True/RestoreFailed"))
	})

	It("clones a tenant from its backup into a new instance", func() {
		manifest := echo.manifest() + "  bootstrap:\n    fromBackup: {name: b3}\n"
		start := time.Now()
		kubectlApply(manifest)
		echo.waitReady(4 * time.Minute)
		AddReportEntry("clone apply → Ready", time.Since(start).Round(time.Millisecond).String())
		u, err := echo.get()
		Expect(err).NotTo(HaveOccurred())
		done, _, _ := unstructured.NestedBool(u.Object, "status", "bootstrapped")
		Expect(done).To(BeTrue())
		// the data is delta's; the clone's own generated superuser was added to it when
		// its pod started, so the SDK signs in with the clone's Secret
		echo.sdkCheck()
	})

	It("takes scheduled backups", func() {
		delta.patchSpec(`{"spec":{"backup":{"schedule":"* * * * *"}}}`)
		var scheduled string
		eventually(func() string {
			list, err := dyn.Resource(backupGVR).Namespace(ns).List(ctx(), metav1.ListOptions{})
			Expect(err).NotTo(HaveOccurred())
			for _, b := range list.Items {
				if n := b.GetName(); strings.HasPrefix(n, "delta-") {
					scheduled = n
					st, _, _ := unstructured.NestedMap(b.Object, "status")
					return phaseOf(st)
				}
			}
			return ""
		}, 3*time.Minute).Should(Equal("Completed"))
		u, err := delta.get()
		Expect(err).NotTo(HaveOccurred())
		last, _, _ := unstructured.NestedString(u.Object, "status", "backup", "lastSuccessfulBackup")
		Expect(last).To(HavePrefix("delta-"))
		Expect(s3.zips(prefix)).To(ContainElement(scheduled + ".zip"))
		delta.patchSpec(`{"spec":{"backup":{"suspend":true}}}`)
	})

	It("deletes the backup tenants", func() {
		deleteNamespaces(ns)
		// backups outlive their instance: the objects stay in the bucket
		Expect(s3.zips(prefix)).NotTo(BeEmpty())
	})
}
