package specs

import (
	"maps"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsapplyv1 "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"

	pbv1alpha1 "github.com/pocketfleet/pocketfleet/api/v1alpha1"
	"github.com/pocketfleet/pocketfleet/instance/contract"
)

// ContainerName is the name of the instance container.
const ContainerName = "pocketbase"

const (
	dataVolumeName = "data"
	tmpVolumeName  = "tmp"
	tmpMountPath   = "/tmp"
)

// Default compute resources of the instance container when the spec names none.
var (
	DefaultCPURequest    = resource.MustParse("50m")
	DefaultMemoryRequest = resource.MustParse("64Mi")
	DefaultMemoryLimit   = resource.MustParse("512Mi")
)

// SuperuserEmail says where the instance reads its superuser email from: a key of the
// superuser Secret, or a literal value when the user's own Secret has no email key.
type SuperuserEmail struct {
	// FromSecret reads the email from the Secret's email key.
	FromSecret bool
	// Value is the literal email used when FromSecret is false.
	Value string
}

// StatefulSetInputs are the facts the StatefulSet depends on beyond the spec; the
// controller resolves them before building.
type StatefulSetInputs struct {
	// Image is the resolved instance image reference.
	Image string
	// SuperuserEmail says where the superuser email comes from.
	SuperuserEmail SuperuserEmail
	// SecretVersion is the resourceVersion of the superuser Secret.
	SecretVersion string
	// UpgradeTarget, when set, marks the StatefulSet as holding one of the operator's
	// upgrade slots while it rolls out this image.
	UpgradeTarget string
	// Stopped holds the StatefulSet at zero replicas although the instance is not
	// hibernated: a restore is writing to its data volume.
	Stopped bool
}

// StatefulSet is the single-replica StatefulSet running the instance.
func StatefulSet(pbi *pbv1alpha1.PocketBaseInstance, in StatefulSetInputs) *appsapplyv1.StatefulSetApplyConfiguration {
	podLabels := maps.Clone(pbi.Spec.PodLabels)
	if podLabels == nil {
		podLabels = map[string]string{}
	}
	maps.Copy(podLabels, Labels(pbi, ComponentInstance))

	podAnnotations := maps.Clone(pbi.Spec.PodAnnotations)
	if podAnnotations == nil {
		podAnnotations = map[string]string{}
	}
	podAnnotations[AnnotationSuperuserSecretVersion] = in.SecretVersion

	pod := corev1apply.PodSpec().
		WithAutomountServiceAccountToken(false).
		WithEnableServiceLinks(false).
		WithTerminationGracePeriodSeconds(30).
		WithSecurityContext(podSecurityContext()).
		WithContainers(container(pbi, in)).
		WithVolumes(
			corev1apply.Volume().WithName(dataVolumeName).
				WithPersistentVolumeClaim(corev1apply.PersistentVolumeClaimVolumeSource().
					WithClaimName(pbi.DataVolumeClaimName())),
			corev1apply.Volume().WithName(tmpVolumeName).
				WithEmptyDir(corev1apply.EmptyDirVolumeSource()))
	placement(pod, pbi)
	if pbi.Spec.ServiceAccountName != nil {
		pod.WithServiceAccountName(*pbi.Spec.ServiceAccountName)
	}
	if pbi.Spec.PriorityClassName != nil {
		pod.WithPriorityClassName(*pbi.Spec.PriorityClassName)
	}

	// note: one replica at most, always. SQLite allows one writer, and a StatefulSet
	// creates the replacement pod only after the old one is gone. Hibernation and
	// restores are zero.
	replicas := int32(1)
	if pbi.Hibernated() || in.Stopped {
		replicas = 0
	}
	sts := appsapplyv1.StatefulSet(pbi.ChildName(), pbi.Namespace).
		WithLabels(Labels(pbi, ComponentInstance)).
		WithOwnerReferences(ownerReference(pbi))
	if in.UpgradeTarget != "" {
		sts.WithAnnotations(map[string]string{AnnotationUpgradeTarget: in.UpgradeTarget})
	}
	return sts.
		WithSpec(appsapplyv1.StatefulSetSpec().
			WithReplicas(replicas).
			WithServiceName(pbi.ChildName()).
			WithPodManagementPolicy(appsv1.OrderedReadyPodManagement).
			WithUpdateStrategy(appsapplyv1.StatefulSetUpdateStrategy().
				WithType(appsv1.RollingUpdateStatefulSetStrategyType)).
			WithRevisionHistoryLimit(5).
			WithSelector(metav1LabelSelector(SelectorLabels(pbi))).
			WithTemplate(corev1apply.PodTemplateSpec().
				WithLabels(podLabels).
				WithAnnotations(podAnnotations).
				WithSpec(pod)))
}

func container(pbi *pbv1alpha1.PocketBaseInstance, in StatefulSetInputs) *corev1apply.ContainerApplyConfiguration {
	probe := func(period, failures int32) *corev1apply.ProbeApplyConfiguration {
		return corev1apply.Probe().
			WithHTTPGet(corev1apply.HTTPGetAction().
				WithPath(contract.HealthPath).
				WithPort(intstr.FromString(contract.HTTPPortName))).
			WithPeriodSeconds(period).
			WithTimeoutSeconds(3).
			WithFailureThreshold(failures)
	}
	c := corev1apply.Container().
		WithName(ContainerName).
		WithImage(in.Image).
		WithCommand(contract.BinaryPath).
		WithArgs(contract.ServeArgs(
			"0.0.0.0:"+itoa(contract.HTTPPort), contract.DataDir)...).
		// Prometheus metrics on their own port, which the Service and Ingress never expose.
		WithArgs(contract.FlagMetricsHTTP, "0.0.0.0:"+itoa(contract.MetricsPort)).
		WithPorts(corev1apply.ContainerPort().
			WithName(contract.HTTPPortName).
			WithContainerPort(contract.HTTPPort).
			WithProtocol(corev1.ProtocolTCP),
			corev1apply.ContainerPort().
				WithName(contract.MetricsPortName).
				WithContainerPort(contract.MetricsPort).
				WithProtocol(corev1.ProtocolTCP)).
		WithEnv(superuserEnv(pbi, in.SuperuserEmail)...).
		WithEnv(envVars(pbi.Spec.Env)...).
		WithResources(resources(pbi.Spec.Resources)).
		// A fresh instance or a large migration may take a while; allow two minutes.
		WithStartupProbe(probe(2, 60)).
		WithReadinessProbe(probe(5, 3)).
		WithLivenessProbe(probe(10, 6)).
		WithVolumeMounts(
			corev1apply.VolumeMount().WithName(dataVolumeName).WithMountPath(contract.DataDir),
			corev1apply.VolumeMount().WithName(tmpVolumeName).WithMountPath(tmpMountPath)).
		WithSecurityContext(containerSecurityContext())
	if pbi.Spec.ImagePullPolicy != nil {
		c.WithImagePullPolicy(*pbi.Spec.ImagePullPolicy)
	}
	return c
}

// podSecurityContext is the Pod Security "restricted" context of every pod the operator
// runs: non-root with the image's numeric user, the volume group-owned by it, the
// runtime's default seccomp profile.
func podSecurityContext() *corev1apply.PodSecurityContextApplyConfiguration {
	return corev1apply.PodSecurityContext().
		WithRunAsNonRoot(true).
		WithRunAsUser(contract.RunAsUser).
		WithRunAsGroup(contract.RunAsGroup).
		WithFSGroup(contract.RunAsGroup).
		WithFSGroupChangePolicy(corev1.FSGroupChangeOnRootMismatch).
		WithSeccompProfile(corev1apply.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))
}

// containerSecurityContext is the restricted context of every container: no privilege
// escalation, no capabilities, a read-only root file system.
func containerSecurityContext() *corev1apply.SecurityContextApplyConfiguration {
	return corev1apply.SecurityContext().
		WithAllowPrivilegeEscalation(false).
		WithReadOnlyRootFilesystem(true).
		WithRunAsNonRoot(true).
		WithCapabilities(corev1apply.Capabilities().WithDrop(corev1.Capability("ALL")))
}

// placement puts a pod where the instance's spec says its pods go.
func placement(pod *corev1apply.PodSpecApplyConfiguration, pbi *pbv1alpha1.PocketBaseInstance) {
	if len(pbi.Spec.NodeSelector) > 0 {
		pod.WithNodeSelector(pbi.Spec.NodeSelector)
	}
	for i := range pbi.Spec.Tolerations {
		pod.WithTolerations(toleration(&pbi.Spec.Tolerations[i]))
	}
	if pbi.Spec.Affinity != nil {
		pod.WithAffinity(affinity(pbi.Spec.Affinity))
	}
}

func superuserEnv(pbi *pbv1alpha1.PocketBaseInstance, email SuperuserEmail) []*corev1apply.EnvVarApplyConfiguration {
	fromSecret := func(key string) *corev1apply.EnvVarSourceApplyConfiguration {
		return corev1apply.EnvVarSource().WithSecretKeyRef(corev1apply.SecretKeySelector().
			WithName(pbi.SuperuserSecretName()).
			WithKey(key))
	}
	emailVar := corev1apply.EnvVar().WithName(contract.EnvSuperuserEmail)
	if email.FromSecret {
		emailVar.WithValueFrom(fromSecret(contract.SecretKeyEmail))
	} else {
		emailVar.WithValue(email.Value)
	}
	return []*corev1apply.EnvVarApplyConfiguration{
		emailVar,
		corev1apply.EnvVar().WithName(contract.EnvSuperuserPassword).
			WithValueFrom(fromSecret(contract.SecretKeyPassword)),
	}
}

func resources(r *corev1.ResourceRequirements) *corev1apply.ResourceRequirementsApplyConfiguration {
	if r == nil {
		return corev1apply.ResourceRequirements().
			WithRequests(corev1.ResourceList{
				corev1.ResourceCPU:    DefaultCPURequest,
				corev1.ResourceMemory: DefaultMemoryRequest,
			}).
			WithLimits(corev1.ResourceList{corev1.ResourceMemory: DefaultMemoryLimit})
	}
	out := corev1apply.ResourceRequirements()
	if len(r.Requests) > 0 {
		out.WithRequests(r.Requests)
	}
	if len(r.Limits) > 0 {
		out.WithLimits(r.Limits)
	}
	return out
}

func itoa(i int32) string {
	return strconv.Itoa(int(i))
}
