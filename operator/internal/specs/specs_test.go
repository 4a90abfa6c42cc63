package specs

import (
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	metav1apply "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingapplyv1 "k8s.io/client-go/applyconfigurations/networking/v1"
	"k8s.io/utils/ptr"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
)

func instance(mods ...func(*pbv1alpha1.PocketBaseInstance)) *pbv1alpha1.PocketBaseInstance {
	pbi := &pbv1alpha1.PocketBaseInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "team-a", UID: "uid-1"},
		Spec: pbv1alpha1.PocketBaseInstanceSpec{
			Storage:   pbv1alpha1.StorageSpec{Size: "1Gi", ReclaimPolicy: pbv1alpha1.PersistentVolumeClaimRetain},
			Superuser: pbv1alpha1.SuperuserSpec{Email: "admin@pocketfleet.local"},
		},
	}
	for _, m := range mods {
		m(pbi)
	}
	return pbi
}

var wantOwner = metav1apply.OwnerReference().
	WithAPIVersion("pocketfleet.io/v1alpha1").WithKind("PocketBaseInstance").
	WithName("acme").WithUID("uid-1").WithController(true).WithBlockOwnerDeletion(true)

func TestService(t *testing.T) {
	want := corev1apply.Service("acme", "team-a").
		WithLabels(map[string]string{
			LabelName: "pocketbase", LabelInstance: "acme", LabelComponent: "instance", LabelManagedBy: "pocketfleet",
		}).
		WithOwnerReferences(wantOwner).
		WithSpec(corev1apply.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithSelector(map[string]string{LabelName: "pocketbase", LabelInstance: "acme", LabelComponent: "instance"}).
			WithPorts(corev1apply.ServicePort().WithName("http").WithProtocol(corev1.ProtocolTCP).
				WithAppProtocol("http").WithPort(8090).WithTargetPort(intstr.FromString("http"))))
	if diff := cmp.Diff(want, Service(instance())); diff != "" {
		t.Errorf("Service() mismatch (-want +got):\n%s", diff)
	}
}

func TestDataVolumeClaim(t *testing.T) {
	tests := []struct {
		name      string
		pbi       *pbv1alpha1.PocketBaseInstance
		wantOwner bool
		wantClass *string
		wantSize  string
		wantErr   bool
	}{
		{name: "retain has no owner", pbi: instance(), wantSize: "1Gi"},
		{name: "delete is owned", pbi: instance(func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Storage.ReclaimPolicy = pbv1alpha1.PersistentVolumeClaimDelete
		}), wantOwner: true, wantSize: "1Gi"},
		{name: "class and size", pbi: instance(func(p *pbv1alpha1.PocketBaseInstance) {
			p.Spec.Storage.StorageClassName = ptr.To("fast")
			p.Spec.Storage.Size = "20Gi"
		}), wantClass: ptr.To("fast"), wantSize: "20Gi"},
		{name: "empty size defaults", pbi: instance(func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Storage.Size = "" }), wantSize: "1Gi"},
		{name: "bad size", pbi: instance(func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Storage.Size = "lots" }), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := StorageSize(tc.pbi)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			got := DataVolumeClaim(tc.pbi, q)
			if *got.Name != "acme-data" {
				t.Errorf("name = %q", *got.Name)
			}
			if (len(got.OwnerReferences) == 1) != tc.wantOwner {
				t.Errorf("owner references = %v, want owner %v", got.OwnerReferences, tc.wantOwner)
			}
			if diff := cmp.Diff(tc.wantClass, got.Spec.StorageClassName); diff != "" {
				t.Errorf("storage class (-want +got):\n%s", diff)
			}
			size := (*got.Spec.Resources.Requests)[corev1.ResourceStorage]
			if !size.Equal(resource.MustParse(tc.wantSize)) {
				t.Errorf("size = %s, want %s", size.String(), tc.wantSize)
			}
			if diff := cmp.Diff([]corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, got.Spec.AccessModes); diff != "" {
				t.Errorf("access modes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatefulSet(t *testing.T) {
	in := StatefulSetInputs{Image: "reg/instance:v1", SuperuserEmail: SuperuserEmail{FromSecret: true}, SecretVersion: "42"}
	tests := []struct {
		name  string
		pbi   *pbv1alpha1.PocketBaseInstance
		in    StatefulSetInputs
		check func(t *testing.T, c *corev1apply.ContainerApplyConfiguration, pod *corev1apply.PodTemplateSpecApplyConfiguration)
	}{
		{
			name: "defaults are locked down",
			pbi:  instance(), in: in,
			check: func(t *testing.T, c *corev1apply.ContainerApplyConfiguration, pod *corev1apply.PodTemplateSpecApplyConfiguration) {
				if diff := cmp.Diff([]string{"serve", "--http", "0.0.0.0:8090", "--dir", "/pb_data", "--metrics-http", "0.0.0.0:9090"}, c.Args); diff != "" {
					t.Errorf("args (-want +got):\n%s", diff)
				}
				sc := c.SecurityContext
				if !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !*sc.RunAsNonRoot {
					t.Errorf("container security context not locked down: %+v", sc)
				}
				if diff := cmp.Diff([]corev1.Capability{"ALL"}, sc.Capabilities.Drop); diff != "" {
					t.Errorf("dropped capabilities (-want +got):\n%s", diff)
				}
				psc := pod.Spec.SecurityContext
				if *psc.RunAsUser != 65532 || *psc.FSGroup != 65532 || *psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
					t.Errorf("pod security context = %+v", psc)
				}
				if got := (*c.Resources.Limits)[corev1.ResourceMemory]; !got.Equal(DefaultMemoryLimit) {
					t.Errorf("memory limit = %s", got.String())
				}
				if got := pod.Annotations[AnnotationSuperuserSecretVersion]; got != "42" {
					t.Errorf("secret version annotation = %q", got)
				}
				if *c.Env[0].Name != "PB_SUPERUSER_EMAIL" || c.Env[0].ValueFrom.SecretKeyRef.Key == nil || *c.Env[0].ValueFrom.SecretKeyRef.Key != "email" {
					t.Errorf("email env = %+v", c.Env[0])
				}
				if c.ImagePullPolicy != nil {
					t.Errorf("pull policy set without spec: %v", *c.ImagePullPolicy)
				}
			},
		},
		{
			name: "literal email for a user secret without email key",
			pbi:  instance(), in: StatefulSetInputs{Image: "i", SuperuserEmail: SuperuserEmail{Value: "ops@example.com"}},
			check: func(t *testing.T, c *corev1apply.ContainerApplyConfiguration, _ *corev1apply.PodTemplateSpecApplyConfiguration) {
				if *c.Env[0].Value != "ops@example.com" || c.Env[0].ValueFrom != nil {
					t.Errorf("email env = %+v", c.Env[0])
				}
			},
		},
		{
			name: "pod overrides and user env",
			pbi: instance(func(p *pbv1alpha1.PocketBaseInstance) {
				p.Spec.Env = []corev1.EnvVar{{Name: "TZ", Value: "UTC"}}
				p.Spec.NodeSelector = map[string]string{"pool": "tenants"}
				p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpEqual, Value: "v"}}
				p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
						MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}},
					}}},
				}}
				p.Spec.PodAnnotations = map[string]string{"a": "b"}
				p.Spec.PodLabels = map[string]string{"team": "x", LabelInstance: "spoofed"}
				p.Spec.ServiceAccountName = ptr.To("tenant-sa")
				p.Spec.ImagePullPolicy = ptr.To(corev1.PullIfNotPresent)
				p.Spec.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}
			}),
			in: in,
			check: func(t *testing.T, c *corev1apply.ContainerApplyConfiguration, pod *corev1apply.PodTemplateSpecApplyConfiguration) {
				if len(c.Env) != 3 || *c.Env[2].Name != "TZ" || *c.Env[2].Value != "UTC" {
					t.Errorf("env = %+v", c.Env)
				}
				ps := pod.Spec
				if ps.NodeSelector["pool"] != "tenants" || len(ps.Tolerations) != 1 || *ps.Tolerations[0].Value != "v" {
					t.Errorf("scheduling = %+v %+v", ps.NodeSelector, ps.Tolerations)
				}
				terms := ps.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
				if len(terms) != 1 || *terms[0].MatchExpressions[0].Key != "zone" {
					t.Errorf("affinity = %+v", ps.Affinity)
				}
				if pod.Labels["team"] != "x" || pod.Labels[LabelInstance] != "acme" {
					t.Errorf("labels = %v (operator labels must win)", pod.Labels)
				}
				if pod.Annotations["a"] != "b" || *ps.ServiceAccountName != "tenant-sa" || *c.ImagePullPolicy != corev1.PullIfNotPresent {
					t.Errorf("annotations %v, service account %v", pod.Annotations, ps.ServiceAccountName)
				}
				if c.Resources.Limits != nil {
					t.Errorf("limits set although the spec gave only requests: %v", *c.Resources.Limits)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sts := StatefulSet(tc.pbi, tc.in)
			if *sts.Spec.Replicas != 1 {
				t.Fatalf("replicas = %d, want exactly 1", *sts.Spec.Replicas)
			}
			if diff := cmp.Diff(SelectorLabels(tc.pbi), sts.Spec.Selector.MatchLabels); diff != "" {
				t.Errorf("selector (-want +got):\n%s", diff)
			}
			if len(sts.Spec.VolumeClaimTemplates) != 0 {
				t.Errorf("volume claim templates must not be used")
			}
			tpl := sts.Spec.Template
			if len(tpl.Spec.Containers) != 1 {
				t.Fatalf("containers = %d", len(tpl.Spec.Containers))
			}
			tc.check(t, &tpl.Spec.Containers[0], tpl)
		})
	}
}

func TestIngress(t *testing.T) {
	if Ingress(instance()) != nil {
		t.Fatal("Ingress() without spec.ingress must be nil")
	}
	pbi := instance(func(p *pbv1alpha1.PocketBaseInstance) {
		p.Spec.Ingress = &pbv1alpha1.IngressSpec{
			Host: "acme.example.com", ClassName: ptr.To("nginx"), TLSSecretName: ptr.To("acme-tls"),
			Annotations: map[string]string{"nginx.ingress.kubernetes.io/proxy-body-size": "64m", "x": "y"},
		}
	})
	got := Ingress(pbi)
	if got.Annotations["nginx.ingress.kubernetes.io/proxy-buffering"] != "off" {
		t.Errorf("streaming annotation missing: %v", got.Annotations)
	}
	if got.Annotations["nginx.ingress.kubernetes.io/proxy-body-size"] != "64m" || got.Annotations["x"] != "y" {
		t.Errorf("user annotations must win: %v", got.Annotations)
	}
	if StreamingAnnotations["nginx.ingress.kubernetes.io/proxy-body-size"] != "0" {
		t.Errorf("the shared default map was modified")
	}
	rule := got.Spec.Rules[0]
	path := rule.HTTP.Paths[0]
	if *rule.Host != "acme.example.com" || *path.Path != "/" || *path.PathType != networkingv1.PathTypePrefix ||
		*path.Backend.Service.Name != "acme" || *path.Backend.Service.Port.Name != "http" {
		t.Errorf("rule = %+v", rule)
	}
	if *got.Spec.IngressClassName != "nginx" || *got.Spec.TLS[0].SecretName != "acme-tls" || got.Spec.TLS[0].Hosts[0] != "acme.example.com" {
		t.Errorf("class/tls = %v %+v", got.Spec.IngressClassName, got.Spec.TLS)
	}
}

func TestURLAndImage(t *testing.T) {
	tests := []struct {
		name      string
		pbi       *pbv1alpha1.PocketBaseInstance
		def       string
		wantURL   string
		wantImage string
	}{
		{name: "service url and default image", pbi: instance(), def: "ghcr.io/pf/instance:v1",
			wantURL: "http://acme.team-a.svc:8090", wantImage: "ghcr.io/pf/instance:v1"},
		{name: "https ingress with path, version tag", def: "host:5000/pf/instance:v1",
			pbi: instance(func(p *pbv1alpha1.PocketBaseInstance) {
				p.Spec.Ingress = &pbv1alpha1.IngressSpec{Host: "a.example.com", TLSSecretName: ptr.To("t"), Path: "/pb/"}
				p.Spec.Version = ptr.To("v2.0.0")
			}),
			wantURL: "https://a.example.com/pb", wantImage: "host:5000/pf/instance:v2.0.0"},
		{name: "http ingress, explicit image, digest default", def: "ghcr.io/pf/instance@sha256:abc",
			pbi: instance(func(p *pbv1alpha1.PocketBaseInstance) {
				p.Spec.Ingress = &pbv1alpha1.IngressSpec{Host: "a.example.com", Path: "/"}
				p.Spec.Image = ptr.To("mine/pb:1")
			}),
			wantURL: "http://a.example.com", wantImage: "mine/pb:1"},
		{name: "version on a digest default", def: "ghcr.io/pf/instance@sha256:abc",
			pbi:     instance(func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.Version = ptr.To("v3") }),
			wantURL: "http://acme.team-a.svc:8090", wantImage: "ghcr.io/pf/instance:v3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := URL(tc.pbi); got != tc.wantURL {
				t.Errorf("URL() = %q, want %q", got, tc.wantURL)
			}
			if got := Image(tc.pbi, tc.def); got != tc.wantImage {
				t.Errorf("Image() = %q, want %q", got, tc.wantImage)
			}
		})
	}
}

func TestSuperuserSecret(t *testing.T) {
	got := SuperuserSecret(instance(), "s3cret-s3cret")
	if *got.Name != "acme-superuser" || string(got.Data["password"]) != "s3cret-s3cret" || string(got.Data["email"]) != "admin@pocketfleet.local" {
		t.Errorf("secret = %+v", got)
	}
	if diff := cmp.Diff([]metav1apply.OwnerReferenceApplyConfiguration{*wantOwner}, got.OwnerReferences); diff != "" {
		t.Errorf("owner (-want +got):\n%s", diff)
	}
}

func TestStatefulSetHibernationAndUpgradeTarget(t *testing.T) {
	in := StatefulSetInputs{Image: "reg/instance:v1"}
	if got := *StatefulSet(instance(), in).Spec.Replicas; got != 1 {
		t.Errorf("replicas = %d, want 1", got)
	}
	asleep := instance(func(p *pbv1alpha1.PocketBaseInstance) {
		p.Spec.Hibernation = &pbv1alpha1.HibernationSpec{Hibernated: true}
	})
	sts := StatefulSet(asleep, in)
	if got := *sts.Spec.Replicas; got != 0 {
		t.Errorf("hibernated replicas = %d, want 0", got)
	}
	if sts.Annotations != nil {
		t.Errorf("annotations = %v, want none without an upgrade", sts.Annotations)
	}
	in.UpgradeTarget = "reg/instance:v2"
	if got := StatefulSet(instance(), in).Annotations[AnnotationUpgradeTarget]; got != "reg/instance:v2" {
		t.Errorf("upgrade target annotation = %q", got)
	}
	if got := *StatefulSet(instance(), StatefulSetInputs{Image: "reg/instance:v1", Stopped: true}).Spec.Replicas; got != 0 {
		t.Errorf("stopped (restoring) replicas = %d, want 0", got)
	}
}

func TestNetworkPolicy(t *testing.T) {
	ingress := &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}}
	pods := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"nginx"}},
	}}
	got := NetworkPolicy(instance(), []NetworkPolicyPeer{{NamespaceSelector: ingress, PodSelector: pods}})
	want := wantNetworkPolicy()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NetworkPolicy() mismatch (-want +got):\n%s", diff)
	}
	deny := NetworkPolicy(instance(), []NetworkPolicyPeer{})
	if diff := cmp.Diff([]networkingapplyv1.NetworkPolicyIngressRuleApplyConfiguration{*backupJobsRule()}, deny.Spec.Ingress); diff != "" {
		t.Errorf("an empty allow list must deny all ingress but the backup Jobs' (-want +got):\n%s", diff)
	}
}

func TestBackupJob(t *testing.T) {
	pbi := instance(func(p *pbv1alpha1.PocketBaseInstance) { p.Spec.NodeSelector = map[string]string{"pool": "tenants"} })
	dest := pbv1alpha1.S3Destination{
		Endpoint: "http://s3.local:9000", Bucket: "backups", Region: "eu-1", ForcePathStyle: true,
		CredentialsSecretRef: pbv1alpha1.SecretReference{Name: "s3-creds"},
	}
	if got := BackupPrefix(pbi, dest); got != pbi.Namespace+"/"+pbi.Name+"/" {
		t.Fatalf("BackupPrefix() = %q, want namespace/name/", got)
	}
	dest.Prefix = ptr.To("custom/")
	if got := BackupPrefix(pbi, dest); got != "custom/" {
		t.Fatalf("BackupPrefix() = %q, want the spec's", got)
	}

	job := Job(pbi, JobInputs{
		Name: "acme-restore", Component: ComponentRestore,
		Owner: ControllerReference("PocketBaseRestore", "r1", "uid-1"),
		Image: "reg/instance:v1", Args: contract.BackupRestoreArgs(contract.DataDir, "custom/x.zip", false),
		S3: dest, Prefix: "custom/", MountData: true, ActiveDeadlineSeconds: 3600,
	})
	if *job.Spec.BackoffLimit != 0 || *job.Spec.ActiveDeadlineSeconds != 3600 {
		t.Fatalf("job spec = %+v, want one attempt bounded by the deadline", job.Spec)
	}
	if o := job.OwnerReferences[0]; *o.Kind != "PocketBaseRestore" || *o.UID != "uid-1" || !*o.Controller {
		t.Fatalf("owner = %+v, want the restore as controller", o)
	}
	pod := job.Spec.Template.Spec
	if *pod.RestartPolicy != corev1.RestartPolicyNever || *pod.AutomountServiceAccountToken || !*pod.SecurityContext.RunAsNonRoot {
		t.Fatalf("pod = %+v, want a non-root pod that never restarts and has no token", pod)
	}
	if pod.NodeSelector["pool"] != "tenants" {
		t.Fatalf("nodeSelector = %v, want the instance's", pod.NodeSelector)
	}
	c := pod.Containers[0]
	if !*c.SecurityContext.ReadOnlyRootFilesystem || *c.TerminationMessagePath != contract.TerminationMessagePath {
		t.Fatalf("container = %+v, want a read-only root and the termination message path", c)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.Value != nil:
			env[*e.Name] = *e.Value
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			env[*e.Name] = "secret:" + *e.ValueFrom.SecretKeyRef.Name + "/" + *e.ValueFrom.SecretKeyRef.Key
		}
	}
	want := map[string]string{
		contract.EnvS3Endpoint: "http://s3.local:9000", contract.EnvS3Bucket: "backups",
		contract.EnvS3Region: "eu-1", contract.EnvS3Prefix: "custom/", contract.EnvS3ForcePathStyle: "true",
		contract.EnvS3AccessKeyID:     "secret:s3-creds/accessKeyId",
		contract.EnvS3SecretAccessKey: "secret:s3-creds/secretAccessKey",
	}
	if !maps.Equal(env, want) {
		t.Fatalf("env = %v, want %v (no superuser for a restore)", env, want)
	}
	var mountsData bool
	for _, m := range c.VolumeMounts {
		mountsData = mountsData || *m.MountPath == contract.DataDir
	}
	if !mountsData {
		t.Fatal("a restore Job must mount the data volume")
	}

	push := Job(pbi, JobInputs{
		Name: "acme-backup", Component: ComponentBackup, Owner: ControllerReference("PocketBaseBackup", "b1", "uid-2"),
		Image: "reg/instance:v1", S3: dest, Prefix: "custom/", Superuser: &SuperuserEmail{FromSecret: true},
	})
	podLabels := labels.Set(push.Spec.Template.Labels)
	if backupPeer := NetworkPolicy(pbi, nil).Spec.Ingress[0].From[0].PodSelector.MatchLabels; !labels.SelectorFromSet(backupPeer).Matches(podLabels) {
		t.Fatalf("push pod labels = %v, want them to match %v (the NetworkPolicy's backup rule)", podLabels, backupPeer)
	}
	if svc := Service(pbi); labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
		t.Fatalf("push pod labels %v match the instance Service's selector %v", podLabels, svc.Spec.Selector)
	}
	if !labels.SelectorFromSet(Service(pbi).Spec.Selector).Matches(labels.Set(StatefulSet(pbi, StatefulSetInputs{}).Spec.Template.Labels)) {
		t.Fatal("the Service must select the instance pod")
	}
	var names []string
	for _, e := range push.Spec.Template.Spec.Containers[0].Env {
		names = append(names, *e.Name)
	}
	if !slices.Contains(names, contract.EnvSuperuserPassword) {
		t.Fatalf("push env = %v, want the superuser's password", names)
	}
	for _, m := range push.Spec.Template.Spec.Containers[0].VolumeMounts {
		if *m.MountPath == contract.DataDir {
			t.Fatal("a push Job must not mount the data volume, which the running pod holds")
		}
	}
}
